import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GuardDutyFinding } from '../../schemas/finding.ts';
import { dynamoSuppressionStore } from '../../shared/aws/dynamo-suppressions.ts';
import { suppressionFromFinding } from '../../shared/suppressions/model.ts';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { lambdaContext } from '../helpers/lambda-context.ts';
import { lambdaEnvironment } from '../helpers/lambda-environment.ts';
import { captureLambdaOutput } from '../helpers/lambda-output.ts';

/**
 * The route Lambda with runtime suppressions, through its real middy chain: the enrich Lambda
 * publishes to the EventBridge loopback, the route Lambda reads SUPPRESSIONS_TABLE from
 * dynalite and queues delivery jobs on the SQS loopback. A suppressed finding still reaches the
 * audit target; an expired suppression stops applying even while it is cached; a malformed row
 * is logged (ERROR + SuppressionRowsInvalid) and the good rows still apply.
 * The clock is moved with vi.setSystemTime (Date only; timers stay real).
 */
const PUBLISHED = join(import.meta.dirname, '../events/published');
const ROUTES = `targets:
  chat: { type: console }
  siem: { type: file, path: out/suppressions-lambda.ndjson, audit: true }
default: { targets: [chat, siem] }
`;
let counter = 0;
const sshEvent = () => {
  const event = JSON.parse(readFileSync(join(PUBLISHED, 'ssh-bruteforce.sample.eventbridge.json'), 'utf8'));
  event.detail.id = `${event.detail.id.slice(0, 24)}${String(++counter).padStart(8, '0')}`;
  event.detail.accountId = '111111111111';
  event.detail.service.additionalInfo = {};
  event.detail.severity = 8;
  return event;
};
const ANALYST = { platform: 'slack' as const, id: 'U123ABC', name: 'Ada' };
const DAY = 86_400_000;

let aws: AwsLoopback;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let dir: string;
let output: ReturnType<typeof captureLambdaOutput>;
let tables = 0;

beforeAll(async () => {
  aws = await startAwsLoopback({ queues: ['quarantine', 'delivery', 'delivery-dlq', 'digest'] });
  dynamo = await startDynalite();
  await dynamo.createTable('state', 'findingKey');
  dir = mkdtempSync(join(tmpdir(), 'suppressions-lambda-'));
  writeFileSync(join(dir, 'routes.yml'), ROUTES);
  writeFileSync(join(dir, 'accounts.yml'), 'accounts:\n  "111111111111": { name: payments-prod }\n');
});

afterAll(async () => {
  vi.useRealTimers();
  await aws?.close();
  await dynamo?.close();
});

beforeEach(() => {
  output = captureLambdaOutput();
  return () => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  };
});

const logLines = () => output.logLines();

/** A fresh table (or `missing`, a name with no table) and a cold start of both functions with SUPPRESSIONS_TABLE pointing at it. */
const coldStart = async (maxAgeSeconds = 60, missing?: string) => {
  const table = missing ?? `suppressions-${++tables}`;
  if (missing === undefined) await dynamo.createTable(table, 'id');
  Object.assign(process.env, lambdaEnvironment(aws, dynamo.endpoint, dir), {
    SUPPRESSIONS_TABLE: table,
    SUPPRESSIONS_MAX_AGE_SECONDS: String(maxAgeSeconds),
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: 'FindingsRouterTest',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
  vi.resetModules();
  const enrich = (await import('../../functions/enrich.ts')).handler;
  const route = (await import('../../functions/route.ts')).handler;
  const invoke = async (event = sshEvent()) => {
    aws.reset();
    await enrich(event, lambdaContext('enrich'));
    const published = aws.events[0]!;
    const enriched = { version: '0', id: 'e1', 'detail-type': published.DetailType, source: published.Source, account: '0', time: '', region: 'us-east-1', resources: [], detail: published.detail };
    return (await route(enriched, lambdaContext('route'))) as { outcome: string; targets: string[] };
  };
  return { table, invoke, store: dynamoSuppressionStore(dynamo.client, table) };
};

const suppressFrom = (event: { detail: unknown }, now: number, days = 7) =>
  suppressionFromFinding(event.detail as GuardDutyFinding, { reason: 'bastion scanner', days, actor: ANALYST, now, maxDays: 30 });

describe('Lambda: route, runtime suppressions from DynamoDB', () => {
  it('suppresses a finding matching a stored suppression: the audit target still receives it, the log names runtime:<id>', async () => {
    // Prepare
    const { invoke, store } = await coldStart();
    const event = sshEvent();
    const suppression = suppressFrom(event, Date.now());
    await store.put(suppression);
    // Act
    const result = await invoke(event);
    // Assess
    expect(result).toEqual({ outcome: 'suppressed', targets: ['siem'] });
    const line = logLines().find((l) => l.message === 'finding suppressed')!;
    expect(line.suppression).toBe(`runtime:${suppression.id}`);
    expect(line.suppressionReason).toBe('bastion scanner');
  });

  it('stops applying at expiry though the list is still cached', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.parse('2026-12-05T08:00:00.000Z');
    vi.setSystemTime(start);
    const { invoke, store } = await coldStart(30 * 24 * 3600);
    const event = sshEvent();
    await store.put(suppressFrom(event, start, 2));
    // Act
    const before = await invoke({ ...event, detail: { ...event.detail, id: `${event.detail.id.slice(0, 24)}aaaaaaa1` } });
    vi.setSystemTime(start + 2 * DAY + 1);
    const after = await invoke({ ...event, detail: { ...event.detail, id: `${event.detail.id.slice(0, 24)}aaaaaaa2` } });
    // Assess
    expect(before.outcome).toBe('suppressed');
    expect(after).toEqual({ outcome: 'routed', targets: ['chat', 'siem'] });
  });

  it('logs a malformed row and applies the good ones', async () => {
    // Prepare
    const { table, invoke, store } = await coldStart();
    const event = sshEvent();
    await store.put(suppressFrom(event, Date.now()));
    await dynamo.client.send(new PutItemCommand({ TableName: table, Item: { id: { S: 'typed-by-hand' }, reason: { S: 'no conditions' } } }));
    // Act
    const result = await invoke(event);
    // Assess
    expect(result.outcome).toBe('suppressed');
    const error = logLines().find((l) => l.level === 'ERROR')!;
    expect(error.message).toBe('runtime suppressions skipped: rows that fail the checks');
    expect(error.bad).toEqual([{ where: `table ${table} id "typed-by-hand"`, reason: expect.stringContaining('id must be 16 lowercase hex digits') }]);
    expect(logLines().filter((l) => l._aws !== undefined && l.SuppressionRowsInvalid !== undefined).map((l) => l.SuppressionRowsInvalid)).toEqual([1]);
  });

  it('routes normally when the table cannot be read, and says so', async () => {
    // Prepare
    const { invoke } = await coldStart(60, 'no-such-table');
    // Act
    const result = await invoke();
    // Assess
    expect(result.outcome).toBe('routed');
    const error = logLines().find((l) => l.level === 'ERROR')!;
    expect(error.message).toBe('runtime suppressions unreadable; the last good list stays in use');
    expect(error.error).toContain('ResourceNotFoundException');
  });
});
