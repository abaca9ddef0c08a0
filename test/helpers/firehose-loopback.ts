/**
 * Firehose loopback: an in-process HTTP server speaking the Amazon Data Firehose wire
 * protocol that `@aws-sdk/client-firehose` uses for PutRecordBatch:
 * awsJson1_1, `POST /`, `X-Amz-Target: Firehose_20150804.PutRecordBatch`,
 * `Content-Type: application/x-amz-json-1.1`, SigV4 with signing name `firehose`.
 *
 * It verifies the SigV4 signature with the loopback credentials, enforces the documented
 * PutRecordBatch limits (1-500 records, 1,000 KiB per record before base64, 4 MiB per
 * call), answers `{ FailedPutCount, Encrypted, RequestResponses }` and errors as
 * `{"__type": "...", "message": "..."}` with `x-amzn-errortype`, and stores the decoded
 * records per stream. `verifySigV4` is exported for other loopbacks (OpenSearch).
 *
 * Only node builtins are used.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const LOOPBACK_CREDENTIALS = { accessKeyId: 'AKIDFIREHOSELOOPBACK', secretAccessKey: 'firehose-loopback-secret-key' } as const;
const LOOPBACK_REGION = 'eu-west-1';
const LOOPBACK_ACCOUNT = '123456789012';

const MAX_RECORDS = 500;
const MAX_RECORD_BYTES = 1_000 * 1024;
const MAX_CALL_BYTES = 4 * 1024 * 1024;

// ── SigV4 verification ───────────────────────────────────────────────────────

interface SigV4Expectation {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
  /** Require `x-amz-content-sha256` to be present and to match the body (OpenSearch Serverless). */
  requirePayloadHash?: boolean;
}

type SigV4Result = { ok: true } | { ok: false; status: number; type: string; message: string };

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const uriEscape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const headerValue = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
};

/** Recomputes the AWS Signature Version 4 of a received request (header-based auth). */
const verifySigV4 = (
  request: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer },
  expected: SigV4Expectation,
): SigV4Result => {
  const authorization = headerValue(request.headers, 'authorization');
  const match = /^AWS4-HMAC-SHA256\s+Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization.trim());
  if (!match) return { ok: false, status: 403, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const [, credential = '', signedHeaderList = '', signature = ''] = match;
  const [accessKeyId, shortDate, region, service, terminator] = credential.split('/');
  if (accessKeyId !== expected.accessKeyId) {
    return { ok: false, status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  if (region !== expected.region || service !== expected.service || terminator !== 'aws4_request') {
    return { ok: false, status: 403, type: 'InvalidSignatureException', message: `Credential should be scoped to ${expected.region}/${expected.service}.` };
  }
  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (amzDate.slice(0, 8) !== shortDate) {
    return { ok: false, status: 403, type: 'InvalidSignatureException', message: 'Date in Credential scope does not match X-Amz-Date.' };
  }
  const bodyHash = sha256Hex(request.body);
  const declaredHash = headerValue(request.headers, 'x-amz-content-sha256');
  if (expected.requirePayloadHash && declaredHash !== bodyHash) {
    return { ok: false, status: 403, type: 'InvalidSignatureException', message: 'x-amz-content-sha256 is missing or does not match the body.' };
  }
  const url = new URL(request.url, 'http://loopback');
  const canonicalPath = uriEscape(url.pathname).replace(/%2F/g, '/');
  const query = [...url.searchParams].map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`).sort().join('&');
  const signedHeaders = signedHeaderList.split(';');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerValue(request.headers, name).trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [request.method, canonicalPath, query, canonicalHeaders, signedHeaderList, declaredHash || bodyHash].join('\n');
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${expected.secretAccessKey}`, shortDate ?? ''), region ?? ''), service ?? ''), 'aws4_request');
  const want = Buffer.from(createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex'));
  const got = Buffer.from(signature);
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    return {
      ok: false,
      status: 403,
      type: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return { ok: true };
};

// ── Firehose ─────────────────────────────────────────────────────────────────

interface FirehoseCall {
  target: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  status: number;
  errorType?: string;
}

interface CallFailure {
  status: number;
  type: string;
  message: string;
}

interface FirehoseLoopback {
  endpoint: string;
  region: string;
  credentials: typeof LOOPBACK_CREDENTIALS;
  calls: FirehoseCall[];
  /** Decoded records taken, per stream. */
  records: Map<string, string[]>;
  /** Per-record ErrorCodes answered to the next records (FIFO), e.g. 'ServiceUnavailableException'. */
  failRecords: string[];
  /** Whole-call errors answered to the next calls (FIFO). */
  failCalls: CallFailure[];
  /** Raw answers to the next calls (FIFO), after signature checks: any status, any body. */
  rawAnswers: { status: number; body: string; headers?: Record<string, string> }[];
  close(): Promise<void>;
}

const startFirehoseLoopback = async (streams: readonly string[] = ['guardduty-findings']): Promise<FirehoseLoopback> => {
  const loopback = {
    region: LOOPBACK_REGION,
    credentials: LOOPBACK_CREDENTIALS,
    calls: [] as FirehoseCall[],
    records: new Map(streams.map((stream) => [stream, [] as string[]])),
    failRecords: [] as string[],
    failCalls: [] as CallFailure[],
    rawAnswers: [] as FirehoseLoopback['rawAnswers'],
  } as FirehoseLoopback;

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const target = headerValue(req.headers, 'x-amz-target');
    const call: FirehoseCall = { target, headers: req.headers, body: raw.toString('utf8'), status: 0 };
    loopback.calls.push(call);
    const reply = (status: number, body: unknown, errorType?: string) => {
      call.status = status;
      if (errorType !== undefined) call.errorType = errorType;
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
        ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
      });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, type: string, message: string) => reply(status, { __type: type, message }, type);

    if (req.method !== 'POST' || (req.url ?? '/') !== '/') return fail(404, 'UnknownOperationException', 'Unknown operation');
    const auth = verifySigV4({ method: req.method, url: req.url ?? '/', headers: req.headers, body: raw }, { ...LOOPBACK_CREDENTIALS, region: LOOPBACK_REGION, service: 'firehose' });
    if (!auth.ok) return fail(auth.status, auth.type, auth.message);
    if (headerValue(req.headers, 'content-type') !== 'application/x-amz-json-1.1') {
      return fail(400, 'SerializationException', 'Expected Content-Type application/x-amz-json-1.1');
    }
    if (target !== 'Firehose_20150804.PutRecordBatch') return fail(400, 'UnknownOperationException', `Unknown operation ${target}`);
    let input: { DeliveryStreamName?: unknown; Records?: unknown };
    try {
      input = JSON.parse(raw.toString('utf8')) as typeof input;
      call.body = input;
    } catch {
      return fail(400, 'SerializationException', 'Start of structure or map found where not expected');
    }
    const rawAnswer = loopback.rawAnswers.shift();
    if (rawAnswer !== undefined) {
      call.status = rawAnswer.status;
      res.writeHead(rawAnswer.status, { 'x-amzn-requestid': randomUUID(), ...rawAnswer.headers });
      res.end(rawAnswer.status === 204 || rawAnswer.status === 304 ? undefined : rawAnswer.body);
      return;
    }
    const forced = loopback.failCalls.shift();
    if (forced !== undefined) return fail(forced.status, forced.type, forced.message);
    const stream = typeof input.DeliveryStreamName === 'string' ? input.DeliveryStreamName : '';
    const records = Array.isArray(input.Records) ? (input.Records as { Data?: unknown }[]) : [];
    if (records.length < 1 || records.length > MAX_RECORDS) {
      return fail(400, 'ValidationException', `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and ${MAX_RECORDS}`);
    }
    const decoded = records.map((record) => (typeof record.Data === 'string' ? Buffer.from(record.Data, 'base64') : undefined));
    if (decoded.some((data) => data === undefined || data.length === 0)) {
      return fail(400, 'ValidationException', "1 validation error detected: Value at 'records.member.data' failed to satisfy constraint: Member must not be null");
    }
    const tooLarge = decoded.findIndex((data) => (data?.length ?? 0) > MAX_RECORD_BYTES);
    if (tooLarge >= 0) {
      return fail(400, 'ValidationException', `1 validation error detected: Value at 'records.${tooLarge + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}`);
    }
    if (decoded.reduce((sum, data) => sum + (data?.length ?? 0), 0) > MAX_CALL_BYTES) {
      return fail(400, 'InvalidArgumentException', `Records size exceeds ${MAX_CALL_BYTES} bytes limit`);
    }
    const stored = loopback.records.get(stream);
    if (stored === undefined) return fail(400, 'ResourceNotFoundException', `Firehose ${stream} under account ${LOOPBACK_ACCOUNT} not found.`);
    let failed = 0;
    const responses = decoded.map((data) => {
      const errorCode = loopback.failRecords.shift();
      if (errorCode !== undefined) {
        failed++;
        return { ErrorCode: errorCode, ErrorMessage: errorCode === 'ServiceUnavailableException' ? 'Slow down.' : 'Internal failure.' };
      }
      stored.push(data?.toString('utf8') ?? '');
      return { RecordId: randomUUID().replace(/-/g, '') };
    });
    reply(200, { FailedPutCount: failed, Encrypted: false, RequestResponses: responses });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  loopback.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  loopback.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return loopback;
};

export { startFirehoseLoopback, verifySigV4, LOOPBACK_CREDENTIALS };
export type { FirehoseLoopback, SigV4Expectation };
