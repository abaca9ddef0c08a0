import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoSuppressionStore } from '../../shared/aws/dynamo-suppressions.ts';
import { suppressionFromFinding, type RuntimeSuppression } from '../../shared/suppressions/model.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { runBinAgainstDynamo } from '../helpers/run-bin.ts';
import { makeFinding } from '../helpers/finding-factory.ts';

/**
 * Runtime suppressions in the local commands: replay (--suppressions FILE or
 * --suppressions-table NAME; the JSON record, the summary and the report name runtime:<id>),
 * routes test (which suppression matched, runtime or YAML), config check (expired runtime
 * suppressions and bad rows as warnings). The file is what `suppressions list --json` prints.
 */
const DAY = 86_400_000;
const NOW = Date.now();
const ANALYST = { platform: 'slack' as const, id: 'U123ABC', name: 'Ada' };
let dir: string;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;

const suppressed = makeFinding({ id: 'suppressed-finding', resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-noisy' } } });
const other = makeFinding({ id: 'other-finding', resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-quiet' } } });
const active: RuntimeSuppression = suppressionFromFinding(suppressed, { reason: 'Known scanner', days: 7, actor: ANALYST, now: NOW, maxDays: 30 });
const expired: RuntimeSuppression = suppressionFromFinding(other, { reason: 'Was noisy last month', days: 1, actor: ANALYST, now: NOW - 10 * DAY, maxDays: 30 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'suppressions-cli-'));
  writeFileSync(join(dir, 'routes.yml'), `targets:\n  chat: { type: console }\n  siem: { type: file, path: ${JSON.stringify(join(dir, 'siem.ndjson'))}, audit: true }\ndefault: { targets: [chat, siem] }\n`);
  writeFileSync(join(dir, 'accounts.yml'), 'accounts:\n  "111111111111": { name: payments-prod }\n');
  writeFileSync(join(dir, 'suppressed.json'), JSON.stringify(suppressed));
  writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
  writeFileSync(join(dir, 'suppressions.jsonl'), `${JSON.stringify(active)}\n${JSON.stringify(expired)}\n{"id":"broken"}\n`);
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});

const run = (args: string[]) => runBinAgainstDynamo(args, { endpoint: dynamo.endpoint, home: dir, cwd: dir });

const common = () => ['--routes', join(dir, 'routes.yml'), '--accounts', join(dir, 'accounts.yml')];

describe('Command: replay --suppressions', () => {
  it('suppresses the matching finding (the audit target still receives it), routes the other, and names runtime:<id> in the record and the report', async () => {
    // Act
    const result = await run(['replay', join(dir, 'suppressed.json'), join(dir, 'other.json'), ...common(), '--suppressions', join(dir, 'suppressions.jsonl'), '--json', '--report', join(dir, 'report.html')]);
    // Assess
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').filter((l) => l.startsWith('{"')).map((l) => JSON.parse(l));
    const byId = Object.fromEntries(records.map((r) => [r.findingId, r]));
    expect(byId['suppressed-finding']).toMatchObject({ outcome: 'suppressed', routes: [`runtime:${active.id}`], targets: ['siem'] });
    expect(byId['other-finding']).toMatchObject({ outcome: 'routed' });
    expect(byId['other-finding'].targets.sort()).toEqual(['chat', 'siem']);
    expect(readFileSync(join(dir, 'siem.ndjson'), 'utf8')).toContain('suppressed-finding');
    expect(result.stderr).toContain(`runtime suppression runtime:${expired.id} expired on ${expired.expiresAt} and no longer applies`);
    expect(result.stderr).toMatch(/suppressions\.jsonl:3 \(id "broken"\): skipped, not a valid runtime suppression/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain(`runtime:${active.id}`);
  });

  it('reads the same suppressions from a DynamoDB table', async () => {
    // Prepare
    await dynamo.createTable('replay-suppressions', 'id');
    await dynamoSuppressionStore(dynamo.client, 'replay-suppressions').put(active);
    // Act
    const result = await run(['replay', join(dir, 'suppressed.json'), ...common(), '--suppressions-table', 'replay-suppressions', '--region', 'us-east-1', '--json']);
    // Assess
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout.trim().split('\n').find((l) => l.startsWith('{"'))!);
    expect(record).toMatchObject({ outcome: 'suppressed', routes: [`runtime:${active.id}`] });
  });

  it('without the flag applies no runtime suppression', async () => {
    // Act
    const result = await run(['replay', join(dir, 'suppressed.json'), ...common(), '--json']);
    // Assess
    expect(JSON.parse(result.stdout.trim().split('\n').find((l) => l.startsWith('{"'))!).outcome).toBe('routed');
  });
});

describe('Command: routes test --suppressions', () => {
  it('says which suppression matched: the runtime one with owner and expiry', async () => {
    // Act
    const result = await run(['routes', 'test', join(dir, 'suppressed.json'), ...common(), '--suppressions', join(dir, 'suppressions.jsonl')]);
    // Assess
    expect(result.stdout).toContain(`→ suppressed by runtime:${active.id} (runtime suppression, owner slack:U123ABC (Ada), until ${active.expiresAt}): Known scanner`);
    expect(result.stdout).toContain('targets: siem');
  });
});

describe('Command: config check --suppressions', () => {
  it('lists expired runtime suppressions and bad rows as warnings; the routes stay valid', async () => {
    // Act
    const result = await run(['config', 'check', ...common(), '--suppressions', join(dir, 'suppressions.jsonl')]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`runtime suppression runtime:${expired.id} expired on ${expired.expiresAt} and no longer applies: UnauthorizedAccess:EC2/SSHBruteForce on i-quiet in 111111111111 (owner slack:U123ABC (Ada)) (warning)`);
    expect(result.stderr).not.toContain(`runtime:${active.id}`);
    expect(result.stdout).toContain('is valid (2 warning(s))');
  });
});
