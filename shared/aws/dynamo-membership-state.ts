import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MembershipStateStore } from '../members/watch.ts';

/**
 * The membership watcher's last status per account, in the FindingStateTable under
 * `membership#<accountId>`: a conditional claim (two overlapping runs cannot both fire), a
 * confirmation once the event is published, a re-arm when the account is monitored again.
 * An unconfirmed claim older than CLAIM_STALE_MS is taken over by a later run.
 */
const CLAIM_STALE_MS = 5 * 60_000;

const stateKey = (accountId: string): string => `membership#${accountId}`;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException';

const dynamoMembershipState = (client: DynamoDBClient, tableName: string): MembershipStateStore => {
  const documents = DynamoDBDocumentClient.from(client);
  return {
    get: async (accountId) => {
      const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { findingKey: stateKey(accountId) }, ConsistentRead: true }));
      if (Item === undefined || typeof Item.status !== 'string') return undefined;
      return { status: Item.status, alerted: Item.alerted === true, ...(typeof Item.claimedAtMs === 'number' ? { claimedAtMs: Item.claimedAtMs } : {}) };
    },
    claim: async (accountId, status, previous, nowMs) => {
      try {
        await documents.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              findingKey: stateKey(accountId),
              kind: 'membership',
              accountId,
              status,
              alerted: false,
              claimedAtMs: nowMs,
              ...(previous === undefined ? {} : { previousStatus: previous }),
              changedAt: new Date(nowMs).toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(findingKey) OR #s <> :s OR (#a = :false AND #c < :stale)',
            ExpressionAttributeNames: { '#s': 'status', '#a': 'alerted', '#c': 'claimedAtMs' },
            ExpressionAttributeValues: { ':s': status, ':false': false, ':stale': nowMs - CLAIM_STALE_MS },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
    confirm: async (accountId, status, nowMs) => {
      await documents
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: { findingKey: stateKey(accountId) },
            UpdateExpression: 'SET #a = :true, #at = :at',
            ConditionExpression: '#s = :s',
            ExpressionAttributeNames: { '#a': 'alerted', '#at': 'alertedAt', '#s': 'status' },
            ExpressionAttributeValues: { ':true': true, ':at': new Date(nowMs).toISOString(), ':s': status },
          }),
        )
        .catch((error: unknown) => {
          if (!isConditionFailure(error)) throw error;
        });
    },
    rearm: async (accountId, status, nowMs) => {
      await documents
        .send(
          new PutCommand({
            TableName: tableName,
            Item: { findingKey: stateKey(accountId), kind: 'membership', accountId, status, alerted: false, changedAt: new Date(nowMs).toISOString() },
            ConditionExpression: 'attribute_not_exists(findingKey) OR #s <> :s',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':s': status },
          }),
        )
        .catch((error: unknown) => {
          if (!isConditionFailure(error)) throw error;
        });
    },
  };
};

export { dynamoMembershipState };
