import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Ledger } from '../targets/ledger.ts';

/**
 * The target ledger in DynamoDB (FindingStateTable, partition key `findingKey`). The
 * conditional put makes two concurrent first deliveries agree on one remote record.
 */
/** TTL attribute (the table's TimeToLiveSpecification): a remote record outlives the finding's 90 days by far, but not forever. */
const LEDGER_RETENTION_SECONDS = 365 * 24 * 3600;
const expiresAt = (): number => Math.floor(Date.now() / 1000) + LEDGER_RETENTION_SECONDS;

const dynamoLedger = (client: DynamoDBClient, tableName: string): Ledger => {
  const documents = DynamoDBDocumentClient.from(client);
  const get = async (key: string) => {
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { findingKey: `ledger#${key}` }, ConsistentRead: true }));
    return typeof Item?.value === 'string' ? Item.value : undefined;
  };
  return {
    get,
    putIfAbsent: async (key, value) => {
      try {
        await documents.send(
          new PutCommand({ TableName: tableName, Item: { findingKey: `ledger#${key}`, value, expiresAt: expiresAt() }, ConditionExpression: 'attribute_not_exists(findingKey)' }),
        );
        return value;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
          return (await get(key)) ?? value;
        }
        throw error;
      }
    },
    set: async (key, value) => {
      await documents.send(new PutCommand({ TableName: tableName, Item: { findingKey: `ledger#${key}`, value, expiresAt: expiresAt() } }));
    },
  };
};

export { dynamoLedger };
