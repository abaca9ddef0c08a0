// Only what the code uses, so that `await import()` of this module (a lazily loaded chunk) keeps
// the SDK's tree-shaking. For the stages that use SQS only on rare paths (enrich's quarantine,
// deliver's dead letters and retries): see shared/aws/dead-letters.ts.
export { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
export { sendDeadLetter, sendJobs } from '../queues.ts';
