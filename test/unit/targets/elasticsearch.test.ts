import * as z from 'zod/mini';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { idempotencyKey } from '../../../shared/delivery/job.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import {
  buildBulkBody,
  buildEcsDocument,
  ElasticsearchConfigSchema,
  elasticsearchTarget,
  resolveIndex,
  type ElasticsearchConfig,
} from '../../../shared/targets/elasticsearch.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { startElasticsearchReceiver, type ElasticsearchReceiver, type EsAuth } from '../../helpers/elasticsearch-receiver.ts';
import { LOOPBACK_CREDENTIALS } from '../../helpers/firehose-loopback.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { representativeFindings, REPRESENTATIVE_NAMES } from '../../helpers/representative.ts';
import { deliveryFor, expectNoLeak, failure, findingJob, itClassifiesStatuses, itNeverLeaks, pick, sendFinding, statusTable, targetContext } from '../../helpers/target-contract.ts';

const USERNAME = 'guardduty_writer';
const PASSWORD = 'ES-PASSWORD-s3cr3t-9d2f';
const API_KEY = Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw-APIKEYSECRET').toString('base64');
const TARGET = 'opensearch-siem';

// ── Plumbing ─────────────────────────────────────────────────────────────────

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closers.splice(0).map((close) => close()));
});

const receiverWith = async (auth: EsAuth = { kind: 'basic', username: USERNAME, password: PASSWORD }): Promise<ElasticsearchReceiver> => {
  const receiver = await startElasticsearchReceiver(auth);
  closers.push(() => receiver.close());
  return receiver;
};

const BASIC = { basic: { username: { env: 'ES_USER' }, password: { env: 'ES_PASSWORD' } } } as const;

const makeTarget = (url: string, settings: Partial<ElasticsearchConfig> = BASIC, name = TARGET): Target =>
  elasticsearchTarget.create(
    name,
    { type: 'elasticsearch', url, allowPrivateNetwork: true, ...settings },
    targetContext({ env: { ES_USER: USERNAME, ES_PASSWORD: PASSWORD, ES_API_KEY: API_KEY } }),
  );

/** Parses a `_bulk` body strictly: `\n`-terminated, an action line then a document line. */
const parseBulk = (body: string): { action: { create: { _index: string; _id: string } }; document: Record<string, unknown> } => {
  expect(body.endsWith('\n')).toBe(true);
  const lines = body.slice(0, -1).split('\n');
  expect(lines).toHaveLength(2);
  return { action: JSON.parse(lines[0] ?? ''), document: JSON.parse(lines[1] ?? '') };
};

const ATTACKS = '<!channel> <script>alert(1)</script> | = \\ \r\n \u2028 [link|https://evil] {{template}} "}\n{"delete":{"_index":"x","_id":"y"}}\n';

const hostileEnriched = async (): Promise<EnrichedFinding> => {
  const finding = hostileFinding();
  return enrichedFrom({ ...finding, title: `${ATTACKS}${finding.title}`, service: { ...finding.service, additionalInfo: { attacks: ATTACKS } } }, hostileAccount());
};

const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONFIG: ElasticsearchConfig = { type: 'elasticsearch', url: 'https://search.example.com' };

let representative: [string, EnrichedFinding][] = [];
beforeAll(async () => {
  representative = await representativeFindings();
});
const sample = (name = 'instance'): EnrichedFinding => pick(representative, name);

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: elasticsearch', () => {
  describe('_bulk golden files', () => {
    it.each(REPRESENTATIVE_NAMES)('renders %s as in test/golden/elasticsearch', async (name) => {
      // Prepare
      const enriched = sample(name);

      // Act
      const bulk = parseBulk(buildBulkBody(enriched, CONFIG, idempotencyKey(TARGET, enriched)));

      // Assess
      await expect(`${JSON.stringify(bulk, null, 2)}\n`).toMatchFileSnapshot(`../../golden/elasticsearch/${name}.json`);
      expect(bulk.action.create._id).toBe(idempotencyKey(TARGET, enriched));
      expect(bulk.action.create._index).toBe(`guardduty-${String(enriched.finding.updatedAt).slice(0, 10).replace(/-/g, '.')}`);
      expect(bulk.document).toMatchObject({
        '@timestamp': new Date(String(enriched.finding.updatedAt)).toISOString(),
        event: { kind: 'alert', module: 'guardduty', severity: Math.round(enriched.finding.severity * 10) },
        cloud: { provider: 'aws', account: { id: enriched.finding.accountId }, region: enriched.finding.region },
        rule: { name: enriched.finding.type },
        observer: { vendor: 'AWS', product: 'GuardDuty' },
      });
      // The finding as sent: its JSON keeps GuardDuty's nulls (schemas/finding-view.ts).
      expect((bulk.document.aws as { guardduty: unknown }).guardduty).toEqual(JSON.parse(JSON.stringify(enriched.finding)));
    });

    it('render() is the NDJSON body, the same bytes every time', () => {
      // Prepare
      const enriched = sample('rds');
      const target = makeTarget('https://search.example.com');

      // Act
      const [first, second] = [target.render(enriched), target.render(structuredClone(enriched))];

      // Assess
      expect(first).toEqual(second);
      expect(first).toMatchObject({ contentType: 'application/x-ndjson', extension: 'ndjson' });
    });

    it('format raw indexes the finding exactly as GuardDuty sent it', () => {
      // Prepare
      const enriched = sample('lambda');

      // Act
      const { document } = parseBulk(buildBulkBody(enriched, { ...CONFIG, format: 'raw' }, 'id'));

      // Assess
      expect(document).toEqual(enriched.finding);
    });

    it('ECS categories: network for connections, malware for malicious files, iam for API calls and access keys', () => {
      // Prepare
      const names = ['instance', 'malware-scan', 'access-key'];

      // Act
      const categories = names.map((name) => (buildEcsDocument(sample(name)).event as { category: string[] }).category);

      // Assess
      expect(categories[0]).toEqual(['intrusion_detection', 'network']);
      expect(categories[1]).toContain('malware');
      expect(categories[2]).toContain('iam');
    });
  });

  describe('index pattern', () => {
    it.each([
      ['guardduty-{yyyy.MM.dd}', '2026-03-04T23:59:59.999Z', 'guardduty-2026.03.04'],
      ['guardduty-{yyyy.MM}', '2026-03-04T23:59:59.999Z', 'guardduty-2026.03'],
      ['findings-{yyyy-MM-dd-HH}', 1_772_668_799, 'findings-2026-03-04-23'],
      ['guardduty', '2026-03-04T00:00:00Z', 'guardduty'],
      ['guardduty-{yyyy.MM.dd}', 'not a date', 'guardduty-undated'],
    ])('%s with updatedAt %s → %s', (pattern, updatedAt, expected) => {
      // Prepare
      const input = { pattern, updatedAt };

      // Act
      const index = resolveIndex(input.pattern, input.updatedAt);

      // Assess
      expect(index).toBe(expected);
    });
  });

  describe('hostile finding', () => {
    it('cannot inject a bulk action: exactly two strict JSON lines, exact round trip', async () => {
      // Prepare
      const enriched = await hostileEnriched();
      const target = makeTarget('https://search.example.com');

      // Act
      const { body } = target.render(enriched);

      // Assess
      const { action, document } = parseBulk(body);
      expect(Object.keys(action)).toEqual(['create']);
      expect((document.aws as { guardduty: unknown }).guardduty).toEqual(JSON.parse(JSON.stringify(enriched.finding)));
      expect(document.message).toBe(enriched.finding.title);
      expect((document.cloud as { account: { name: string } }).account.name).toBe(enriched.enrichment.account.name);
    });

    it('is stored as one document by a cluster that parses the NDJSON', async () => {
      // Prepare
      const receiver = await receiverWith();
      const target = makeTarget(receiver.url);

      // Act
      await sendFinding(target, await hostileEnriched());

      // Assess
      expect(receiver.documentCount()).toBe(1);
      expect(receiver.indices.has('guardduty-2026.11.01')).toBe(true);
    });
  });

  describe('limits', () => {
    it('a document over maxRequestBytes is cut to fit with a visible marker', async () => {
      // Prepare
      const huge = await enrichedFrom({ ...sample('instance').finding, description: '😀é中&'.repeat(100_000) });

      // Act
      const body = buildBulkBody(huge, { ...CONFIG, maxRequestBytes: 100_000 }, 'id');

      // Assess
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(100_000);
      const { document } = parseBulk(body);
      const description = (document.aws as { guardduty: { description: string } }).guardduty.description;
      expect(description.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(description).not.toMatch(BROKEN_SURROGATE);
    });
  });

  describe('delivery to _bulk', () => {
    it('POSTs NDJSON to /_bulk with basic auth; the _id is the delivery idempotency key', async () => {
      // Prepare
      const receiver = await receiverWith();
      const target = makeTarget(`${receiver.url}/`);
      const enriched = sample('ecs-container');
      const delivery = { ...deliveryFor(target, enriched), idempotencyKey: 'key-from-the-delivery-job' };

      // Act
      await target.send(findingJob(target, enriched, delivery));

      // Assess
      const [request] = receiver.requests;
      expect(request).toMatchObject({ method: 'POST', path: '/_bulk', status: 200 });
      expect(request?.headers['content-type']).toBe('application/x-ndjson');
      expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`);
      expect(parseBulk(request?.body ?? '').action.create._id).toBe('key-from-the-delivery-job');
      expect([...(receiver.indices.values().next().value?.keys() ?? [])]).toEqual(['key-from-the-delivery-job']);
    });

    it('a retried create with the same _id: 409 version_conflict, counted as delivered, still one document', async () => {
      // Prepare
      const receiver = await receiverWith();
      const target = makeTarget(receiver.url);
      const enriched = sample('eks');

      // Act
      await sendFinding(target, enriched);
      await sendFinding(target, structuredClone(enriched));

      // Assess
      expect(receiver.documentCount()).toBe(1);
      const second = JSON.parse(receiver.requests[1]?.answer ?? '{}');
      expect(second).toMatchObject({ errors: true, items: [{ create: { status: 409, error: { type: 'version_conflict_engine_exception' } } }] });
    });

    it('a new updatedAt is a new document', async () => {
      // Prepare
      const receiver = await receiverWith();
      const target = makeTarget(receiver.url);
      const enriched = sample('eks');
      const updated = await enrichedFrom({ ...enriched.finding, updatedAt: '2026-01-25T00:00:00.000Z' });

      // Act
      await sendFinding(target, enriched);
      await sendFinding(target, updated);

      // Assess
      expect(receiver.documentCount()).toBe(2);
    });

    it.each([
      { status: 429, type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation', expected: 'retryable' },
      { status: 503, type: 'unavailable_shards_exception', reason: '[guardduty][0] primary shard is not active', expected: 'retryable' },
      { status: 400, type: 'mapper_parsing_exception', reason: "failed to parse field [aws.guardduty.service.additionalInfo.value] of type [long]", expected: 'permanent' },
      { status: 400, type: 'document_parsing_exception', reason: '[1:2] object mapping for [aws.guardduty.resource] tried to parse field as object', expected: 'permanent' },
      { status: 404, type: 'index_not_found_exception', reason: 'no such index [guardduty-2026.01.24]', expected: 'permanent' },
      { status: 403, type: 'cluster_block_exception', reason: 'index [guardduty] blocked by: [FORBIDDEN/8/index write (api)]', expected: 'permanent' },
    ])('200 with errors:true and item $status $type → $expected', async ({ status, type, reason, expected }) => {
      // Prepare
      const receiver = await receiverWith();
      receiver.itemFailures.push({ status, type, reason });
      const target = makeTarget(receiver.url);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error.retryable ? 'retryable' : 'permanent').toBe(expected);
      expect(error).toMatchObject({ status });
      expect(error.message).toContain(type);
      expect(receiver.requests[0]?.status).toBe(200);
      expect(receiver.documentCount()).toBe(0);
    });

    it('429 item, then the retry: one document', async () => {
      // Prepare
      const receiver = await receiverWith();
      receiver.itemFailures.push({ status: 429, type: 'es_rejected_execution_exception', reason: 'rejected execution' });
      const target = makeTarget(receiver.url);
      const enriched = sample('rds');

      // Act
      const first = await failure(sendFinding(target, enriched));
      await sendFinding(target, enriched);

      // Assess
      expect(first).toMatchObject({ retryable: true, status: 429 });
      expect(first.message).toContain('es_rejected_execution_exception');
      expect(receiver.documentCount()).toBe(1);
    });

    it('the cluster refuses a body without the final newline; the target always sends it', async () => {
      // Prepare
      const receiver = await receiverWith({ kind: 'none' });
      const body = buildBulkBody(sample(), CONFIG, 'id');

      // Act
      const refused = await fetch(`${receiver.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: body.slice(0, -1) });
      const accepted = await fetch(`${receiver.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });

      // Assess
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('The bulk request must be terminated by a newline');
      expect(accepted.status).toBe(200);
    });
  });

  describe('authentication', () => {
    it('apiKey sends Authorization: ApiKey <encoded>', async () => {
      // Prepare
      const receiver = await receiverWith({ kind: 'apiKey', encoded: API_KEY });
      const target = makeTarget(receiver.url, { apiKey: { env: 'ES_API_KEY' } });

      // Act
      await sendFinding(target, sample());

      // Assess
      expect(receiver.requests[0]?.headers.authorization).toBe(`ApiKey ${API_KEY}`);
      expect(receiver.documentCount()).toBe(1);
    });

    it.each(['es', 'aoss'] as const)('sigv4 for service %s is verified by the cluster', async (service) => {
      // Prepare
      vi.stubEnv('AWS_ACCESS_KEY_ID', LOOPBACK_CREDENTIALS.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOOPBACK_CREDENTIALS.secretAccessKey);
      vi.stubEnv('AWS_SESSION_TOKEN', '');
      const receiver = await receiverWith({ kind: 'sigv4', region: 'eu-west-1', service, ...LOOPBACK_CREDENTIALS });
      const target = makeTarget(receiver.url, { sigv4: { region: 'eu-west-1', service } });

      // Act
      await sendFinding(target, sample('s3-bucket'));

      // Assess
      expect(receiver.requests[0]?.status).toBe(200);
      expect(receiver.requests[0]?.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${LOOPBACK_CREDENTIALS.accessKeyId}/\\d{8}/eu-west-1/${service}/aws4_request`));
      expect(receiver.documentCount()).toBe(1);
    });

    it('sigv4 signed with another secret key: 403, permanent, no secret in the error', async () => {
      // Prepare
      vi.stubEnv('AWS_ACCESS_KEY_ID', LOOPBACK_CREDENTIALS.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'a-wrong-secret-access-key-0000');
      vi.stubEnv('AWS_SESSION_TOKEN', '');
      const receiver = await receiverWith({ kind: 'sigv4', region: 'eu-west-1', service: 'es', ...LOOPBACK_CREDENTIALS });
      const target = makeTarget(receiver.url, { sigv4: { region: 'eu-west-1', service: 'es' } });

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 403 });
      expectNoLeak(error, ['a-wrong-secret-access-key-0000']);
    });

    it('a wrong password: 401 security_exception, permanent, password hidden', async () => {
      // Prepare
      const receiver = await receiverWith({ kind: 'basic', username: USERNAME, password: 'the-real-password' });
      const target = makeTarget(receiver.url);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expect(error.message).toContain('security_exception');
      expectNoLeak(error, [PASSWORD]);
    });
  });

  describe('status classification', () => {
    const BULK_OK = (id: string) =>
      JSON.stringify({ errors: false, took: 2, items: [{ create: { _index: 'guardduty', _id: id, _version: 1, result: 'created', status: 201 } }] });
    itClassifiesStatuses(statusTable(elasticsearchTarget.statusExceptions), {
      secrets: [PASSWORD],
      prepare: async (status) => {
        const receiver = await receiverWith();
        const enriched = sample();
        const target = makeTarget(receiver.url);
        const bulk = status === 200 || status === 201;
        const errorBody = JSON.stringify({ error: { root_cause: [{ type: 'status_exception', reason: `status ${status}` }], type: 'status_exception', reason: `status ${status}` }, status });
        receiver.answer = {
          status,
          body: bulk ? BULK_OK(idempotencyKey(TARGET, enriched)) : status === 429 ? JSON.stringify({ error: { type: 'circuit_breaking_exception', reason: '[parent] Data too large' }, status }) : errorBody,
          ...(status === 301 ? { headers: { location: 'https://elsewhere.example/_bulk' } } : {}),
        };
        return () => sendFinding(target, enriched);
      },
    });
  });

  describe('secrets', () => {
    itNeverLeaks({
      what: 'the password',
      secrets: [PASSWORD, Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')],
      statuses: { '4xx': 401, '5xx': 503 },
      echoing: async (status) => {
        const receiver = await receiverWith();
        receiver.answer = { status, body: JSON.stringify({ error: { type: 'security_exception', reason: `bad credentials ${USERNAME}:${PASSWORD} ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}` }, status }) };
        return receiver.url;
      },
      send: (url, deadlineMs) => sendFinding(makeTarget(url), sample(), deadlineMs),
    });

    it('the api key appears in no error, even when the cluster echoes it', async () => {
      // Prepare
      const receiver = await receiverWith({ kind: 'apiKey', encoded: 'another-key' });
      const target = makeTarget(receiver.url, { apiKey: { env: 'ES_API_KEY' } });
      receiver.answer = undefined;

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expectNoLeak(error, [API_KEY]);
    });
  });

  describe('settings', () => {
    it.each([
      [{ index: 'GuardDuty' }, 'index'],
      [{ index: 'guard duty' }, 'index'],
      [{ index: '_guardduty' }, 'index'],
      [{ index: 'guardduty-{yyyy.MM.dd' }, 'index'],
      [{ index: 'guardduty-{foo}' }, 'index'],
      [{ url: 'search.example.com' }, 'url'],
      [{ format: 'enriched' }, 'format'],
      [{ sigv4: { region: 'eu-west-1', service: 'opensearch' } }, 'service'],
      [{ apiKey: { env: 'K' }, basic: { username: { env: 'U' }, password: { env: 'P' } } }, 'choose one of basic, apiKey or sigv4'],
      [{ basic: { username: 'elastic', password: { env: 'P' } } }, 'username'],
    ])('rejects %j (%s)', (override, field) => {
      // Prepare
      const config = { type: 'elasticsearch', url: 'https://search.example.com', ...override };

      // Act
      const result = z.safeParse(ElasticsearchConfigSchema, config);

      // Assess
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain(field);
    });

    it('accepts OpenSearch Serverless with sigv4 and a daily index', () => {
      // Prepare
      const config = { type: 'elasticsearch', url: 'https://abc123.eu-west-1.aoss.amazonaws.com', index: 'guardduty-{yyyy.MM.dd}', sigv4: { region: 'eu-west-1', service: 'aoss' } };

      // Act
      const result = z.safeParse(ElasticsearchConfigSchema, config);

      // Assess
      expect(result.success).toBe(true);
    });
  });
});
