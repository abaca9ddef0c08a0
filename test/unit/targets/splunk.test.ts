import * as z from 'zod/mini';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { idempotencyKey } from '../../../shared/delivery/job.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { buildHecEvent, requestChannel, splunkTarget, SplunkConfigSchema, type SplunkConfig } from '../../../shared/targets/splunk.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { representativeFindings, REPRESENTATIVE_NAMES } from '../../helpers/representative.ts';
import { hecAnswer, startSplunkReceiver, type SplunkReceiver, type SplunkReceiverOptions } from '../../helpers/splunk-receiver.ts';
import { deliveryFor, expectNoLeak, failure, findingJob, itClassifiesStatuses, itNeverLeaks, pick, sendFinding, statusTable, targetContext } from '../../helpers/target-contract.ts';

const TOKEN = '7c3b0a52-19d4-4d5e-9f1a-HECTOKENSECRET';
const TARGET = 'splunk-soc';

// ── Plumbing ─────────────────────────────────────────────────────────────────

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const receiverWith = async (options: Partial<SplunkReceiverOptions> = {}): Promise<SplunkReceiver> => {
  const receiver = await startSplunkReceiver({ token: TOKEN, ...options });
  closers.push(() => receiver.close());
  return receiver;
};

const makeSplunk = (url: string, settings: Partial<SplunkConfig> = {}, name = TARGET): Target =>
  splunkTarget.create(
    name,
    { type: 'splunk', url, token: { env: 'HEC_TOKEN' }, allowPrivateNetwork: true, ...settings },
    targetContext({ env: { HEC_TOKEN: TOKEN } }),
  );

/** A server that never answers, or resets every connection. */

/** Strings that attack chat, wiki, template and CSV renderers, plus CR/LF and U+2028. */
const ATTACKS = '<!channel> <script>alert(1)</script> | = \\ \r\n \u2028 [link|https://evil] {{template}} ${jndi:ldap://x} "quoted"';

const hostileEnriched = async (): Promise<EnrichedFinding> => {
  const finding = hostileFinding();
  return enrichedFrom(
    { ...finding, title: `${ATTACKS} ${finding.title}`, service: { ...finding.service, additionalInfo: { attacks: ATTACKS } } },
    hostileAccount(),
  );
};

const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONFIG: SplunkConfig = { type: 'splunk', url: 'https://splunk.example.com:8088', token: { env: 'HEC_TOKEN' } };

let representative: [string, EnrichedFinding][] = [];
beforeAll(async () => {
  representative = await representativeFindings();
});
const sample = (name = 'instance'): EnrichedFinding => pick(representative, name);

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: splunk', () => {
  describe('HEC event golden files', () => {
    it.each(REPRESENTATIVE_NAMES)('renders %s as in test/golden/splunk', async (name) => {
      // Prepare
      const enriched = sample(name);

      // Act
      const event = buildHecEvent(enriched, CONFIG, idempotencyKey(TARGET, enriched));

      // Assess
      await expect(`${JSON.stringify(event, null, 2)}\n`).toMatchFileSnapshot(`../../golden/splunk/${name}.json`);
      expect(event.event).toEqual(enriched.finding);
      expect(event.time).toBe(Date.parse(String(enriched.finding.updatedAt)) / 1000);
      expect(event).toMatchObject({ source: 'guardduty', sourcetype: 'aws:cloudwatch:guardduty', host: enriched.finding.accountId });
      expect(event.fields).toMatchObject({ severity_label: enriched.enrichment.severityLabel, event_id: idempotencyKey(TARGET, enriched) });
    });

    it('render() is the built event as JSON, the same bytes every time', () => {
      // Prepare
      const enriched = sample('eks');
      const target = makeSplunk('https://splunk.example.com:8088');

      // Act
      const [first, second] = [target.render(enriched), target.render(structuredClone(enriched))];

      // Assess
      expect(first).toEqual(second);
      expect(first).toMatchObject({ contentType: 'application/json', extension: 'json' });
      expect(JSON.parse(first.body)).toEqual(buildHecEvent(enriched, { ...CONFIG, allowPrivateNetwork: true }, idempotencyKey(TARGET, enriched)));
    });

    it('format enriched, index, source, sourcetype and host come from the settings', () => {
      // Prepare
      const enriched = sample('s3-bucket');

      // Act
      const event = buildHecEvent(
        enriched,
        { ...CONFIG, format: 'enriched', index: 'aws_security', source: 'gd-router', sourcetype: '_json', host: 'router-prod' },
        'k',
      );

      // Assess
      expect(event).toMatchObject({ index: 'aws_security', source: 'gd-router', sourcetype: '_json', host: 'router-prod' });
      expect(event.event).toEqual(enriched);
      expect(event.fields.account_name).toBe(enriched.enrichment.account.name);
    });

    it('epoch-number updatedAt becomes seconds; an unparseable one leaves time out (HEC uses receipt time)', async () => {
      // Prepare
      const base = sample('instance').finding;
      const epoch = await enrichedFrom({ ...base, updatedAt: 1_700_000_000_123 });
      const garbage = await enrichedFrom({ ...base, updatedAt: 'yesterday' });

      // Act
      const [a, b] = [buildHecEvent(epoch, CONFIG, 'k'), buildHecEvent(garbage, CONFIG, 'k')];

      // Assess
      expect(a.time).toBe(1_700_000_000.123);
      expect(b).not.toHaveProperty('time');
    });
  });

  describe('hostile finding', () => {
    it('every hostile string survives as data: strict JSON, exact round trip, no raw line breaks', async () => {
      // Prepare
      const enriched = await hostileEnriched();
      const target = makeSplunk('https://splunk.example.com:8088', { format: 'enriched' });

      // Act
      const { body } = target.render(enriched);

      // Assess
      expect(body).not.toMatch(/[\r\n]/);
      const parsed = JSON.parse(body) as { event: EnrichedFinding; fields: Record<string, unknown> };
      expect(parsed.event).toEqual(JSON.parse(JSON.stringify(enriched)));
      expect(parsed.event.finding.title).toContain(ATTACKS);
      expect(Object.values(parsed.fields).every((value) => typeof value === 'string')).toBe(true);
      expect(parsed.fields.account_name).toBe(enriched.enrichment.account.name);
    });

    it('is accepted by a HEC that checks every field', async () => {
      // Prepare
      const receiver = await receiverWith({ indexes: ['aws_security'] });
      const target = makeSplunk(receiver.url, { index: 'aws_security' });
      const enriched = await hostileEnriched();

      // Act
      await sendFinding(target, enriched);

      // Assess
      expect(receiver.requests.map((request) => request.status)).toEqual([200]);
      expect(receiver.events[0]?.event).toEqual(JSON.parse(JSON.stringify(enriched.finding)));
    });
  });

  describe('limits', () => {
    it('an event over max_content_length is cut to fit, with a visible marker, still valid JSON', async () => {
      // Prepare
      const receiver = await receiverWith({ maxContentLength: 1_000_000 });
      const target = makeSplunk(receiver.url);
      const finding = sample('instance').finding;
      const huge = await enrichedFrom({ ...finding, description: '😀é中&'.repeat(400_000), title: 'x'.repeat(300_000) });

      // Act
      const payload = target.render(huge);
      await target.send(findingJob(target, huge, deliveryFor(target, huge)));

      // Assess
      expect(Buffer.byteLength(payload.body)).toBeLessThanOrEqual(1_000_000);
      const event = JSON.parse(payload.body) as { event: { description: string; title: string; id: string } };
      expect(event.event.description.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(event.event.description).not.toMatch(BROKEN_SURROGATE);
      expect(event.event.id).toBe(finding.id);
      expect(receiver.events).toHaveLength(1);
    });

    it('maxRequestBytes lowers the cap', async () => {
      // Prepare
      const enriched = await enrichedFrom({ ...sample('instance').finding, description: 'd'.repeat(10_000) });

      // Act
      const event = buildHecEvent(enriched, { ...CONFIG, maxRequestBytes: 4_096 }, 'k');

      // Assess
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(4_096);
      expect(JSON.stringify(event)).toContain(TRUNCATION_MARKER);
    });
  });

  describe('delivery to HEC', () => {
    it('POSTs to /services/collector/event with Authorization: Splunk <token> and JSON', async () => {
      // Prepare
      const receiver = await receiverWith();
      const target = makeSplunk(`${receiver.url}/`);
      const enriched = sample('access-key');

      // Act
      await sendFinding(target, enriched);

      // Assess
      const [request] = receiver.requests;
      expect(request).toMatchObject({ method: 'POST', path: '/services/collector/event', status: 200, answer: '{"text":"Success","code":0}' });
      expect(request?.headers.authorization).toBe(`Splunk ${TOKEN}`);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.headers['x-splunk-request-channel']).toBeUndefined();
      expect(receiver.events[0]?.fields).toMatchObject({ event_id: idempotencyKey(TARGET, enriched) });
    });

    it('a wrong token: 403 {"text":"Invalid token","code":4}, permanent, token hidden', async () => {
      // Prepare
      const receiver = await startSplunkReceiver({ token: 'another-token-entirely' });
      closers.push(() => receiver.close());
      const target = makeSplunk(receiver.url);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 403 });
      expect(error.message).toContain('Invalid token');
      expectNoLeak(error, [TOKEN]);
    });

    it('an index the token may not write: 400 code 7 Incorrect index, permanent', async () => {
      // Prepare
      const receiver = await receiverWith({ indexes: ['main'] });
      const target = makeSplunk(receiver.url, { index: 'aws_security' });

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('Incorrect index');
    });

    it.each([
      { code: 9, text: 'Server is busy', retryable: true },
      { code: 8, text: 'Internal server error', retryable: true },
      { code: 6, text: 'Invalid data format', retryable: false },
      { code: 7, text: 'Incorrect index', retryable: false },
      { code: 12, text: 'Event field is required', retryable: false },
      { code: 2, text: 'Token is required', retryable: false },
      { code: 3, text: 'Invalid authorization', retryable: false },
      { code: 4, text: 'Invalid token', retryable: false },
      { code: 99, text: 'A code not documented yet', retryable: false },
    ])('HTTP 200 with code $code ($text) is a failure, retryable $retryable', async ({ code, text, retryable }) => {
      // Prepare
      const receiver = await receiverWith();
      receiver.answer = hecAnswer(200, text, code);
      const target = makeSplunk(receiver.url);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable, status: 200 });
      expect(error.message).toContain(`HEC code ${code}`);
    });

    it('a non-2xx answer is classified by its HEC code when status and code disagree', async () => {
      // Prepare
      const receiver = await receiverWith();
      receiver.answer = hecAnswer(400, 'Server is busy', 9);
      const target = makeSplunk(receiver.url);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 400 });
      expect(error.message).toContain('HEC code 9');
    });
  });

  describe('indexer acknowledgement', () => {
    it('waits for /services/collector/ack to report the ackId as true; false means not yet', async () => {
      // Prepare
      const receiver = await receiverWith({ useAck: true });
      receiver.pendingPolls = 2;
      const target = makeSplunk(receiver.url, { useAck: true });

      // Act
      await sendFinding(target, sample());

      // Assess
      expect(receiver.requests.map((request) => [request.path, request.answer])).toEqual([
        ['/services/collector/event', '{"text":"Success","code":0,"ackId":0}'],
        ['/services/collector/ack', '{"acks":{"0":false}}'],
        ['/services/collector/ack', '{"acks":{"0":false}}'],
        ['/services/collector/ack', '{"acks":{"0":true}}'],
      ]);
      const channels = new Set(receiver.requests.map((request) => request.headers['x-splunk-request-channel']));
      expect([...channels]).toEqual([requestChannel(TARGET)]);
      expect(JSON.parse(receiver.requests[1]?.body ?? '')).toEqual({ acks: [0] });
    });

    it('the channel is a GUID derived from the target name: stable across cold starts, distinct per target', () => {
      // Prepare
      const names = [TARGET, TARGET, 'splunk-other'];

      // Act
      const channels = names.map(requestChannel);

      // Assess
      expect(channels[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(channels[1]).toBe(channels[0]);
      expect(channels[2]).not.toBe(channels[0]);
    });

    it('never acknowledged before the deadline: retryable, and it stops in time', async () => {
      // Prepare
      const receiver = await receiverWith({ useAck: true });
      receiver.pendingPolls = Number.POSITIVE_INFINITY;
      const target = makeSplunk(receiver.url, { useAck: true });
      const started = Date.now();

      // Act
      const error = await failure(sendFinding(target, sample(), 1_500));

      // Assess
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(error).toMatchObject({ retryable: true });
      expect(error.message).toContain('did not acknowledge ackId 0');
      expect(receiver.requests.filter((request) => request.path === '/services/collector/ack').length).toBeGreaterThanOrEqual(2);
    });

    it('an ack-enabled token without useAck: 400 code 10 Data channel is missing, permanent', async () => {
      // Prepare
      const receiver = await receiverWith({ useAck: true });
      const target = makeSplunk(receiver.url);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('Data channel is missing');
    });

    it('useAck against a token without acknowledgement: 200 without ackId counts as delivered', async () => {
      // Prepare
      const receiver = await receiverWith({ useAck: false });
      const target = makeSplunk(receiver.url, { useAck: true });

      // Act
      await sendFinding(target, sample());

      // Assess
      expect(receiver.requests.map((request) => request.path)).toEqual(['/services/collector/event']);
      expect(receiver.events).toHaveLength(1);
    });
  });

  describe('status classification', () => {
    const SUCCESS = '{"text":"Success","code":0}';
    const BODIES: Record<number, string> = {
      200: SUCCESS,
      201: SUCCESS,
      202: SUCCESS,
      400: '{"text":"Invalid data format","code":6,"invalid-event-number":0}',
      401: '{"text":"Token is required","code":2}',
      403: '{"text":"Invalid token","code":4}',
      404: '{"text":"The requested URL was not found on this server.","code":404}',
      413: 'Content-Length of 2000000 too large (maximum is 1000000)',
      500: '{"text":"Internal server error","code":8}',
      502: '<html>Bad Gateway</html>',
      503: '{"text":"Server is busy","code":9}',
    };
    itClassifiesStatuses(statusTable(splunkTarget.statusExceptions), {
      secrets: [TOKEN],
      prepare: async (status) => {
        const receiver = await receiverWith();
        receiver.answer = { status, body: BODIES[status] ?? '', ...(status === 301 ? { headers: { location: 'https://elsewhere.example/' } } : {}) };
        const target = makeSplunk(receiver.url);
        return () => sendFinding(target, sample());
      },
    });
  });

  describe('secrets', () => {
    it('a HEC echoing the token in its error body: redacted', async () => {
      // Prepare
      const receiver = await receiverWith();
      receiver.answer = hecAnswer(403, `Invalid token ${TOKEN}`, 4);
      const target = makeSplunk(receiver.url);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error.message).toContain('[REDACTED]');
      expectNoLeak(error, [TOKEN]);
    });

    itNeverLeaks({
      what: 'the token',
      secrets: [TOKEN],
      statuses: { '4xx': 401, '5xx': 503 },
      echoing: async (status) => {
        const receiver = await receiverWith();
        receiver.answer = status === 401 ? hecAnswer(401, `Invalid authorization Splunk ${TOKEN}`, 3) : hecAnswer(503, `Server is busy (token=${TOKEN})`, 9);
        return receiver.url;
      },
      send: (url, deadlineMs) => sendFinding(makeSplunk(url, { useAck: true }), sample(), deadlineMs),
    });
  });

  describe('settings', () => {
    it.each([
      [{ url: 'splunk.example.com:8088' }, 'url'],
      [{ url: 'ftp://splunk.example.com' }, 'url'],
      [{ url: 'https://splunk.example.com:8088?token=x' }, 'url'],
      [{ index: 'Main' }, 'index'],
      [{ index: '_internal' }, 'index'],
      [{ format: 'ecs' }, 'format'],
      [{ token: 'plaintext-token' }, 'token'],
      [{ hecToken: { env: 'X' } }, 'hecToken'],
    ])('rejects %j (%s)', (override, field) => {
      // Prepare
      const config = { type: 'splunk', url: 'https://splunk.example.com:8088', token: { env: 'HEC_TOKEN' }, ...override };

      // Act
      const result = z.safeParse(SplunkConfigSchema, config);

      // Assess
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain(field);
    });

    it('accepts a full configuration', () => {
      // Prepare
      const config = {
        type: 'splunk',
        url: 'https://http-inputs-acme.splunkcloud.com',
        token: { ssm: '/guardduty/hec-token' },
        index: 'aws_security',
        source: 'guardduty',
        sourcetype: 'aws:cloudwatch:guardduty',
        host: 'findings-router',
        format: 'enriched',
        useAck: true,
        maxRequestBytes: 800_000,
      };

      // Act
      const result = z.safeParse(SplunkConfigSchema, config);

      // Assess
      expect(result.success).toBe(true);
    });
  });
});
