import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import * as z from 'zod/mini';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { DestinationRefusedError } from '../../../shared/errors.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import {
  buildRecord,
  FirehoseConfigSchema,
  firehoseTarget,
  MAX_BATCH_BYTES,
  MAX_RECORD_BYTES,
  planBatches,
  type FirehoseConfig,
} from '../../../shared/targets/firehose.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { LOOPBACK_CREDENTIALS, startFirehoseLoopback, type FirehoseLoopback } from '../../helpers/firehose-loopback.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { representativeFindings, REPRESENTATIVE_NAMES } from '../../helpers/representative.ts';
import { deliveryFor, failure, itClassifiesStatuses, itNeverLeaks, pick, sendFinding, statusTable, targetContext } from '../../helpers/target-contract.ts';

const STREAM = 'guardduty-findings';
const TARGET = 'findings-lake';
const SECRET_KEY = LOOPBACK_CREDENTIALS.secretAccessKey;
const SESSION_TOKEN = 'FwoGZXIvYXdzEFIREHOSESESSIONTOKEN0123456789';

// ── Plumbing ─────────────────────────────────────────────────────────────────

const closers: (() => Promise<void>)[] = [];
beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', LOOPBACK_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', SECRET_KEY);
  vi.stubEnv('AWS_SESSION_TOKEN', '');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closers.splice(0).map((close) => close()));
});

const loopbackWith = async (streams: readonly string[] = [STREAM]): Promise<FirehoseLoopback> => {
  const loopback = await startFirehoseLoopback(streams);
  closers.push(() => loopback.close());
  return loopback;
};

const makeTarget = (endpoint: string, settings: Partial<FirehoseConfig> = {}, name = TARGET): Target =>
  firehoseTarget.create(
    name,
    { type: 'firehose', deliveryStreamName: STREAM, region: 'eu-west-1', endpoint, allowPrivateNetwork: true, ...settings },
    targetContext(),
  );

const ATTACKS = '<!channel> <script>alert(1)</script> | = \\ \r\n \u2028 [link|https://evil] {{template}} "}\n{"injected":true}';
const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONFIG: FirehoseConfig = { type: 'firehose', deliveryStreamName: STREAM };

let representative: [string, EnrichedFinding][] = [];
beforeAll(async () => {
  representative = await representativeFindings();
});
const sample = (name = 'instance'): EnrichedFinding => pick(representative, name);

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: firehose', () => {
  describe('record golden files', () => {
    it.each(REPRESENTATIVE_NAMES)('renders %s as in test/golden/firehose', async (name) => {
      // Prepare
      const enriched = sample(name);

      // Act
      const record = buildRecord(enriched, { ...CONFIG, format: 'enriched' });

      // Assess
      expect(record.endsWith('\n')).toBe(true);
      expect(record.indexOf('\n')).toBe(record.length - 1);
      const parsed: unknown = JSON.parse(record);
      await expect(`${JSON.stringify(parsed, null, 2)}\n`).toMatchFileSnapshot(`../../golden/firehose/${name}.json`);
      expect(parsed).toEqual(JSON.parse(JSON.stringify(enriched)));
    });

    it('format raw (the default) is the finding exactly as GuardDuty sent it, one line', () => {
      // Prepare
      const enriched = sample('malware-scan');
      const target = makeTarget('https://firehose.eu-west-1.amazonaws.com');

      // Act
      const payload = target.render(enriched);

      // Assess
      expect(payload).toMatchObject({ contentType: 'application/x-ndjson', extension: 'ndjson' });
      expect(payload.body).toBe(`${JSON.stringify(enriched.finding)}\n`);
      expect(target.render(structuredClone(enriched))).toEqual(payload);
    });
  });

  describe('hostile finding', () => {
    it('stays one JSON line: strict parse, exact round trip, no injected record', async () => {
      // Prepare
      const finding = hostileFinding();
      const enriched = await enrichedFrom({ ...finding, title: `${ATTACKS}${finding.title}` }, hostileAccount());

      // Act
      const record = buildRecord(enriched, { ...CONFIG, format: 'enriched' });

      // Assess
      expect(record.split('\n')).toHaveLength(2);
      expect(record).not.toMatch(/\r/);
      expect(JSON.parse(record)).toEqual(JSON.parse(JSON.stringify(enriched)));
    });
  });

  describe('limits', () => {
    it('a record over 1,000 KiB is cut to fit with a visible marker', async () => {
      // Prepare
      const huge = await enrichedFrom({ ...sample('instance').finding, description: '😀é中&'.repeat(200_000) });

      // Act
      const record = buildRecord(huge, CONFIG);

      // Assess
      expect(Buffer.byteLength(record)).toBeLessThanOrEqual(MAX_RECORD_BYTES);
      const parsed = JSON.parse(record) as { description: string };
      expect(parsed.description.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(parsed.description).not.toMatch(BROKEN_SURROGATE);
    });

    it('batches hold at most 500 records and 4 MiB; a record over 1,000 KiB is refused', () => {
      // Prepare
      const small = Array.from({ length: 1_200 }, () => new Uint8Array(10));
      const large = Array.from({ length: 5 }, () => new Uint8Array(MAX_RECORD_BYTES));

      // Act
      const [smallBatches, largeBatches] = [planBatches(small), planBatches(large)];

      // Assess
      expect(smallBatches.map((batch) => batch.length)).toEqual([500, 500, 200]);
      expect(largeBatches.map((batch) => batch.length)).toEqual([4, 1]);
      expect(largeBatches.every((batch) => batch.reduce((sum, r) => sum + r.byteLength, 0) <= MAX_BATCH_BYTES)).toBe(true);
      expect(() => planBatches([new Uint8Array(MAX_RECORD_BYTES + 1)])).toThrow(RangeError);
    });

    it('a payload over 1,000 KiB is refused before sending, permanent', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const target = makeTarget(loopback.endpoint);
      const payload = { body: 'x'.repeat(MAX_RECORD_BYTES + 1), contentType: 'application/x-ndjson', extension: 'ndjson' };

      // Act
      const error = await failure(target.send({ payload, finding: sample(), ...deliveryFor(target, sample()) }));

      // Assess
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toContain('exceeds');
      expect(loopback.calls).toHaveLength(0);
    });

    it('the loopback refuses an oversized record the way Firehose does', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const client = new FirehoseClient({ region: loopback.region, endpoint: loopback.endpoint, credentials: loopback.credentials, maxAttempts: 1 });
      const command = new PutRecordBatchCommand({ DeliveryStreamName: STREAM, Records: [{ Data: new Uint8Array(MAX_RECORD_BYTES + 1) }] });

      // Act
      const error = await client.send(command).then(
        () => undefined,
        (caught: unknown) => caught as { name: string; $metadata: { httpStatusCode: number } },
      );

      // Assess
      expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect(loopback.records.get(STREAM)).toEqual([]);
    });
  });

  describe('delivery with PutRecordBatch', () => {
    it('sends one signed awsJson1_1 PutRecordBatch with the record; Firehose stores it', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const target = makeTarget(loopback.endpoint);
      const enriched = sample('lambda');

      // Act
      await sendFinding(target, enriched);

      // Assess
      const [call] = loopback.calls;
      expect(call).toMatchObject({ target: 'Firehose_20150804.PutRecordBatch', status: 200 });
      expect(call?.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(call?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFIREHOSELOOPBACK\/\d{8}\/eu-west-1\/firehose\/aws4_request/);
      expect(call?.body).toMatchObject({ DeliveryStreamName: STREAM });
      expect(loopback.records.get(STREAM)).toEqual([`${JSON.stringify(enriched.finding)}\n`]);
    });

    it.each([
      { code: 'ServiceUnavailableException', retryable: true },
      { code: 'InternalFailure', retryable: true },
      { code: 'KMS.ThrottlingException', retryable: true },
      { code: 'KMS.AccessDeniedException', retryable: false },
      { code: 'KMS.DisabledException', retryable: false },
    ])('FailedPutCount 1 with ErrorCode $code → retryable $retryable', async ({ code, retryable }) => {
      // Prepare
      const loopback = await loopbackWith();
      loopback.failRecords.push(code);
      const target = makeTarget(loopback.endpoint);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(loopback.calls[0]?.status).toBe(200);
      expect(error).toMatchObject({ retryable });
      expect(error.message).toContain(code);
      expect(loopback.records.get(STREAM)).toEqual([]);
    });

    it.each([
      { status: 400, type: 'ResourceNotFoundException', message: 'Firehose x under account 123456789012 not found.', retryable: false },
      { status: 400, type: 'InvalidArgumentException', message: 'Records size exceeds 4194304 bytes limit', retryable: false },
      { status: 400, type: 'InvalidKMSResourceException', message: 'KMS key is disabled', retryable: false },
      { status: 400, type: 'AccessDeniedException', message: 'User is not authorized to perform: firehose:PutRecordBatch', retryable: false },
      { status: 400, type: 'ThrottlingException', message: 'Rate exceeded', retryable: true },
      { status: 503, type: 'ServiceUnavailableException', message: 'Slow down.', retryable: true },
      { status: 500, type: 'InternalFailure', message: 'Internal failure', retryable: true },
    ])('a call failing with $status $type → retryable $retryable', async ({ status, type, message, retryable }) => {
      // Prepare
      const loopback = await loopbackWith();
      loopback.failCalls.push({ status, type, message });
      const target = makeTarget(loopback.endpoint);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable, status });
      expect(error.message).toContain(type);
    });

    it('an unknown stream: ResourceNotFoundException from the loopback, permanent', async () => {
      // Prepare
      const loopback = await loopbackWith(['another-stream']);
      const target = makeTarget(loopback.endpoint);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('ResourceNotFoundException');
    });

    it('a loopback endpoint without allowPrivateNetwork is refused before any request', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const target = makeTarget(loopback.endpoint, { allowPrivateNetwork: false });

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toBeInstanceOf(DestinationRefusedError);
      expect(loopback.calls).toHaveLength(0);
    });

    it('no region in the settings nor in AWS_REGION: permanent', async () => {
      // Prepare
      vi.stubEnv('AWS_REGION', '');
      const target = firehoseTarget.create(TARGET, { type: 'firehose', deliveryStreamName: STREAM }, {
        secrets: localSecretResolver({}),
        http: createHttpClient(),
        stdout: process.stdout,
        ledger: memoryLedger(),
      });

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toContain('no region');
    });
  });

  describe('status classification', () => {
    const OK = '{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[{"RecordId":"49543463076548007577105092703039560359975228518395019266"}]}';
    const awsError = (type: string) => JSON.stringify({ __type: type, message: `${type} from the loopback` });
    const BODIES: Record<number, string> = {
      200: OK,
      201: OK,
      202: OK,
      204: '',
      301: '',
      400: awsError('InvalidArgumentException'),
      401: awsError('UnrecognizedClientException'),
      403: awsError('AccessDeniedException'),
      404: awsError('UnknownOperationException'),
      408: awsError('RequestTimeout'),
      409: awsError('ConcurrentModificationException'),
      413: awsError('RequestEntityTooLarge'),
      429: awsError('ThrottlingException'),
      500: awsError('InternalFailure'),
      502: '<html>Bad Gateway</html>',
      503: awsError('ServiceUnavailableException'),
      504: '',
    };
    itClassifiesStatuses(statusTable(firehoseTarget.statusExceptions), {
      secrets: [SECRET_KEY],
      prepare: async (status) => {
        const loopback = await loopbackWith();
        loopback.rawAnswers.push({ status, body: BODIES[status] ?? '', headers: { 'content-type': 'application/x-amz-json-1.1', ...(status === 301 ? { location: 'https://elsewhere.example/' } : {}) } });
        const target = makeTarget(loopback.endpoint);
        return () => sendFinding(target, sample());
      },
    });
  });

  describe('secrets', () => {
    itNeverLeaks({
      what: 'the secret key and session token',
      secrets: [SECRET_KEY, SESSION_TOKEN],
      statuses: { '4xx': 403, '5xx': 503 },
      timeoutMessage: 'PutRecordBatch failed: timed out',
      before: () => vi.stubEnv('AWS_SESSION_TOKEN', SESSION_TOKEN),
      echoing: async (status) => {
        const loopback = await loopbackWith();
        const echo = `signed with ${SECRET_KEY} and token=${SESSION_TOKEN}`;
        loopback.rawAnswers.push(
          status === 403
            ? { status: 403, body: JSON.stringify({ __type: 'InvalidSignatureException', message: echo }), headers: { 'x-amzn-errortype': 'InvalidSignatureException' } }
            : { status: 503, body: JSON.stringify({ __type: 'ServiceUnavailableException', message: echo }), headers: { 'x-amzn-errortype': 'ServiceUnavailableException' } },
        );
        return loopback.endpoint;
      },
      send: (endpoint, deadlineMs) => sendFinding(makeTarget(endpoint), sample(), deadlineMs),
    });
  });

  describe('settings', () => {
    it.each([
      [{ deliveryStreamName: 'has space' }, 'deliveryStreamName'],
      [{ deliveryStreamName: 'x'.repeat(65) }, 'deliveryStreamName'],
      [{ region: 'Europe' }, 'region'],
      [{ endpoint: 'firehose.local' }, 'endpoint'],
      [{ format: 'ecs' }, 'format'],
      [{ streamName: 'x' }, 'streamName'],
    ])('rejects %j (%s)', (override, field) => {
      // Prepare
      const config = { type: 'firehose', deliveryStreamName: STREAM, ...override };

      // Act
      const result = z.safeParse(FirehoseConfigSchema, config);

      // Assess
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain(field);
    });
  });
});
