import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeRoutesDocument } from '../../shared/config/ssm-document.ts';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { lambdaContext } from '../helpers/lambda-context.ts';
import { startSsmLoopback, type SsmLoopback } from '../helpers/ssm-loopback.ts';
import { captureLambdaOutput } from '../helpers/lambda-output.ts';

/**
 * The route Lambda in SSM mode, through its real middy chain: routes published at
 * ROUTES_SSM_PATH (SSM JSON loopback) win over the bundled file, are cached by Powertools for
 * ROUTES_SSM_MAX_AGE_SECONDS, and a document that fails the checks is refused while the last
 * good one stays. The cache time passing is Powertools' cache being emptied (clearCaches, its
 * public API), not a mocked clock. Log lines and EMF metrics are read from stdout.
 */
const PATH = '/findings-router/test/routes';
const PUBLISHED = join(import.meta.dirname, '../events/published');
let counter = 0;
const sshEvent = () => {
  const event = JSON.parse(readFileSync(join(PUBLISHED, 'ssh-bruteforce.sample.eventbridge.json'), 'utf8'));
  event.detail.id = `${event.detail.id.slice(0, 24)}${String(++counter).padStart(8, '0')}`;
  event.detail.accountId = '111111111111';
  event.detail.service.additionalInfo = {};
  event.detail.severity = 8;
  return event;
};
const routesYaml = (target: string) => `targets:\n  ${target}: { type: console }\ndefault: { targets: [${target}] }\n`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const publish = (yaml: string) => ssm.edit(PATH, encodeRoutesDocument({ sha256: sha256(yaml), publishedAt: '2026-12-05T06:00:00.000Z', source: 'routes.yml', yaml }));

let aws: AwsLoopback;
let ssm: SsmLoopback;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let output: ReturnType<typeof captureLambdaOutput>;
const BUNDLED = routesYaml('bundled');

beforeAll(async () => {
  aws = await startAwsLoopback({ queues: ['quarantine', 'delivery', 'delivery-dlq', 'digest'] });
  ssm = await startSsmLoopback(aws.clientConfig.credentials);
  dynamo = await startDynalite();
  await dynamo.createTable('state', 'findingKey');
  const dir = mkdtempSync(join(tmpdir(), 'route-ssm-'));
  writeFileSync(join(dir, 'routes.yml'), BUNDLED);
  writeFileSync(join(dir, 'accounts.yml'), 'accounts:\n  "111111111111": { name: payments-prod }\n');
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ACCESS_KEY_ID: aws.clientConfig.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.clientConfig.credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '1',
    EVENT_BUS_NAME: 'findings-router-bus',
    QUARANTINE_QUEUE_URL: aws.queueUrl('quarantine'),
    DELIVERY_QUEUE_URL: aws.queueUrl('delivery'),
    DELIVERY_DLQ_URL: aws.queueUrl('delivery-dlq'),
    DIGEST_QUEUE_URL: aws.queueUrl('digest'),
    STATE_TABLE: 'state',
    ROUTES_FILE: join(dir, 'routes.yml'),
    ACCOUNTS_FILE: join(dir, 'accounts.yml'),
    ROUTES_SSM_PATH: PATH,
    ROUTES_SSM_MAX_AGE_SECONDS: '60',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: 'FindingsRouterTest',
  });
});

afterAll(async () => {
  await aws?.close();
  await ssm?.close();
  await dynamo?.close();
});

beforeEach(() => {
  output = captureLambdaOutput();
  return () => vi.restoreAllMocks();
});

const logLines = () => output.logLines();
const rejectedMetrics = () => logLines().filter((l) => l._aws !== undefined && l.ConfigRejected !== undefined).map((l) => l.ConfigRejected);
const ssmReads = () => ssm.calls.filter((c) => c.operation === 'GetParameter').length;

/** A fresh route module (a cold start) and an enriched event for it. */
const coldStart = async () => {
  vi.resetModules();
  clearCaches();
  const enrich = (await import('../../functions/enrich.ts')).handler;
  const route = (await import('../../functions/route.ts')).handler;
  const invoke = async () => {
    aws.reset();
    await enrich(sshEvent(), lambdaContext('enrich'));
    const published = aws.events[0]!;
    const event = { version: '0', id: 'e1', 'detail-type': published.DetailType, source: published.Source, account: '0', time: '', region: 'us-east-1', resources: [], detail: published.detail };
    return (await route(event, lambdaContext('route'))) as { outcome: string; targets: string[] };
  };
  return invoke;
};

describe('Lambda: route, routes from SSM', () => {
  it('runs the published routes, keeps them for the cache time, then picks up a new document; every log line names the hash', async () => {
    // Prepare
    publish(routesYaml('from-a'));
    const invoke = await coldStart();
    // Act
    const first = await invoke();
    publish(routesYaml('from-b'));
    const cached = await invoke();
    const readsWithinTtl = ssmReads();
    clearCaches(); // the cache time has passed
    const after = await invoke();
    // Assess
    expect(first.targets).toEqual(['from-a']);
    expect(cached.targets).toEqual(['from-a']);
    expect(readsWithinTtl).toBe(1);
    expect(after.targets).toEqual(['from-b']);
    const routeLines = logLines().filter((l) => l.function_name === 'route' && l._aws === undefined);
    expect(routeLines.length).toBeGreaterThan(0);
    expect(routeLines.every((l) => typeof l.routesSha256 === 'string')).toBe(true);
    const routed = routeLines.filter((l) => l.message === 'finding routed');
    expect(routed.map((l) => [l.routesSha256, l.routesOrigin])).toEqual([
      [sha256(routesYaml('from-a')), 'ssm'],
      [sha256(routesYaml('from-a')), 'ssm'],
      [sha256(routesYaml('from-b')), 'ssm'],
    ]);
    expect(routeLines.filter((l) => l.message === 'routes document applied').at(-1)).toMatchObject({ routesSha256: sha256(routesYaml('from-b')), previousRoutesSha256: sha256(routesYaml('from-a')) });
  });

  it('refuses a document edited by hand into an invalid one, keeps the last good, logs it once and counts ConfigRejected while it stays', async () => {
    // Prepare
    publish(routesYaml('good'));
    const invoke = await coldStart();
    await invoke();
    publish('targets:\n  good: { type: console }\ndefault: { targets: [missing] }\n');
    clearCaches();
    output.clear();
    // Act
    const refused = await invoke();
    const again = await invoke();
    // Assess
    expect(refused.targets).toEqual(['good']);
    expect(again.targets).toEqual(['good']);
    const errors = logLines().filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('routes document refused');
    expect(errors[0]!.problems[0]).toMatch(new RegExp(`^ssm:${PATH}:3:\\d+: `));
    expect(errors[0]!.routesSha256).toBe(sha256(routesYaml('good')));
    expect(rejectedMetrics()).toEqual([1, 1]);
  });

  it('at a cold start with an invalid published document runs the bundled routes, and a hash that does not match the yaml is refused too', async () => {
    // Prepare
    const good = routesYaml('hand-edited');
    ssm.edit(PATH, encodeRoutesDocument({ sha256: sha256(routesYaml('original')), publishedAt: '2026-12-05T06:00:00.000Z', source: 'routes.yml', yaml: good }));
    const invoke = await coldStart();
    // Act
    const result = await invoke();
    // Assess
    expect(result.targets).toEqual(['bundled']);
    const error = logLines().find((l) => l.level === 'ERROR')!;
    expect(error.problems[0]).toContain('edited outside config publish?');
    expect(error.routesOrigin).toBe('bundled');
    expect(error.routesSha256).toBe(sha256(BUNDLED));
    expect(rejectedMetrics()).toEqual([1]);
  });

  it('keeps the last good routes when SSM cannot be read, and does not ask again before the cache time', async () => {
    // Prepare
    publish(routesYaml('steady'));
    const invoke = await coldStart();
    await invoke();
    clearCaches();
    ssm.failCalls.push({ status: 400, type: 'ThrottlingException', message: 'Rate exceeded' });
    const readsBefore = ssmReads();
    // Act
    const during = await invoke();
    const next = await invoke();
    // Assess
    expect(during.targets).toEqual(['steady']);
    expect(next.targets).toEqual(['steady']);
    expect(ssmReads() - readsBefore).toBe(1);
    expect(logLines().find((l) => l.level === 'ERROR')!.problems[0]).toContain('ThrottlingException');
  });

  it('runs the bundled routes while nothing is published, without an alarm', async () => {
    // Prepare
    ssm.parameters.clear();
    const invoke = await coldStart();
    // Act
    const result = await invoke();
    await invoke();
    // Assess
    expect(result.targets).toEqual(['bundled']);
    expect(logLines().filter((l) => l.level === 'ERROR')).toEqual([]);
    expect(rejectedMetrics()).toEqual([]);
    expect(ssmReads()).toBeGreaterThan(0);
  });
});
