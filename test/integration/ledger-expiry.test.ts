import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoLedger } from '../../shared/aws/dynamo-ledger.ts';
import { startDynalite } from '../helpers/dynalite.ts';

/**
 * Ledger items share FindingStateTable, whose TTL attribute is `expiresAt` (serverless.yml): each
 * write sets it, so remote-record mappings leave the table a year after their last write.
 */
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
const YEAR_SECONDS = 365 * 24 * 3600;

beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createTable('state', 'findingKey');
});
afterAll(async () => dynamo?.close());

const expiresAtOf = async (key: string): Promise<number> => {
  const { Item } = await dynamo.client.send(new GetItemCommand({ TableName: 'state', Key: { findingKey: { S: `ledger#${key}` } }, ConsistentRead: true }));
  return Number(Item?.expiresAt?.N);
};

describe('ledger items expire (DynamoDB TTL on expiresAt)', () => {
  it.each(['putIfAbsent', 'set'] as const)('%s writes expiresAt a year ahead, in epoch seconds', async (write) => {
    // Prepare
    const ledger = dynamoLedger(dynamo.client, 'state');
    const before = Math.floor(Date.now() / 1000);
    // Act
    await ledger[write](`jira#${write}`, 'SEC-1');
    // Assess
    const after = Math.floor(Date.now() / 1000);
    const expiresAt = await expiresAtOf(`jira#${write}`);
    expect(expiresAt).toBeGreaterThanOrEqual(before + YEAR_SECONDS);
    expect(expiresAt).toBeLessThanOrEqual(after + YEAR_SECONDS);
    expect(await ledger.get(`jira#${write}`)).toBe('SEC-1');
  });
});
