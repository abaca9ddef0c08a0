import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ActionStore } from '../actions/store.ts';

/**
 * The actions endpoint's keys in the idempotency table (partition key `id`, TTL attribute
 * `expiration`), all under `actions#`: the table already holds short-lived keys with a TTL,
 * and the function's role may touch only keys with that prefix (dynamodb:LeadingKeys in
 * serverless.yml), so it can neither read nor clobber the deliver function's records.
 */
const PREFIX = 'actions#';

const dynamoActionStore = (client: DynamoDBClient, tableName: string, now: () => number = Date.now): ActionStore => {
  const expiration = (ttlSeconds: number) => ({ N: String(Math.floor(now() / 1000) + ttlSeconds) });
  return {
    claim: async (key, ttlSeconds) => {
      try {
        // An item past its expiry may still be there (TTL deletes lazily): it does not hold the key.
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: { id: { S: PREFIX + key }, expiration: expiration(ttlSeconds) },
            ConditionExpression: 'attribute_not_exists(id) OR expiration < :now',
            ExpressionAttributeValues: { ':now': { N: String(Math.floor(now() / 1000)) } },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
    release: async (key) => {
      await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: PREFIX + key } } }));
    },
    increment: async (key, ttlSeconds) => {
      const { Attributes } = await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: PREFIX + key } },
          UpdateExpression: 'ADD hits :one SET expiration = if_not_exists(expiration, :expiration)',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':expiration': expiration(ttlSeconds) },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.hits?.N ?? '1');
    },
  };
};

export { dynamoActionStore };
