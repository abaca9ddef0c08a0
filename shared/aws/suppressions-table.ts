import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SuppressionStore } from '../suppressions/model.ts';
import { dynamoSuppressionStore } from './dynamo-suppressions.ts';

/** The suppressions table as the CLI opens it (--suppressions-table NAME [--region R]). */
const suppressionsTable = (region: string | undefined, tableName: string): SuppressionStore =>
  dynamoSuppressionStore(new DynamoDBClient(region ? { region } : {}), tableName);

export { suppressionsTable };
