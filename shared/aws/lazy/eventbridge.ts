// Only what the code uses, so that `await import()` of this module (a lazily loaded chunk) keeps
// the SDK's tree-shaking: a dynamic import of the package itself would pull in every command.
export { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
