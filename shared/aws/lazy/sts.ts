// Only what the code uses, loaded only by targets with a `roleArn` (a lazily loaded chunk).
export { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
