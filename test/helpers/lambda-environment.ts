import { join } from 'node:path';
import type { AwsLoopback } from './aws-loopback.ts';

/**
 * The environment the deployed functions get from serverless.yml, pointed at the test
 * loopbacks (SQS/EventBridge, dynalite) and at routes.yml/accounts.yml in `configDir`.
 * Tests add what is special to them (secrets, SSM) on top.
 */
const lambdaEnvironment = (aws: AwsLoopback, dynamoEndpoint: string, configDir: string): Record<string, string> => ({
  AWS_ENDPOINT_URL: aws.endpoint,
  AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
  AWS_ACCESS_KEY_ID: aws.clientConfig.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: aws.clientConfig.credentials.secretAccessKey,
  AWS_REGION: 'us-east-1',
  AWS_MAX_ATTEMPTS: '1',
  EVENT_BUS_NAME: 'findings-router-bus',
  QUARANTINE_QUEUE_URL: aws.queueUrl('quarantine'),
  DELIVERY_QUEUE_URL: aws.queueUrl('delivery'),
  DELIVERY_DLQ_URL: aws.queueUrl('delivery-dlq'),
  DIGEST_QUEUE_URL: aws.queueUrl('digest'),
  STATE_TABLE: 'state',
  IDEMPOTENCY_TABLE: 'idempotency',
  AWS_LAMBDA_FUNCTION_NAME: 'findings-router-deliver',
  ROUTES_FILE: join(configDir, 'routes.yml'),
  ACCOUNTS_FILE: join(configDir, 'accounts.yml'),
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});

export { lambdaEnvironment };
