// Every named query of the analytics stack (deploy/queries/*.sql, the text CloudFormation's NamedQuery
// resources carry) runs in DuckDB over what Firehose would have written for the sample corpus: the
// records the `firehose` target sent to the Firehose loopback, cut into GZIP objects under the stream's
// own date prefix (taken from the template deploy/analytics.cjs builds), read through the Glue table's
// columns (deploy/analytics-columns.json). Each answer is compared with one computed in TypeScript
// from the same records (soc-answers.ts).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import * as z from 'zod/mini';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GuardDutyFindingSchema } from '../../../schemas/finding.ts';
import { findingView } from '../../../schemas/finding-view.ts';
import { ACCOUNTS_CONFIG, staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { enrichFinding } from '../../../shared/enrich.ts';
import { firehoseTarget } from '../../../shared/targets/firehose.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { LOOPBACK_CREDENTIALS, startFirehoseLoopback, type FirehoseLoopback } from '../../helpers/firehose-loopback.ts';
import { sendFinding, targetContext } from '../../helpers/target-contract.ts';
import { analytics, type Json } from './analytics-module.ts';
import { createFindingsTable } from './duckdb-table.ts';
import { writeFirehoseObjects, type ArrivedRecord, type StreamSettings } from './firehose-objects.ts';
import { daysBefore, SOC_ANSWERS, type Row, type StoredRecord } from './soc-answers.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
const SAMPLES = join(REPO, 'test', 'events', 'samples');
const DAY_MS = 86_400_000;

const template = analytics.build({ prefix: 'findings-router-dev', ...analytics.DEFAULTS });
const destination = template.Resources.AnalyticsDeliveryStream.Properties.ExtendedS3DestinationConfiguration;
const STREAM: StreamSettings = {
  streamName: template.Resources.AnalyticsDeliveryStream.Properties.DeliveryStreamName,
  prefix: destination.Prefix,
  compression: destination.CompressionFormat,
  buffering: destination.BufferingHints,
};
const accounts = parseConfig(ACCOUNTS_CONFIG, readFileSync(join(REPO, 'accounts.example.yml'), 'utf8'), 'accounts.example.yml');

/** A record to send: the finding as GuardDuty sent it, and how many days before today it reaches Firehose. */
interface Planned {
  finding: Json;
  daysAgo: number;
}

/**
 * The corpus (one finding per type, five accounts, one of them not in accounts.example.yml) spread over
 * the last 14 days, plus: a second finding of every fifth type this week (types with more than one
 * finding, in another account), a third one of every 25th type exactly 7 days ago (the edge of "this week"), today's update of every seventh finding (every other one archived:
 * the latest state decides), and an older update of every ninth finding 120 days ago (outside every
 * window: never counted, and "seen before" only within the 90 days scanned).
 */
const plan = (corpus: readonly Json[]): Planned[] => {
  const accountIds = [...new Set(corpus.map((finding) => finding.accountId as string))].sort();
  const later = (finding: Json, hours: number): string => new Date(Date.parse(finding.updatedAt) + hours * 3_600_000).toISOString();
  return corpus.flatMap((finding, index): Planned[] => [
    { finding, daysAgo: index % 14 },
    ...(index % 5 === 0
      ? [{ finding: { ...finding, id: `${finding.id}b`, accountId: accountIds[(accountIds.indexOf(finding.accountId) + 1) % accountIds.length] }, daysAgo: (index / 5) % 4 }]
      : []),
    ...(index % 25 === 0 ? [{ finding: { ...finding, id: `${finding.id}c` }, daysAgo: 7 }] : []),
    ...(index % 7 === 0 ? [{ finding: { ...finding, updatedAt: later(finding, 1), service: { ...finding.service, archived: index % 14 === 0 } }, daysAgo: 0 }] : []),
    ...(index % 9 === 0 ? [{ finding: { ...finding, updatedAt: later(finding, -24) }, daysAgo: 120 }] : []),
  ]);
};

const loadCorpus = (): Json[] =>
  readdirSync(SAMPLES)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(SAMPLES, file), 'utf8')).detail);

/** Sends each planned finding through the firehose target (format: enriched), as the deliver stage does; returns what Firehose took, with arrival times. */
const sendThroughFirehose = async (target: Target, loopback: FirehoseLoopback, planned: readonly Planned[], today: string): Promise<ArrivedRecord[]> => {
  const directory = staticAccountDirectory(accounts);
  const perDay = new Map<number, number>();
  const arrived: ArrivedRecord[] = [];
  for (const { finding, daysAgo } of planned) {
    const enriched = await enrichFinding(findingView(z.parse(GuardDutyFindingSchema, structuredClone(finding)))!, directory);
    await sendFinding(target, enriched);
    const taken = loopback.records.get(STREAM.streamName)!;
    const nth = perDay.get(daysAgo) ?? 0;
    perDay.set(daysAgo, nth + 1);
    // Noon UTC plus 20 s per record: several objects a day, none across midnight.
    arrived.push({ data: taken[taken.length - 1]!, arrival: new Date(Date.parse(`${today}T12:00:00Z`) - daysAgo * DAY_MS + nth * 20_000) });
  }
  return arrived;
};

/** Rows as plain values: BIGINT counts as numbers. */
const runQuery = async (connection: DuckDBConnection, sql: string): Promise<Row[]> => {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : (value as Row[string])])),
  );
};

let workDir = '';
let loopback: FirehoseLoopback;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
let today = '';
let arrived: ArrivedRecord[] = [];
let keys: string[] = [];
let stored: StoredRecord[] = [];

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', LOOPBACK_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOOPBACK_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  workDir = mkdtempSync(join(tmpdir(), 'findings-router-analytics-'));
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'"); // Athena's current_date is UTC, as are Firehose's prefixes
  today = String((await runQuery(connection, 'SELECT CAST(current_date AS VARCHAR) AS today'))[0]!.today);

  loopback = await startFirehoseLoopback([STREAM.streamName]);
  const target = firehoseTarget.create(
    'findings-lake',
    { type: 'firehose', deliveryStreamName: STREAM.streamName, region: loopback.region, endpoint: loopback.endpoint, allowPrivateNetwork: true, format: 'enriched' },
    targetContext(),
  );
  arrived = await sendThroughFirehose(target, loopback, plan(loadCorpus()), today);
  keys = writeFirehoseObjects(join(workDir, 'bucket'), STREAM, arrived);
  await createFindingsTable(connection, join(workDir, 'bucket'));
  stored = arrived.map(({ data, arrival }) => ({ dt: arrival.toISOString().slice(0, 10), record: JSON.parse(data) }));
}, 120_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  connection?.closeSync();
  await loopback?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('Firehose-shaped objects of the sample corpus', () => {
  it('are GZIP NDJSON objects under findings/dt=<arrival day>/, named as Firehose names them, holding every record once', () => {
    // Assess
    expect(keys.length).toBeGreaterThan(new Set(stored.map(({ dt }) => dt)).size); // more than one object on some days
    for (const key of keys) expect(key).toMatch(/^findings\/dt=\d{4}-\d{2}-\d{2}\/findings-router-dev-findings-1-\d{4}(-\d{2}){5}-[0-9a-f-]{36}\.gz$/);
    const lines = keys.flatMap((key) => gunzipSync(readFileSync(join(workDir, 'bucket', ...key.split('/')))).toString('utf8').split('\n').slice(0, -1));
    expect(lines.sort()).toEqual(arrived.map(({ data }) => data.slice(0, -1)).sort());
    const days = new Set(keys.map((key) => key.split('/')[1]));
    expect([...days].sort()).toEqual([...new Set(stored.map(({ dt }) => `dt=${dt}`))].sort());
  });

  it('read through the table columns give one row per record, with the partition as dt', async () => {
    // Act
    const rows = await runQuery(connection, 'SELECT dt, count(*) AS n FROM guardduty_findings GROUP BY dt ORDER BY dt');
    // Assess
    const expected = [...new Set(stored.map(({ dt }) => dt))].sort().map((dt) => ({ dt, n: stored.filter((record) => record.dt === dt).length }));
    expect(rows).toEqual(expected);
  });
});

describe('named queries over the corpus (DuckDB)', () => {
  const queries = analytics.namedQueries();

  it('every query file has an answer to compare with, and every answer a query', () => {
    expect(queries.map(({ name }) => name).sort()).toEqual(Object.keys(SOC_ANSWERS).sort());
  });

  it.each(queries.map((query) => [query.name, query] as const))('%s returns the expected rows', async (name, query) => {
    // Act
    const rows = await runQuery(connection, query.sql);
    // Assess
    const expected = SOC_ANSWERS[name]!(stored, today);
    expect(expected.length).toBeGreaterThan(1); // the scenario gives every query something to find
    expect(rows).toEqual(expected);
  });

  it('the windows bite: records 120 days old are stored but in no answer, and this week is not the whole month', async () => {
    // Assess
    expect(stored.some(({ dt }) => dt < daysBefore(today, 90))).toBe(true);
    const perDay = await runQuery(connection, queries.find(({ name }) => name === 'findings-per-day-by-severity')!.sql);
    expect(perDay.every((row) => String(row.day) >= daysBefore(today, 30))).toBe(true);
    const newTypes = await runQuery(connection, queries.find(({ name }) => name === 'new-finding-types')!.sql);
    const thisWeek = await runQuery(connection, 'SELECT count(DISTINCT finding.type) AS n FROM guardduty_findings WHERE dt >= ' + `'${daysBefore(today, 7)}'`);
    expect(newTypes.length).toBeLessThan(Number(thisWeek[0]!.n)); // some of this week's types were seen before
  });
});

describe('named queries over empty partitions', () => {
  const queries = analytics.namedQueries();

  it.each([
    ['only records older than every window', (records: readonly ArrivedRecord[]) => records.filter(({ arrival }) => arrival.getTime() < Date.parse(`${today}T00:00:00Z`) - 100 * DAY_MS)],
    ['an empty bucket', () => []],
  ] as const)('return no rows, not an error, over %s', async (_, select) => {
    // Arrange
    const bucket = join(workDir, `bucket-${select.length}-${Math.random().toString(36).slice(2)}`);
    const kept = select(arrived);
    writeFirehoseObjects(bucket, STREAM, kept);
    const emptyConnection = await instance.connect();
    await emptyConnection.run("SET TimeZone = 'UTC'");
    await createFindingsTable(emptyConnection, bucket);
    try {
      // Assess
      expect(Number((await runQuery(emptyConnection, 'SELECT count(*) AS n FROM guardduty_findings'))[0]!.n)).toBe(kept.length);
      for (const query of queries) expect(await runQuery(emptyConnection, query.sql), query.name).toEqual([]);
    } finally {
      emptyConnection.closeSync();
    }
  });
});
