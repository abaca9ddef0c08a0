import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compileRoutesConfig } from '../../shared/config/compile.ts';
import { parseYamlSource } from '../../shared/config/yaml-source.ts';
import { dynamoSuppressionReader, dynamoSuppressionStore } from '../../shared/aws/dynamo-suppressions.ts';
import { suppressionFromFinding, type RuntimeSuppression, type SuppressionStore } from '../../shared/suppressions/model.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { runBinAgainstDynamo } from '../helpers/run-bin.ts';
import { makeFinding } from '../helpers/finding-factory.ts';

/**
 * The DynamoDB store and `findings-router suppressions` against dynalite (the DynamoDB wire
 * protocol): what the action engine writes, the route stage lists and an operator lists, shows,
 * removes and exports. Bad rows (written by hand in the console, or by an older version) are
 * reported and skipped without stopping the others.
 */
const NOW = Date.now();
const ANALYST = { platform: 'slack' as const, id: 'U123ABC', name: 'Ada' };
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let store: SuppressionStore;
let table: string;
let tables = 0;

const make = (instanceId: string, days = 7, now = NOW): RuntimeSuppression =>
  suppressionFromFinding(makeFinding({ resource: { resourceType: 'Instance', instanceDetails: { instanceId } } }), { reason: `noise on ${instanceId}`, days, actor: ANALYST, now, maxDays: 30 });

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});
beforeEach(async () => {
  table = `suppressions-${++tables}`;
  await dynamo.createTable(table, 'id');
  store = dynamoSuppressionStore(dynamo.client, table);
});

const run = (args: string[]) => runBinAgainstDynamo(args, { endpoint: dynamo.endpoint, home: mkdtempSync(join(tmpdir(), 'suppressions-home-')) });

/** A raw item, as someone might write it in the console. */
const putRaw = (item: Record<string, unknown>) => dynamo.client.send(new PutItemCommand({ TableName: table, Item: item as never }));

describe('Store: dynamoSuppressionStore over dynalite', () => {
  it('puts, gets, lists and removes; a second put of the same conditions replaces the first', async () => {
    // Prepare
    const first = make('i-1');
    // Act
    await store.put(first);
    await store.put({ ...first, reason: 'renewed by Bo', createdBy: { platform: 'teams', id: 'aad-9' } });
    await store.put(make('i-2'));
    const got = await store.get(first.id);
    const listed = await dynamoSuppressionReader(dynamo.client, table).list();
    const removed = await store.remove(first.id);
    const unknown = await store.remove('0123456789abcdef');
    const after = await store.list();
    // Assess
    expect(got).toEqual({ ...first, reason: 'renewed by Bo', createdBy: { platform: 'teams', id: 'aad-9' } });
    expect(listed.suppressions.map((s) => s.conditions.resourceId).sort()).toEqual(['i-1', 'i-2']);
    expect(listed.bad).toEqual([]);
    expect(removed).toBe(true);
    expect(unknown).toBe(false);
    expect(after.suppressions.map((s) => s.conditions.resourceId)).toEqual(['i-2']);
  });

  it('writes the TTL attribute a week after the expiry', async () => {
    // Prepare
    const s = make('i-ttl');
    // Act
    await store.put(s);
    const { Items } = await dynamo.client.send(new (await import('@aws-sdk/client-dynamodb')).ScanCommand({ TableName: table }));
    // Assess
    expect(Number(Items![0]!.expiresAtEpoch!.N)).toBe(Math.floor(Date.parse(s.expiresAt) / 1000) + 7 * 24 * 3600);
  });

  it('reports malformed rows and still lists the good ones, across pages', async () => {
    // Prepare
    for (let i = 0; i < 205; i++) await store.put(make(`i-${i}`));
    await putRaw({ id: { S: 'hand-made' }, reason: { S: 'typed in the console' } });
    await putRaw({ id: { S: 'z'.repeat(100) }, conditions: { S: 'not a map' } });
    const good = make('i-bad-date');
    await putRaw({
      id: { S: good.id },
      conditions: { M: { type: { S: good.conditions.type }, accountId: { S: good.conditions.accountId }, resourceType: { S: 'Instance' }, resourceId: { S: 'i-bad-date' } } },
      reason: { S: 'ok reason' },
      createdBy: { M: { platform: { S: 'slack' }, id: { S: 'U1' } } },
      createdAt: { S: good.createdAt },
      expiresAt: { S: 'next tuesday' },
      sourceFindingId: { S: 'f1' },
    });
    // Act
    const listing = await store.list();
    // Assess
    expect(listing.suppressions).toHaveLength(205);
    expect(listing.bad).toHaveLength(3);
    const byWhere = Object.fromEntries(listing.bad.map((b) => [b.where, b.reason]));
    expect(byWhere[`table ${table} id "hand-made"`]).toContain('id must be 16 lowercase hex digits');
    expect(byWhere[`table ${table} id "${good.id}"`]).toContain('expiresAt');
    // An untrusted id is cut to 40 characters where it is named.
    expect(byWhere[`table ${table} id "${'z'.repeat(40)}"`]).toContain('conditions');
  });

  it('get names a malformed row in one line', async () => {
    // Prepare
    await putRaw({ id: { S: '0123456789abcdef' }, reason: { S: 'half a row' } });
    // Act
    const attempt = store.get('0123456789abcdef');
    // Assess
    await expect(attempt).rejects.toThrow(new RegExp(`^suppression 0123456789abcdef in table ${table} is malformed: `));
  });
});

describe('Command: findings-router suppressions (DynamoDB)', () => {
  it('lists, shows, exports (YAML the config loader accepts) and removes', async () => {
    // Prepare
    const active = make('i-active');
    const expired = make('i-expired', 1, NOW - 3 * 86_400_000);
    await store.put(active);
    await store.put(expired);
    // Act
    const list = await run(['suppressions', 'list', '--table', table]);
    const json = await run(['suppressions', 'list', '--table', table, '--json']);
    const show = await run(['suppressions', 'show', `runtime:${active.id}`, '--table', table]);
    const exported = await run(['suppressions', 'export', '--table', table]);
    const remove = await run(['suppressions', 'remove', active.id, '--table', table]);
    const after = await store.list();
    // Assess
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${active.id}  until ${active.expiresAt}  UnauthorizedAccess:EC2/SSHBruteForce  111111111111  i-active  by slack:U123ABC (Ada): noise on i-active`);
    expect(list.stdout).toContain(`${expired.id}  expired ${expired.expiresAt}`);
    expect(json.stdout.trim().split('\n').map((line) => JSON.parse(line).id).sort()).toEqual([active.id, expired.id].sort());
    expect(show.stdout).toContain('status:       active');
    expect(show.stdout).toContain('resource:     Instance i-active');
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('exported 1 suppression(s)');
    expect(exported.stderr).toContain('1 expired left out');
    const config = compileRoutesConfig(parseYamlSource(`targets:\n  c: { type: console }\ndefault: { targets: [c] }\n${exported.stdout}`, 'routes.yml'));
    expect(config.suppressions.map((s) => s.name)).toEqual([`runtime-${active.id}`]);
    expect(remove.code).toBe(0);
    expect(remove.stdout).toContain(`removed runtime:${active.id}`);
    expect(after.suppressions.map((s) => s.id)).toEqual([expired.id]);
  });

  it('remove of an unknown id says so in one line (exit 1); a malformed id is a usage error (exit 2)', async () => {
    // Act
    const unknown = await run(['suppressions', 'remove', '0123456789abcdef', '--table', table]);
    const malformed = await run(['suppressions', 'remove', 'not-an-id', '--table', table]);
    // Assess
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`findings-router suppressions remove: no suppression 0123456789abcdef in table ${table} (suppressions list shows the ids)\n`);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr.trim().split('\n')).toHaveLength(1);
    expect(malformed.stderr).toContain("'not-an-id' is not a suppression id");
  });

  it('list reports a bad row on standard error and still lists the others', async () => {
    // Prepare
    await store.put(make('i-fine'));
    await putRaw({ id: { S: 'typo' }, reason: { S: 'x' } });
    // Act
    const list = await run(['suppressions', 'list', '--table', table]);
    // Assess
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('i-fine');
    expect(list.stderr).toMatch(/^warning: table suppressions-\d+: table suppressions-\d+ id "typo": skipped, not a valid runtime suppression: /);
  });

  it('show of a malformed row says so in one line (exit 1)', async () => {
    // Prepare
    await putRaw({ id: { S: '0123456789abcdef' }, reason: { S: 'x' } });
    // Act
    const show = await run(['suppressions', 'show', '0123456789abcdef', '--table', table]);
    // Assess
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(new RegExp(`^findings-router suppressions show: suppression 0123456789abcdef in table ${table} is malformed: [^\\n]+\\n$`));
  });

  it('asks for a source when given none', async () => {
    // Act
    const result = await run(['suppressions', 'list']);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('findings-router suppressions list: give --table NAME (the stack output SuppressionsTableName) or --file FILE\n');
  });
});
