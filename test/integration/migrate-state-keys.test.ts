import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoFindingState } from '../../shared/aws/dynamo-finding-state.ts';
import { dynamoLedger } from '../../shared/aws/dynamo-ledger.ts';
import { currentKeyFor, migrateStateKeys } from '../../shared/aws/migrate-state-keys.ts';
import { findingStateKey } from '../../shared/state/finding-state.ts';
import { ledgerKey } from '../../shared/targets/ledger.ts';
import { startDynalite } from '../helpers/dynalite.ts';

/** Items as the versions before the composed keys wrote them, against dynalite. */
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createTable('state', 'findingKey');
});
afterAll(async () => dynamo?.close());

const finding = { accountId: '111111111111', region: 'eu-west-1', id: 'f#1\nwith separators' };
const mark = { updatedAtMs: Date.UTC(2026, 10, 1), count: 3, severity: 5 };

describe('Upgrade: finding-state and ledger items move to the composed keys', () => {
  it('maps legacy keys to the keys the current version reads, and leaves current keys alone', () => {
    // Act / Assess
    expect(currentKeyFor(`finding#111111111111#eu-west-1#${finding.id}`)).toBe(findingStateKey(finding));
    expect(currentKeyFor(`ledger#soc-jira#111111111111#eu-west-1#${finding.id}`)).toBe(`ledger#${ledgerKey('soc-jira', finding)}`);
    expect(currentKeyFor(findingStateKey(finding))).toBeUndefined();
    expect(currentKeyFor(`ledger#${ledgerKey('soc-jira', finding)}`)).toBeUndefined();
  });

  it('lets the new version find the ticket and the high-water mark written before, without clobbering newer items', async () => {
    // Prepare
    const documents = DynamoDBDocumentClient.from(dynamo.client);
    const put = (Item: Record<string, unknown>) => documents.send(new PutCommand({ TableName: 'state', Item }));
    await put({ findingKey: `ledger#soc-jira#111111111111#eu-west-1#${finding.id}`, value: '{"key":"SEC-7","severity":5,"count":3}' });
    await put({ findingKey: `finding#111111111111#eu-west-1#${finding.id}`, mark, prior: null, expiresAt: 2_000_000_000, lastNotifiedAtMs: 5 });
    await put({ findingKey: `ledger#soc-snow#111111111111#eu-west-1#${finding.id}`, value: 'old' });
    await put({ findingKey: `ledger#${ledgerKey('soc-snow', finding)}`, value: 'written by the new version' });
    // Act
    const dry = await migrateStateKeys(dynamo.client, 'state', { dryRun: true });
    const first = await migrateStateKeys(dynamo.client, 'state', { deleteLegacy: true });
    const again = await migrateStateKeys(dynamo.client, 'state');
    // Assess
    expect(dry).toEqual({ scanned: 4, copied: 3, kept: 0, deleted: 0 });
    expect(first).toEqual({ scanned: 4, copied: 2, kept: 1, deleted: 3 });
    expect(again).toEqual({ scanned: 3, copied: 0, kept: 0, deleted: 0 });
    const ledger = dynamoLedger(dynamo.client, 'state');
    expect(await ledger.get(ledgerKey('soc-jira', finding))).toBe('{"key":"SEC-7","severity":5,"count":3}');
    expect(await ledger.get(ledgerKey('soc-snow', finding))).toBe('written by the new version');
    expect(await dynamoFindingState(dynamo.client, 'state').advance(findingStateKey(finding), mark)).toEqual({ relation: 'same', lastNotifiedAtMs: 5 });
    const legacy = await documents.send(new GetCommand({ TableName: 'state', Key: { findingKey: `finding#111111111111#eu-west-1#${finding.id}` } }));
    expect(legacy.Item).toBeUndefined();
  });
});
