// Only what the actions engine calls, so the `await import()` of this module (a lazily loaded
// chunk: the Function URL half never needs it) keeps the SDK's tree-shaking.
export { ArchiveFindingsCommand, GetFindingsCommand, GuardDutyClient, ListDetectorsCommand, UpdateFindingsFeedbackCommand } from '@aws-sdk/client-guardduty';
