import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { relate, type FindingSnapshot, type FindingStateStore, type StoredState } from '../state/finding-state.ts';

/**
 * The high-water mark in DynamoDB (FindingStateTable, key `findingKey`). One conditional
 * UpdateItem moves the mark only forward; concurrent updates of one finding serialise on
 * it, and the losing writer learns the winner's mark from the failed condition.
 */
const RETENTION_SECONDS = 120 * 24 * 3600; // GuardDuty keeps findings 90 days

const dynamoFindingState = (client: DynamoDBClient, tableName: string): FindingStateStore => {
  const documents = DynamoDBDocumentClient.from(client);
  return {
    advance: async (key, snapshot) => {
      try {
        const { Attributes } = await documents.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { findingKey: key },
            UpdateExpression: 'SET #mark = :mark, #prior = if_not_exists(#mark, :none), #expires = :expires',
            ConditionExpression:
              'attribute_not_exists(#mark) OR #mark.#u < :u OR (#mark.#u = :u AND #mark.#c < :c)',
            ExpressionAttributeNames: { '#mark': 'mark', '#prior': 'prior', '#u': 'updatedAtMs', '#c': 'count', '#expires': 'expiresAt' },
            ExpressionAttributeValues: {
              ':mark': snapshot,
              ':none': null,
              ':u': snapshot.updatedAtMs,
              ':c': snapshot.count,
              ':expires': Math.floor(Date.now() / 1000) + RETENTION_SECONDS,
            },
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return relate(fromItem(Attributes), snapshot);
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
          // The losing write learns the winner's mark from the failed condition (or reads it).
          const item = (error as ConditionalCheckFailedException).Item;
          const stored = item
            ? fromItem(unmarshallLoose(item))
            : fromItem((await documents.send(new GetCommand({ TableName: tableName, Key: { findingKey: key }, ConsistentRead: true }))).Item);
          if (stored === undefined) throw new Error(`finding state for ${key} vanished during a conditional write`, { cause: error });
          return relate(stored, snapshot);
        }
        throw error;
      }
    },
    markNotified: async (key, atMs) => {
      await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { findingKey: key },
          UpdateExpression: 'SET #n = :n',
          ConditionExpression: 'attribute_exists(#mark) AND (attribute_not_exists(#n) OR #n < :n)',
          ExpressionAttributeNames: { '#n': 'lastNotifiedAtMs', '#mark': 'mark' },
          ExpressionAttributeValues: { ':n': atMs },
        }),
      ).catch((error: Error) => {
        if (error.name !== 'ConditionalCheckFailedException') throw error;
      });
    },
  };
};

const fromItem = (item: Record<string, unknown> | undefined): StoredState | undefined => {
  if (!item || typeof item.mark !== 'object' || item.mark === null) return undefined;
  return {
    mark: item.mark as FindingSnapshot,
    ...(item.prior && typeof item.prior === 'object' ? { prior: item.prior as FindingSnapshot } : {}),
    ...(typeof item.lastNotifiedAtMs === 'number' ? { lastNotifiedAtMs: item.lastNotifiedAtMs } : {}),
  };
};

/** The failed-condition item comes back in raw AttributeValue form. */
const unmarshallLoose = (item: Record<string, unknown>): Record<string, unknown> => {
  const convert = (value: any): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if ('N' in value) return Number(value.N);
    if ('S' in value) return value.S;
    if ('BOOL' in value) return value.BOOL;
    if ('NULL' in value) return null;
    if ('M' in value) return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, convert(v)]));
    if ('L' in value) return value.L.map(convert);
    return value;
  };
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, convert(v)]));
};

export { dynamoFindingState };
