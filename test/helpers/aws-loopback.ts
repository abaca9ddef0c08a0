/**
 * AWS loopback: a tiny in-process HTTP server that speaks the real AWS wire
 * protocols used by the findings router, so tests can drive the genuine
 * AWS SDK v3 clients (serialisation, signing, error parsing, SQS MD5
 * validation) instead of mocking client methods.
 *
 * Protocols (as sent by the installed SDK v3 clients):
 * - EventBridge      awsJson1_1  X-Amz-Target: AWSEvents.<Op>         signing name "events"
 * - SQS              awsJson1_0  X-Amz-Target: AmazonSQS.<Op>         signing name "sqs"
 *                    (awsQueryCompatible: errors carry `x-amzn-query-error: <QueryCode>;Sender|Receiver`)
 * - SSM              awsJson1_1  X-Amz-Target: AmazonSSM.<Op>         signing name "ssm"
 * - Secrets Manager  awsJson1_1  X-Amz-Target: secretsmanager.<Op>    signing name "secretsmanager"
 *
 * Every request must be SigV4-signed with the loopback credentials; the
 * signature itself is verified (disable with `verifySignatures: false`).
 *
 * Only node builtins are used.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

type LoopbackService = 'events' | 'sqs' | 'ssm' | 'secretsmanager';

interface LoopbackCall {
  /** Service derived from the X-Amz-Target prefix; 'unknown' when absent/unrecognised. */
  service: LoopbackService | 'unknown';
  /** Operation name from X-Amz-Target (e.g. 'PutEvents'); '' when absent. */
  operation: string;
  /** Parsed JSON request body (raw string if it was not valid JSON). */
  body: unknown;
  /** Request headers, lower-cased names. */
  headers: Record<string, string>;
  /** HTTP status the loopback answered with (set once the response is written). */
  status: number;
  /** Error code answered with, if any (e.g. 'ThrottlingException'). */
  errorCode?: string;
}

interface LoopbackClientConfig {
  endpoint: string;
  region: 'us-east-1';
  credentials: { accessKeyId: 'AKIDLOOPBACK'; secretAccessKey: 'loopback-secret' };
  maxAttempts: 1;
}

interface LoopbackEvent {
  EventId: string;
  EventBusName: string;
  Source: string;
  DetailType: string;
  /** Detail exactly as sent (JSON string). */
  Detail: string;
  /** Detail parsed. */
  detail: Record<string, unknown>;
  Resources: string[];
  Time?: Date;
  TraceHeader?: string;
  /** The raw entry as received on the wire. */
  raw: Record<string, unknown>;
}

interface LoopbackPutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: unknown;
  TraceHeader?: string;
  [key: string]: unknown;
}

export interface LoopbackMessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64, as on the JSON wire. */
  BinaryValue?: string;
  StringListValues?: string[];
  BinaryListValues?: string[];
}

interface LoopbackMessage {
  MessageId: string;
  Body: string;
  MessageAttributes: Record<string, LoopbackMessageAttributeValue>;
  MessageSystemAttributes: Record<string, LoopbackMessageAttributeValue>;
  /** Effective delay in seconds (message value, or queue default). */
  DelaySeconds: number;
  MD5OfMessageBody: string;
  MD5OfMessageAttributes?: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
  SequenceNumber?: string;
  /** Loopback-clock ms when the message was sent. */
  sentAt: number;
  /** Loopback-clock ms from which the message may be received (delay or visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** Every receipt handle issued for this message, oldest first. */
  receiptHandles: string[];
  /** Latest receipt handle. */
  ReceiptHandle?: string;
  /** ARN of the queue this message was moved from by a redrive policy. */
  deadLetterSourceArn?: string;
}

interface LoopbackQueue {
  name: string;
  url: string;
  arn: string;
  fifo: boolean;
  /** Queue attributes as strings, e.g. VisibilityTimeout, DelaySeconds, RedrivePolicy. */
  attributes: Record<string, string>;
  /** Messages not yet deleted (delayed, visible and in flight). */
  messages: LoopbackMessage[];
  /** Messages removed by DeleteMessage(Batch), in deletion order. */
  deleted: LoopbackMessage[];
}

type LoopbackParameterType = 'String' | 'StringList' | 'SecureString';
interface LoopbackParameter {
  Value: string;
  Type?: LoopbackParameterType;
  Version?: number;
  LastModifiedDate?: Date;
}
/** A bare string means `{ Value, Type: 'String' }`. */
type LoopbackParameterValue = string | LoopbackParameter;

interface LoopbackSecret {
  SecretString?: string;
  /** Returned base64-encoded on the wire. */
  SecretBinary?: Uint8Array;
  VersionId?: string;
  CreatedDate?: Date;
}
/** A bare string means `{ SecretString }`. */
type LoopbackSecretValue = string | LoopbackSecret;

interface LoopbackFailure {
  /** HTTP status; default 400. */
  status?: number;
  /** Error code, e.g. 'ThrottlingException'. The SDK surfaces it as `error.name`. */
  code: string;
  message?: string;
  /** SQS only: the awsQuery code for `x-amzn-query-error` (defaults to the modeled one, else `code`). */
  queryCode?: string;
  /** How many consecutive calls to fail; default 1. */
  times?: number;
}

interface LoopbackEntryFailure {
  ErrorCode: string;
  ErrorMessage?: string;
  /** How many matching entries to reject before the rule expires; default unlimited. */
  times?: number;
}

interface LoopbackBatchEntry {
  Id: string;
  MessageBody?: string;
  MessageAttributes?: Record<string, LoopbackMessageAttributeValue>;
  DelaySeconds?: number;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
  [key: string]: unknown;
}

interface LoopbackBatchFailure {
  Code: string;
  Message?: string;
  /** Default true. */
  SenderFault?: boolean;
  /** How many matching entries to reject before the rule expires; default unlimited. */
  times?: number;
}

interface LoopbackQueueInit {
  name: string;
  attributes?: Record<string, string>;
}

export interface AwsLoopbackOptions {
  /** Port to listen on (127.0.0.1); default 0 = ephemeral. */
  port?: number;
  /** Account id used in queue URLs and ARNs; default '000000000000'. */
  accountId?: string;
  /** Queues created up front (name ending in '.fifo' makes a FIFO queue). */
  queues?: Array<string | LoopbackQueueInit>;
  /** Create a queue on first reference instead of answering QueueDoesNotExist; default false. */
  autoCreateQueues?: boolean;
  /** Initial SSM parameters. */
  parameters?: Record<string, LoopbackParameterValue>;
  /** Initial Secrets Manager secrets, keyed by name. */
  secrets?: Record<string, LoopbackSecretValue>;
  /** Verify the SigV4 signature (not just its presence); default true. */
  verifySignatures?: boolean;
}

export interface AwsLoopback {
  endpoint: string;
  clientConfig: LoopbackClientConfig;
  /** Every request received, in arrival order (including rejected ones). */
  calls: LoopbackCall[];
  /** Every PutEvents entry that was accepted (has an EventId). */
  events: LoopbackEvent[];
  /** Queues keyed by queue name. */
  queues: Map<string, LoopbackQueue>;
  /** SSM parameters keyed by name. */
  parameters: Map<string, LoopbackParameterValue>;
  /** Secrets keyed by name (GetSecretValue also accepts the ARN). */
  secrets: Map<string, LoopbackSecretValue>;

  /** Answer the next call(s) of `operation` (e.g. 'PutEvents') with the service's error shape. */
  failNext(operation: string, failure: LoopbackFailure): void;
  /** PutEvents partial failure: matching entries get ErrorCode/ErrorMessage instead of an EventId. Returns a remover. */
  rejectEntries(
    predicate: (entry: LoopbackPutEventsEntry, index: number) => boolean,
    failure: LoopbackEntryFailure,
  ): () => void;
  /** SendMessageBatch partial failure: matching entries land in Failed[] (Id, SenderFault, Code, Message). Returns a remover. */
  rejectBatchEntries(
    predicate: (entry: LoopbackBatchEntry, queue: LoopbackQueue, index: number) => boolean,
    failure: LoopbackBatchFailure,
  ): () => void;

  /** Create (or return) a queue; returns it. */
  createQueue(name: string, attributes?: Record<string, string>): LoopbackQueue;
  /** Queue URL for a name (the queue need not exist). */
  queueUrl(name: string): string;
  /** Look a queue up by name, URL or ARN; throws if missing. */
  queue(nameOrUrl: string): LoopbackQueue;
  /** Current loopback clock (ms). Delays and visibility timeouts use this clock. */
  now(): number;
  /** Move the loopback clock forward (e.g. past DelaySeconds / VisibilityTimeout) without sleeping. */
  advanceTime(ms: number): void;
  /** Clear recorded calls/events, pending failures and rejection rules (queues/parameters/secrets are kept). */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

const REGION = 'us-east-1';
const ACCESS_KEY_ID = 'AKIDLOOPBACK';
const SECRET_ACCESS_KEY = 'loopback-secret';

const TARGET_PREFIXES: Record<string, LoopbackService> = {
  AWSEvents: 'events',
  AmazonSQS: 'sqs',
  AmazonSSM: 'ssm',
  secretsmanager: 'secretsmanager',
};

const CONTENT_TYPES: Record<LoopbackService, string> = {
  events: 'application/x-amz-json-1.1',
  sqs: 'application/x-amz-json-1.0',
  ssm: 'application/x-amz-json-1.1',
  secretsmanager: 'application/x-amz-json-1.1',
};

/** SQS modeled error name → [awsQuery code, HTTP status] (from the SQS Smithy model). */
const SQS_QUERY_ERRORS: Record<string, [string, number]> = {
  BatchEntryIdsNotDistinct: ['AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 400],
  BatchRequestTooLong: ['AWS.SimpleQueueService.BatchRequestTooLong', 400],
  EmptyBatchRequest: ['AWS.SimpleQueueService.EmptyBatchRequest', 400],
  InvalidAddress: ['InvalidAddress', 404],
  InvalidBatchEntryId: ['AWS.SimpleQueueService.InvalidBatchEntryId', 400],
  InvalidSecurity: ['InvalidSecurity', 403],
  KmsThrottled: ['KMS.ThrottlingException', 400],
  MessageNotInflight: ['AWS.SimpleQueueService.MessageNotInflight', 400],
  OverLimit: ['OverLimit', 403],
  PurgeQueueInProgress: ['AWS.SimpleQueueService.PurgeQueueInProgress', 403],
  QueueDeletedRecently: ['AWS.SimpleQueueService.QueueDeletedRecently', 400],
  QueueDoesNotExist: ['AWS.SimpleQueueService.NonExistentQueue', 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  RequestThrottled: ['RequestThrottled', 403],
  ResourceNotFoundException: ['ResourceNotFoundException', 404],
  TooManyEntriesInBatchRequest: ['AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 400],
  UnsupportedOperation: ['AWS.SimpleQueueService.UnsupportedOperation', 400],
};

const SQS_QUEUE_ATTRIBUTE_NAMES = new Set([
  'All',
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
]);

const MAX_EVENTS_REQUEST_BYTES = 256 * 1024;
const SQS_MAX_MESSAGE_BYTES = 256 * 1024;
const SQS_DEFAULT_ATTRIBUTES: Record<string, string> = {
  VisibilityTimeout: '30',
  DelaySeconds: '0',
  MaximumMessageSize: String(SQS_MAX_MESSAGE_BYTES),
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
};

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

class AwsError extends Error {
  code: string;
  status: number;
  /** SQS awsQuery code; when unset for SQS, derived from SQS_QUERY_ERRORS or the code. */
  queryCode: string | undefined;
  /** undefined → omit the message member (SSM ParameterNotFound really has none). */
  wireMessage: string | undefined;

  constructor(code: string, message: string | undefined, status = 400, queryCode?: string) {
    super(message ?? code);
    this.code = code;
    this.status = status;
    this.queryCode = queryCode;
    this.wireMessage = message;
  }
}

function sqsError(name: string, message: string): AwsError {
  const modeled = SQS_QUERY_ERRORS[name];
  return new AwsError(name, message, modeled?.[1] ?? 400, modeled?.[0] ?? name);
}

function validationError(message: string): AwsError {
  return new AwsError('ValidationException', message, 400);
}

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

const md5Hex = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');
const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const utf8Length = (s: string | undefined): number => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function int(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function lengthPrefixed(buf: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length, 0);
  return Buffer.concat([len, buf]);
}

/**
 * MD5 of message attributes exactly as SQS computes it: attributes sorted by
 * name; for each, length-prefixed (4-byte big-endian) UTF-8 name and data
 * type, a transport byte (1 = String/Number, 2 = Binary, 3 = String list,
 * 4 = Binary list) and the length-prefixed value bytes.
 */
export function md5OfMessageAttributes(attributes: Record<string, LoopbackMessageAttributeValue>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  for (const name of names) {
    const attr = attributes[name];
    if (!attr) continue;
    parts.push(lengthPrefixed(Buffer.from(name, 'utf8')));
    parts.push(lengthPrefixed(Buffer.from(attr.DataType, 'utf8')));
    if (attr.StringValue !== undefined) {
      parts.push(Buffer.from([1]), lengthPrefixed(Buffer.from(attr.StringValue, 'utf8')));
    } else if (attr.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]), lengthPrefixed(Buffer.from(attr.BinaryValue, 'base64')));
    } else if (attr.StringListValues !== undefined) {
      parts.push(Buffer.from([3]));
      for (const v of attr.StringListValues) parts.push(lengthPrefixed(Buffer.from(v, 'utf8')));
    } else if (attr.BinaryListValues !== undefined) {
      parts.push(Buffer.from([4]));
      for (const v of attr.BinaryListValues) parts.push(lengthPrefixed(Buffer.from(v, 'base64')));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

function attributeBytes(attributes: Record<string, LoopbackMessageAttributeValue>): number {
  let total = 0;
  for (const [name, attr] of Object.entries(attributes)) {
    total += utf8Length(name) + utf8Length(attr.DataType);
    if (attr.StringValue !== undefined) total += utf8Length(attr.StringValue);
    if (attr.BinaryValue !== undefined) total += Buffer.from(attr.BinaryValue, 'base64').length;
  }
  return total;
}

/** Characters SQS accepts in a message body (XML 1.0 Char production). */
function findInvalidBodyChar(body: string): number | undefined {
  for (const ch of body) {
    const cp = ch.codePointAt(0) ?? 0;
    const ok =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return cp;
  }
  return undefined;
}

/** awsJson timestamps are epoch seconds (fractional). */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function parseWireTime(value: unknown): Date | undefined {
  if (typeof value === 'number') return new Date(value * 1000);
  if (typeof value === 'string') {
    const asNumber = Number(value);
    const date = Number.isFinite(asNumber) && value.trim() !== '' ? new Date(asNumber * 1000) : new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// ---------------------------------------------------------------------------
// SigV4
// ---------------------------------------------------------------------------

interface AuthResult {
  accessKeyId: string;
}

function checkSignature(
  req: IncomingMessage,
  headers: Record<string, string>,
  rawBody: Buffer,
  expectedService: LoopbackService | undefined,
  verify: boolean,
): AuthResult {
  const authorization = headers['authorization'];
  if (authorization === undefined || authorization.trim() === '') {
    throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  }
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(authorization.trim());
  if (!match?.[1]) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${authorization}`,
      400,
    );
  }
  const fields: Record<string, string> = {};
  for (const part of match[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !fields[k]);
  if (missing.length > 0) {
    throw new AwsError(
      'IncompleteSignatureException',
      `${missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' ')} Authorization=${authorization}`,
      400,
    );
  }
  const amzDate = headers['x-amz-date'];
  if (!amzDate) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authorization}`,
      400,
    );
  }
  const credential = fields['Credential'] ?? '';
  const [accessKeyId = '', shortDate = '', region = '', service = '', terminator = ''] = credential.split('/');
  if (terminator !== 'aws4_request' || !shortDate || !region || !service) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
      400,
    );
  }
  if (accessKeyId !== ACCESS_KEY_ID) {
    throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403);
  }
  if (region !== REGION) {
    throw new AwsError(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region. `,
      403,
    );
  }
  if (expectedService && service !== expectedService) {
    throw new AwsError(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${expectedService}'. `,
      403,
    );
  }
  if (amzDate.slice(0, 8) !== shortDate) {
    throw new AwsError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${shortDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
      403,
    );
  }
  if (!verify) return { accessKeyId };

  const signedHeaders = (fields['SignedHeaders'] ?? '').split(';');
  const url = new URL(req.url ?? '/', 'http://loopback');
  const path = url.pathname;
  const segments: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  const canonicalPath = uriEscape(normalized).replace(/%2F/g, '/');
  const queryPairs: string[] = [];
  for (const [k, v] of url.searchParams) queryPairs.push(`${uriEscape(k)}=${uriEscape(v)}`);
  queryPairs.sort();
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${(headers[name] ?? '').replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')}`)
    .join('\n');
  const payloadHash = headers['x-amz-content-sha256'] ?? sha256Hex(rawBody);
  const canonicalRequest = [
    req.method ?? 'POST',
    canonicalPath,
    queryPairs.join('&'),
    `${canonicalHeaders}\n`,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${SECRET_ACCESS_KEY}`, shortDate), region), service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex'));
  const given = Buffer.from(fields['Signature'] ?? '');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new AwsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      403,
    );
  }
  return { accessKeyId };
}

// ---------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------

interface EntryRule {
  predicate: (entry: LoopbackPutEventsEntry, index: number) => boolean;
  failure: LoopbackEntryFailure;
  remaining: number;
}

interface BatchRule {
  predicate: (entry: LoopbackBatchEntry, queue: LoopbackQueue, index: number) => boolean;
  failure: LoopbackBatchFailure;
  remaining: number;
}

interface HandlerContext {
  accessKeyId: string;
}

type Handler = (body: Record<string, unknown>, ctx: HandlerContext) => unknown;

export async function startAwsLoopback(options: AwsLoopbackOptions = {}): Promise<AwsLoopback> {
  const accountId = options.accountId ?? '000000000000';
  const verifySignatures = options.verifySignatures ?? true;
  const autoCreateQueues = options.autoCreateQueues ?? false;

  const calls: LoopbackCall[] = [];
  const events: LoopbackEvent[] = [];
  const queues = new Map<string, LoopbackQueue>();
  const parameters = new Map<string, LoopbackParameterValue>(Object.entries(options.parameters ?? {}));
  const secrets = new Map<string, LoopbackSecretValue>(Object.entries(options.secrets ?? {}));
  const failures = new Map<string, LoopbackFailure[]>();
  let entryRules: EntryRule[] = [];
  let batchRules: BatchRule[] = [];
  const receiptHandles = new Map<string, { queue: LoopbackQueue; messageId: string }>();
  const dedupe = new Map<string, { messageId: string; at: number; sequenceNumber?: string }>();
  let sequence = 10_000_000_000_000_000n;
  let clockOffset = 0;
  let closed = false;
  const pendingPolls = new Set<() => void>();
  let endpoint = '';

  const now = (): number => Date.now() + clockOffset;

  // ---- queues ------------------------------------------------------------

  const queueUrl = (name: string): string => `${endpoint}/${accountId}/${name}`;

  function createQueue(name: string, attributes: Record<string, string> = {}): LoopbackQueue {
    const existing = queues.get(name);
    if (existing) return existing;
    const fifo = name.endsWith('.fifo');
    const created = String(Math.floor(now() / 1000));
    const queue: LoopbackQueue = {
      name,
      url: queueUrl(name),
      arn: `arn:aws:sqs:${REGION}:${accountId}:${name}`,
      fifo,
      attributes: {
        ...SQS_DEFAULT_ATTRIBUTES,
        ...(fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {}),
        CreatedTimestamp: created,
        LastModifiedTimestamp: created,
        ...attributes,
      },
      messages: [],
      deleted: [],
    };
    queues.set(name, queue);
    return queue;
  }

  function queueNameOf(ref: string): string {
    if (ref.startsWith('arn:')) return ref.split(':').pop() ?? ref;
    if (/^https?:\/\//.test(ref)) {
      const path = new URL(ref).pathname.replace(/\/+$/, '');
      return path.split('/').pop() ?? ref;
    }
    return ref;
  }

  function findQueue(ref: string | undefined): LoopbackQueue {
    if (!ref) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    const name = queueNameOf(ref);
    const queue = queues.get(name) ?? (autoCreateQueues ? createQueue(name) : undefined);
    if (!queue) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return queue;
  }

  function lookupQueue(nameOrUrl: string): LoopbackQueue {
    const queue = queues.get(queueNameOf(nameOrUrl));
    if (!queue) throw new Error(`aws-loopback: no queue '${nameOrUrl}' (known: ${[...queues.keys()].join(', ') || 'none'})`);
    return queue;
  }

  for (const init of options.queues ?? []) {
    if (typeof init === 'string') createQueue(init);
    else createQueue(init.name, init.attributes);
  }

  // ---- failure injection -------------------------------------------------

  function takeFailure(operation: string): LoopbackFailure | undefined {
    const list = failures.get(operation);
    const head = list?.[0];
    if (!list || !head) return undefined;
    const remaining = (head.times ?? 1) - 1;
    if (remaining <= 0) list.shift();
    else list[0] = { ...head, times: remaining };
    return head;
  }

  // ---- EventBridge -------------------------------------------------------

  function putEvents(body: Record<string, unknown>): unknown {
    const entries = body['Entries'];
    if (entries === undefined || entries === null) {
      throw validationError("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (!Array.isArray(entries)) throw new AwsError('SerializationException', 'Start of list found where not expected');
    if (entries.length < 1) {
      throw validationError(
        "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (entries.length > 10) {
      throw validationError(
        `1 validation error detected: Value '[${entries.map(() => 'PutEventsRequestEntry').join(', ')}]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10`,
      );
    }
    // Entry size as documented in "Calculating PutEvents event entry size".
    let total = 0;
    for (const raw of entries) {
      const entry: LoopbackPutEventsEntry = isRecord(raw) ? raw : {};
      if (entry.Time !== undefined) total += 14;
      total += utf8Length(str(entry.Source)) + utf8Length(str(entry.DetailType)) + utf8Length(str(entry.Detail));
      for (const r of Array.isArray(entry.Resources) ? entry.Resources : []) total += utf8Length(str(r));
    }
    if (total > MAX_EVENTS_REQUEST_BYTES) {
      throw validationError('Total size of the entries in the request is over the limit.');
    }

    let failed = 0;
    const results = entries.map((raw: unknown, index: number) => {
      const entry: LoopbackPutEventsEntry = isRecord(raw) ? raw : {};
      const fail = (ErrorCode: string, ErrorMessage: string | undefined): Record<string, string> => {
        failed++;
        return ErrorMessage === undefined ? { ErrorCode } : { ErrorCode, ErrorMessage };
      };
      const source = str(entry.Source);
      const detailType = str(entry.DetailType);
      const detail = str(entry.Detail);
      if (!source) return fail('InvalidArgument', 'Parameter Source is not valid. Reason: Source is a required argument.');
      if (!detailType) return fail('InvalidArgument', 'Parameter DetailType is not valid. Reason: DetailType is a required argument.');
      if (!detail) return fail('InvalidArgument', 'Parameter Detail is not valid. Reason: Detail is a required argument.');
      let parsed: unknown;
      try {
        parsed = JSON.parse(detail);
      } catch {
        parsed = undefined;
      }
      if (!isRecord(parsed)) return fail('MalformedDetail', 'Detail is malformed.');
      const rule = entryRules.find((r) => r.remaining > 0 && r.predicate(entry, index));
      if (rule) {
        rule.remaining--;
        return fail(rule.failure.ErrorCode, rule.failure.ErrorMessage);
      }
      const eventId = randomUUID();
      const time = parseWireTime(entry.Time);
      const event: LoopbackEvent = {
        EventId: eventId,
        EventBusName: str(entry.EventBusName) ?? 'default',
        Source: source,
        DetailType: detailType,
        Detail: detail,
        detail: parsed,
        Resources: Array.isArray(entry.Resources) ? entry.Resources.filter((r): r is string => typeof r === 'string') : [],
        raw: entry,
      };
      if (time) event.Time = time;
      const traceHeader = str(entry.TraceHeader);
      if (traceHeader !== undefined) event.TraceHeader = traceHeader;
      events.push(event);
      return { EventId: eventId };
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  // ---- SQS ---------------------------------------------------------------

  function parseAttributes(value: unknown): Record<string, LoopbackMessageAttributeValue> {
    const out: Record<string, LoopbackMessageAttributeValue> = {};
    if (!isRecord(value)) return out;
    for (const [name, raw] of Object.entries(value)) {
      if (!isRecord(raw)) continue;
      const attr: LoopbackMessageAttributeValue = { DataType: str(raw['DataType']) ?? '' };
      const sv = str(raw['StringValue']);
      const bv = str(raw['BinaryValue']);
      if (sv !== undefined) attr.StringValue = sv;
      if (bv !== undefined) attr.BinaryValue = bv;
      if (Array.isArray(raw['StringListValues']) && raw['StringListValues'].length > 0) {
        attr.StringListValues = raw['StringListValues'].map(String);
      }
      if (Array.isArray(raw['BinaryListValues']) && raw['BinaryListValues'].length > 0) {
        attr.BinaryListValues = raw['BinaryListValues'].map(String);
      }
      out[name] = attr;
    }
    return out;
  }

  function validateAttributes(attributes: Record<string, LoopbackMessageAttributeValue>): AwsError | undefined {
    const names = Object.keys(attributes);
    if (names.length > 10) {
      return sqsError('InvalidParameterValue', `Number of message attributes [${names.length}] exceeds the allowed maximum [10].`);
    }
    for (const name of names) {
      const attr = attributes[name];
      if (!attr) continue;
      if (!/^(String|Number|Binary)(\..+)?$/.test(attr.DataType)) {
        return sqsError(
          'InvalidParameterValue',
          `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
        );
      }
      const base = attr.DataType.split('.')[0];
      const hasValue = base === 'Binary' ? !!attr.BinaryValue : !!attr.StringValue;
      if (!hasValue) {
        return sqsError(
          'InvalidParameterValue',
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`,
        );
      }
      if (base === 'Number' && !Number.isFinite(Number(attr.StringValue))) {
        return sqsError('InvalidParameterValue', `Can't cast the value of message (user) attribute '${name}' to a number.`);
      }
    }
    return undefined;
  }

  interface SendInput {
    MessageBody?: unknown;
    DelaySeconds?: unknown;
    MessageAttributes?: unknown;
    MessageSystemAttributes?: unknown;
    MessageGroupId?: unknown;
    MessageDeduplicationId?: unknown;
  }

  interface PreparedMessage {
    body: string;
    attributes: Record<string, LoopbackMessageAttributeValue>;
    systemAttributes: Record<string, LoopbackMessageAttributeValue>;
    delaySeconds: number;
    size: number;
    groupId?: string;
    dedupeId?: string;
  }

  function prepareMessage(queue: LoopbackQueue, input: SendInput): PreparedMessage | AwsError {
    const body = input.MessageBody;
    if (typeof body !== 'string' || body.length === 0) {
      return sqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    }
    const explicitDelay = input.DelaySeconds === undefined || input.DelaySeconds === null ? undefined : int(input.DelaySeconds);
    if (input.DelaySeconds !== undefined && input.DelaySeconds !== null) {
      if (explicitDelay === undefined || explicitDelay < 0 || explicitDelay > 900) {
        return sqsError(
          'InvalidParameterValue',
          `Value ${String(input.DelaySeconds)} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`,
        );
      }
      if (queue.fifo) {
        return sqsError(
          'InvalidParameterValue',
          `Value ${explicitDelay} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
        );
      }
    }
    const badChar = findInvalidBodyChar(body);
    if (badChar !== undefined) {
      return sqsError(
        'InvalidMessageContents',
        `Invalid binary character '#x${badChar.toString(16).toUpperCase()}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
      );
    }
    const attributes = parseAttributes(input.MessageAttributes);
    const attrError = validateAttributes(attributes);
    if (attrError) return attrError;
    const systemAttributes = parseAttributes(input.MessageSystemAttributes);
    const size = utf8Length(body) + attributeBytes(attributes);
    const max = int(queue.attributes['MaximumMessageSize']) ?? SQS_MAX_MESSAGE_BYTES;
    if (size > max) {
      return sqsError(
        'InvalidParameterValue',
        `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`,
      );
    }
    const prepared: PreparedMessage = {
      body,
      attributes,
      systemAttributes,
      delaySeconds: explicitDelay ?? int(queue.attributes['DelaySeconds']) ?? 0,
      size,
    };
    const groupId = str(input.MessageGroupId);
    const dedupeId = str(input.MessageDeduplicationId);
    if (queue.fifo) {
      if (!groupId) return sqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
      if (!dedupeId && queue.attributes['ContentBasedDeduplication'] !== 'true') {
        return sqsError(
          'InvalidParameterValue',
          'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
      prepared.groupId = groupId;
      prepared.dedupeId = dedupeId ?? sha256Hex(body);
    } else if (groupId !== undefined) {
      prepared.groupId = groupId; // fair queues accept MessageGroupId on standard queues
    }
    return prepared;
  }

  function enqueue(queue: LoopbackQueue, prepared: PreparedMessage): Record<string, unknown> {
    const md5Body = md5Hex(prepared.body);
    const md5Attrs = md5OfMessageAttributes(prepared.attributes);
    const md5System = md5OfMessageAttributes(prepared.systemAttributes);
    const result: Record<string, unknown> = {};
    if (queue.fifo && prepared.dedupeId) {
      const key = `${queue.name}\u0000${prepared.dedupeId}`;
      const seen = dedupe.get(key);
      if (seen && now() - seen.at < 5 * 60 * 1000) {
        result['MessageId'] = seen.messageId;
        result['MD5OfMessageBody'] = md5Body;
        if (md5Attrs) result['MD5OfMessageAttributes'] = md5Attrs;
        if (md5System) result['MD5OfMessageSystemAttributes'] = md5System;
        if (seen.sequenceNumber) result['SequenceNumber'] = seen.sequenceNumber;
        return result;
      }
    }
    const sentAt = now();
    const message: LoopbackMessage = {
      MessageId: randomUUID(),
      Body: prepared.body,
      MessageAttributes: prepared.attributes,
      MessageSystemAttributes: prepared.systemAttributes,
      DelaySeconds: prepared.delaySeconds,
      MD5OfMessageBody: md5Body,
      sentAt,
      visibleAt: sentAt + prepared.delaySeconds * 1000,
      receiveCount: 0,
      receiptHandles: [],
    };
    if (md5Attrs) message.MD5OfMessageAttributes = md5Attrs;
    if (prepared.groupId !== undefined) message.MessageGroupId = prepared.groupId;
    if (queue.fifo) {
      sequence += 1n;
      message.SequenceNumber = sequence.toString();
      if (prepared.dedupeId) {
        message.MessageDeduplicationId = prepared.dedupeId;
        dedupe.set(`${queue.name}\u0000${prepared.dedupeId}`, {
          messageId: message.MessageId,
          at: sentAt,
          sequenceNumber: message.SequenceNumber,
        });
      }
    }
    queue.messages.push(message);
    result['MessageId'] = message.MessageId;
    result['MD5OfMessageBody'] = md5Body;
    if (md5Attrs) result['MD5OfMessageAttributes'] = md5Attrs;
    if (md5System) result['MD5OfMessageSystemAttributes'] = md5System;
    if (message.SequenceNumber) result['SequenceNumber'] = message.SequenceNumber;
    return result;
  }

  function sendMessage(body: Record<string, unknown>): unknown {
    const queue = findQueue(str(body['QueueUrl']));
    const prepared = prepareMessage(queue, body);
    if (prepared instanceof AwsError) throw prepared;
    return enqueue(queue, prepared);
  }

  function validateBatchIds(entries: unknown): Record<string, unknown>[] {
    if (!Array.isArray(entries) || entries.length === 0) {
      throw sqsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
    }
    if (entries.length > 10) {
      throw sqsError(
        'TooManyEntriesInBatchRequest',
        `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
      );
    }
    const seen = new Set<string>();
    const records = entries.map((e) => (isRecord(e) ? e : {}));
    for (const entry of records) {
      const id = str(entry['Id']) ?? '';
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
        throw sqsError(
          'InvalidBatchEntryId',
          'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
        );
      }
      if (seen.has(id)) throw sqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
      seen.add(id);
    }
    return records;
  }

  function batchFailure(id: string, error: AwsError, senderFault = true): Record<string, unknown> {
    return { Id: id, SenderFault: senderFault, Code: error.queryCode ?? error.code, Message: error.wireMessage ?? error.code };
  }

  function sendMessageBatch(body: Record<string, unknown>): unknown {
    const queue = findQueue(str(body['QueueUrl']));
    const records = validateBatchIds(body['Entries']);
    let total = 0;
    for (const entry of records) {
      total += utf8Length(str(entry['MessageBody'])) + attributeBytes(parseAttributes(entry['MessageAttributes']));
    }
    if (total > SQS_MAX_MESSAGE_BYTES) {
      throw sqsError(
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${SQS_MAX_MESSAGE_BYTES} bytes. You have sent ${total} bytes.`,
      );
    }
    const Successful: Record<string, unknown>[] = [];
    const Failed: Record<string, unknown>[] = [];
    records.forEach((entry, index) => {
      const id = str(entry['Id']) ?? '';
      const prepared = prepareMessage(queue, entry);
      if (prepared instanceof AwsError) {
        Failed.push(batchFailure(id, prepared));
        return;
      }
      const batchEntry: LoopbackBatchEntry = { ...entry, Id: id, MessageAttributes: prepared.attributes };
      const rule = batchRules.find((r) => r.remaining > 0 && r.predicate(batchEntry, queue, index));
      if (rule) {
        rule.remaining--;
        const failure: Record<string, unknown> = {
          Id: id,
          SenderFault: rule.failure.SenderFault ?? true,
          Code: rule.failure.Code,
        };
        if (rule.failure.Message !== undefined) failure['Message'] = rule.failure.Message;
        Failed.push(failure);
        return;
      }
      Successful.push({ Id: id, ...enqueue(queue, prepared) });
    });
    return { Successful, Failed };
  }

  function selectMessageAttributes(
    message: LoopbackMessage,
    names: string[],
  ): Record<string, LoopbackMessageAttributeValue> | undefined {
    if (names.length === 0) return undefined;
    const out: Record<string, LoopbackMessageAttributeValue> = {};
    for (const [name, value] of Object.entries(message.MessageAttributes)) {
      const wanted = names.some((n) => {
        if (n === 'All' || n === '.*') return true;
        if (n.endsWith('.*')) return name.startsWith(n.slice(0, -1));
        return n === name;
      });
      if (wanted) out[name] = value;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }

  function systemAttributes(queue: LoopbackQueue, message: LoopbackMessage, names: string[], ctx: HandlerContext) {
    if (names.length === 0) return undefined;
    const all: Record<string, string> = {
      SenderId: ctx.accessKeyId,
      SentTimestamp: String(message.sentAt),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? now()),
    };
    if (queue.fifo) {
      if (message.MessageGroupId !== undefined) all['MessageGroupId'] = message.MessageGroupId;
      if (message.MessageDeduplicationId !== undefined) all['MessageDeduplicationId'] = message.MessageDeduplicationId;
      if (message.SequenceNumber !== undefined) all['SequenceNumber'] = message.SequenceNumber;
    } else if (message.MessageGroupId !== undefined) {
      all['MessageGroupId'] = message.MessageGroupId;
    }
    const trace = message.MessageSystemAttributes['AWSTraceHeader']?.StringValue;
    if (trace !== undefined) all['AWSTraceHeader'] = trace;
    if (message.deadLetterSourceArn) all['DeadLetterQueueSourceArn'] = message.deadLetterSourceArn;
    if (names.includes('All')) return all;
    const out: Record<string, string> = {};
    for (const n of names) {
      const v = all[n];
      if (v !== undefined) out[n] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }

  function redrive(queue: LoopbackQueue, message: LoopbackMessage): boolean {
    const policyText = queue.attributes['RedrivePolicy'];
    if (!policyText) return false;
    let policy: unknown;
    try {
      policy = JSON.parse(policyText);
    } catch {
      return false;
    }
    if (!isRecord(policy)) return false;
    const max = int(policy['maxReceiveCount']);
    const target = str(policy['deadLetterTargetArn']);
    if (max === undefined || !target || message.receiveCount < max) return false;
    const dlq = queues.get(queueNameOf(target));
    if (!dlq) return false;
    queue.messages.splice(queue.messages.indexOf(message), 1);
    message.deadLetterSourceArn = queue.arn;
    message.visibleAt = now();
    dlq.messages.push(message);
    return true;
  }

  function collectMessages(queue: LoopbackQueue, body: Record<string, unknown>, ctx: HandlerContext) {
    const max = int(body['MaxNumberOfMessages']) ?? 1;
    const visibility = int(body['VisibilityTimeout']) ?? int(queue.attributes['VisibilityTimeout']) ?? 30;
    const attributeNames = [
      ...(Array.isArray(body['AttributeNames']) ? body['AttributeNames'] : []),
      ...(Array.isArray(body['MessageSystemAttributeNames']) ? body['MessageSystemAttributeNames'] : []),
    ].map(String);
    const messageAttributeNames = (Array.isArray(body['MessageAttributeNames']) ? body['MessageAttributeNames'] : []).map(String);
    const t = now();
    const busyGroups = new Set<string>();
    if (queue.fifo) {
      for (const m of queue.messages) if (m.visibleAt > t && m.receiveCount > 0 && m.MessageGroupId) busyGroups.add(m.MessageGroupId);
    }
    const out: Record<string, unknown>[] = [];
    for (const message of [...queue.messages]) {
      if (out.length >= max) break;
      if (message.visibleAt > t) continue;
      if (queue.fifo && message.MessageGroupId && busyGroups.has(message.MessageGroupId)) continue;
      if (redrive(queue, message)) continue;
      message.receiveCount++;
      message.firstReceivedAt ??= t;
      message.visibleAt = t + visibility * 1000;
      const handle = Buffer.from(`${queue.name}:${message.MessageId}:${randomUUID()}`).toString('base64');
      message.receiptHandles.push(handle);
      message.ReceiptHandle = handle;
      receiptHandles.set(handle, { queue, messageId: message.MessageId });
      const wire: Record<string, unknown> = {
        MessageId: message.MessageId,
        ReceiptHandle: handle,
        MD5OfBody: message.MD5OfMessageBody,
        Body: message.Body,
      };
      const attrs = systemAttributes(queue, message, attributeNames, ctx);
      if (attrs) wire['Attributes'] = attrs;
      const userAttrs = selectMessageAttributes(message, messageAttributeNames);
      if (userAttrs) {
        wire['MessageAttributes'] = userAttrs;
        const md5 = md5OfMessageAttributes(userAttrs);
        if (md5) wire['MD5OfMessageAttributes'] = md5;
      }
      // (FIFO: several messages of one group may be returned by the same receive, in order.)
      out.push(wire);
    }
    return out;
  }

  async function receiveMessage(body: Record<string, unknown>, ctx: HandlerContext): Promise<unknown> {
    const queue = findQueue(str(body['QueueUrl']));
    const max = body['MaxNumberOfMessages'] === undefined ? 1 : int(body['MaxNumberOfMessages']);
    if (max === undefined || max < 1 || max > 10) {
      throw sqsError(
        'InvalidParameterValue',
        `Value ${String(body['MaxNumberOfMessages'])} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    }
    const visibility = body['VisibilityTimeout'] === undefined ? 0 : int(body['VisibilityTimeout']);
    if (visibility === undefined || visibility < 0 || visibility > 43200) {
      throw sqsError(
        'InvalidParameterValue',
        `Value ${String(body['VisibilityTimeout'])} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
      );
    }
    const wait = body['WaitTimeSeconds'] === undefined ? int(queue.attributes['ReceiveMessageWaitTimeSeconds']) ?? 0 : int(body['WaitTimeSeconds']);
    if (wait === undefined || wait < 0 || wait > 20) {
      throw sqsError(
        'InvalidParameterValue',
        `Value ${String(body['WaitTimeSeconds'])} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`,
      );
    }
    let messages = collectMessages(queue, body, ctx);
    const deadline = Date.now() + wait * 1000;
    while (messages.length === 0 && Date.now() < deadline && !closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 20);
        function done(): void {
          clearTimeout(timer);
          pendingPolls.delete(done);
          resolve();
        }
        pendingPolls.add(done);
      });
      messages = collectMessages(queue, body, ctx);
    }
    // The real service omits Messages entirely when nothing was received.
    return messages.length > 0 ? { Messages: messages } : {};
  }

  function resolveHandle(queue: LoopbackQueue, handle: unknown): LoopbackMessage | null {
    const receipt = typeof handle === 'string' ? receiptHandles.get(handle) : undefined;
    if (!receipt || receipt.queue !== queue) {
      throw sqsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(handle)}" is not a valid receipt handle.`);
    }
    return queue.messages.find((m) => m.MessageId === receipt.messageId) ?? null;
  }

  function deleteOne(queue: LoopbackQueue, handle: unknown): void {
    const message = resolveHandle(queue, handle);
    // Deleting an already-deleted message (valid handle) succeeds, like the real service.
    if (!message) return;
    queue.messages.splice(queue.messages.indexOf(message), 1);
    queue.deleted.push(message);
  }

  function changeVisibility(queue: LoopbackQueue, handle: unknown, timeout: unknown): void {
    const seconds = int(timeout);
    if (seconds === undefined || seconds < 0 || seconds > 43200) {
      throw sqsError(
        'InvalidParameterValue',
        `Value ${String(timeout)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`,
      );
    }
    const message = resolveHandle(queue, handle);
    if (!message || message.receiveCount === 0 || message.visibleAt <= now()) {
      throw sqsError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
    }
    message.visibleAt = now() + seconds * 1000;
  }

  function runBatch(
    body: Record<string, unknown>,
    action: (queue: LoopbackQueue, entry: Record<string, unknown>) => void,
  ): unknown {
    const queue = findQueue(str(body['QueueUrl']));
    const records = validateBatchIds(body['Entries']);
    const Successful: Record<string, unknown>[] = [];
    const Failed: Record<string, unknown>[] = [];
    for (const entry of records) {
      const id = str(entry['Id']) ?? '';
      try {
        action(queue, entry);
        Successful.push({ Id: id });
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        Failed.push(batchFailure(id, error));
      }
    }
    return { Successful, Failed };
  }

  function getQueueAttributes(body: Record<string, unknown>): unknown {
    const queue = findQueue(str(body['QueueUrl']));
    const requested = (Array.isArray(body['AttributeNames']) ? body['AttributeNames'] : []).map(String);
    const t = now();
    const visible = queue.messages.filter((m) => m.visibleAt <= t).length;
    const inFlight = queue.messages.filter((m) => m.visibleAt > t && m.receiveCount > 0).length;
    const delayed = queue.messages.filter((m) => m.visibleAt > t && m.receiveCount === 0).length;
    const all: Record<string, string> = {
      ...queue.attributes,
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
    };
    for (const name of requested) {
      if (!SQS_QUEUE_ATTRIBUTE_NAMES.has(name)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
    if (requested.length === 0) return {};
    if (requested.includes('All')) return { Attributes: all };
    const out: Record<string, string> = {};
    for (const name of requested) {
      const v = all[name];
      if (v !== undefined) out[name] = v;
    }
    return Object.keys(out).length > 0 ? { Attributes: out } : {};
  }

  // ---- SSM ---------------------------------------------------------------

  function normaliseParameter(value: LoopbackParameterValue): Required<LoopbackParameter> {
    if (typeof value === 'string') return { Value: value, Type: 'String', Version: 1, LastModifiedDate: new Date(0) };
    return {
      Value: value.Value,
      Type: value.Type ?? 'String',
      Version: value.Version ?? 1,
      LastModifiedDate: value.LastModifiedDate ?? new Date(0),
    };
  }

  function parameterName(ref: string): string {
    const arnMatch = /^arn:aws[^:]*:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(ref);
    if (arnMatch?.[1]) {
      const rest = arnMatch[1];
      // ARN of a non-hierarchical name is ...:parameter/name
      return parameters.has(rest) ? rest : rest.slice(1);
    }
    return ref;
  }

  function wireParameter(name: string, value: LoopbackParameterValue, decrypt: boolean): Record<string, unknown> {
    const p = normaliseParameter(value);
    const arnName = name.startsWith('/') ? name.slice(1) : name;
    return {
      Name: name,
      Type: p.Type,
      Value:
        p.Type === 'SecureString' && !decrypt
          ? `AQICAHloopback${createHash('sha256').update(p.Value).digest('base64')}`
          : p.Value,
      Version: p.Version,
      LastModifiedDate: epochSeconds(p.LastModifiedDate),
      ARN: `arn:aws:ssm:${REGION}:${accountId}:parameter/${arnName}`,
      DataType: 'text',
    };
  }

  function getParameter(body: Record<string, unknown>): unknown {
    const ref = str(body['Name']);
    if (!ref) throw validationError("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
    const name = parameterName(ref);
    const value = parameters.get(name);
    // The real service answers ParameterNotFound with no message member at all.
    if (value === undefined) throw new AwsError('ParameterNotFound', undefined, 400);
    return { Parameter: wireParameter(name, value, body['WithDecryption'] === true) };
  }

  function getParameters(body: Record<string, unknown>): unknown {
    const names = Array.isArray(body['Names']) ? body['Names'].map(String) : [];
    if (names.length < 1) {
      throw validationError("1 validation error detected: Value '[]' at 'names' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    if (names.length > 10) {
      throw validationError(
        `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
      );
    }
    const Parameters: Record<string, unknown>[] = [];
    const InvalidParameters: string[] = [];
    for (const ref of [...new Set(names)]) {
      const name = parameterName(ref);
      const value = parameters.get(name);
      if (value === undefined) InvalidParameters.push(ref);
      else Parameters.push(wireParameter(name, value, body['WithDecryption'] === true));
    }
    return { Parameters, InvalidParameters };
  }

  function getParametersByPath(body: Record<string, unknown>): unknown {
    const path = str(body['Path']);
    if (!path || !path.startsWith('/')) {
      throw validationError('The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". ');
    }
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const recursive = body['Recursive'] === true;
    const maxResults = int(body['MaxResults']) ?? 10;
    if (maxResults < 1 || maxResults > 10) {
      throw validationError(
        `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10`,
      );
    }
    const start = int(body['NextToken']) ?? 0;
    const matching = [...parameters.keys()]
      .filter((name) => name.startsWith(prefix) && (recursive || !name.slice(prefix.length).includes('/')))
      .sort();
    const page = matching.slice(start, start + maxResults);
    const out: Record<string, unknown> = {
      Parameters: page.map((name) => wireParameter(name, parameters.get(name) ?? '', body['WithDecryption'] === true)),
    };
    if (start + maxResults < matching.length) out['NextToken'] = String(start + maxResults);
    return out;
  }

  // ---- Secrets Manager ---------------------------------------------------

  function secretArn(name: string): string {
    const suffix = createHash('sha256').update(name).digest('base64url').replace(/[-_]/g, 'x').slice(0, 6);
    return `arn:aws:secretsmanager:${REGION}:${accountId}:secret:${name}-${suffix}`;
  }

  function getSecretValue(body: Record<string, unknown>): unknown {
    const id = str(body['SecretId']);
    if (!id) throw new AwsError('InvalidParameterException', 'You must provide a SecretId.', 400);
    let name = id;
    if (!secrets.has(id) && id.startsWith('arn:')) {
      const tail = id.split(':secret:')[1] ?? '';
      name = secrets.has(tail) ? tail : tail.replace(/-[A-Za-z0-9]{6}$/, '');
    }
    const secret = secrets.get(name);
    if (secret === undefined) {
      throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.", 400);
    }
    const s: LoopbackSecret = typeof secret === 'string' ? { SecretString: secret } : secret;
    const versionId = s.VersionId ?? createHash('md5').update(`${name}\u0000${s.SecretString ?? ''}`).digest('hex').replace(
      /^(.{8})(.{4})(.{4})(.{4})(.{12})$/,
      '$1-$2-$3-$4-$5',
    );
    const stage = str(body['VersionStage']);
    if (stage !== undefined && stage !== 'AWSCURRENT') {
      throw new AwsError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
        400,
      );
    }
    const requestedVersion = str(body['VersionId']);
    if (requestedVersion !== undefined && requestedVersion !== versionId) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${requestedVersion}`,
        400,
      );
    }
    const out: Record<string, unknown> = {
      ARN: secretArn(name),
      Name: name,
      VersionId: versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: epochSeconds(s.CreatedDate ?? new Date(0)),
    };
    if (s.SecretString !== undefined) out['SecretString'] = s.SecretString;
    if (s.SecretBinary !== undefined) out['SecretBinary'] = Buffer.from(s.SecretBinary).toString('base64');
    return out;
  }

  // ---- routing -----------------------------------------------------------

  const handlers: Record<LoopbackService, Record<string, Handler>> = {
    events: { PutEvents: putEvents },
    sqs: {
      SendMessage: sendMessage,
      SendMessageBatch: sendMessageBatch,
      ReceiveMessage: (b, ctx) => receiveMessage(b, ctx),
      DeleteMessage: (b) => {
        deleteOne(findQueue(str(b['QueueUrl'])), b['ReceiptHandle']);
        return {};
      },
      DeleteMessageBatch: (b) => runBatch(b, (q, e) => deleteOne(q, e['ReceiptHandle'])),
      ChangeMessageVisibility: (b) => {
        changeVisibility(findQueue(str(b['QueueUrl'])), b['ReceiptHandle'], b['VisibilityTimeout']);
        return {};
      },
      ChangeMessageVisibilityBatch: (b) =>
        runBatch(b, (q, e) => changeVisibility(q, e['ReceiptHandle'], e['VisibilityTimeout'])),
      GetQueueUrl: (b) => {
        const name = str(b['QueueName']);
        const queue = name ? queues.get(name) ?? (autoCreateQueues ? createQueue(name) : undefined) : undefined;
        if (!queue) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
        return { QueueUrl: queue.url };
      },
      GetQueueAttributes: getQueueAttributes,
      CreateQueue: (b) => {
        const name = str(b['QueueName']) ?? '';
        if (!/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name)) {
          throw sqsError('InvalidParameterValue', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
        }
        const attrs = isRecord(b['Attributes'])
          ? Object.fromEntries(Object.entries(b['Attributes']).map(([k, v]) => [k, String(v)]))
          : {};
        return { QueueUrl: createQueue(name, attrs).url };
      },
      PurgeQueue: (b) => {
        const queue = findQueue(str(b['QueueUrl']));
        queue.messages.length = 0;
        return {};
      },
    },
    ssm: {
      GetParameter: getParameter,
      GetParameters: getParameters,
      GetParametersByPath: getParametersByPath,
    },
    secretsmanager: { GetSecretValue: getSecretValue },
  };

  function send(
    res: ServerResponse,
    call: LoopbackCall,
    service: LoopbackService | undefined,
    status: number,
    payload: unknown,
    extraHeaders: Record<string, string> = {},
  ): void {
    const text = JSON.stringify(payload);
    call.status = status;
    res.writeHead(status, {
      'content-type': service ? CONTENT_TYPES[service] : 'application/x-amz-json-1.1',
      'content-length': String(Buffer.byteLength(text)),
      'x-amzn-requestid': randomUUID(),
      ...extraHeaders,
    });
    res.end(text);
  }

  function sendError(res: ServerResponse, call: LoopbackCall, service: LoopbackService | undefined, error: AwsError): void {
    call.errorCode = error.code;
    const headers: Record<string, string> = {};
    let payload: Record<string, unknown>;
    if (service === 'sqs') {
      // awsJson1_0 + awsQueryCompatible: namespaced __type plus the legacy query code header.
      const queryCode = error.queryCode ?? SQS_QUERY_ERRORS[error.code]?.[0] ?? error.code;
      headers['x-amzn-query-error'] = `${queryCode};${error.status >= 500 ? 'Receiver' : 'Sender'}`;
      payload = { __type: error.code.includes('#') ? error.code : `com.amazonaws.sqs#${error.code}` };
      if (error.wireMessage !== undefined) payload['message'] = error.wireMessage;
    } else if (service === 'secretsmanager') {
      payload = { __type: error.code };
      if (error.wireMessage !== undefined) payload['Message'] = error.wireMessage;
    } else {
      payload = { __type: error.code };
      if (error.wireMessage !== undefined) payload['message'] = error.wireMessage;
    }
    send(res, call, service, error.status, payload, headers);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const headers = headerRecord(req);
    const target = headers['x-amz-target'] ?? '';
    const dot = target.indexOf('.');
    const prefix = dot > 0 ? target.slice(0, dot) : target;
    const operation = dot > 0 ? target.slice(dot + 1) : '';
    const service = TARGET_PREFIXES[prefix];
    const text = rawBody.toString('utf8');
    let body: unknown = text;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      // keep raw text
    }
    const call: LoopbackCall = { service: service ?? 'unknown', operation, body, headers, status: 0 };
    calls.push(call);

    try {
      const auth = checkSignature(req, headers, rawBody, service, verifySignatures);
      if (!service || req.method !== 'POST') {
        throw new AwsError(
          'UnknownOperationException',
          `aws-loopback: unsupported request ${req.method ?? ''} ${req.url ?? ''} X-Amz-Target='${target}'`,
        );
      }
      const handler = handlers[service][operation];
      if (!handler) {
        throw new AwsError('UnknownOperationException', `aws-loopback: ${service} operation '${operation}' is not implemented`);
      }
      const contentType = (headers['content-type'] ?? '').split(';')[0]?.trim();
      if (contentType !== CONTENT_TYPES[service]) {
        throw new AwsError('UnknownOperationException', `aws-loopback: expected content-type ${CONTENT_TYPES[service]}, got '${contentType ?? ''}'`);
      }
      if (!isRecord(body)) {
        throw new AwsError('SerializationException', 'Start of structure or map found where not expected.');
      }
      const injected = takeFailure(operation);
      if (injected) {
        throw new AwsError(injected.code, injected.message ?? injected.code, injected.status ?? 400, injected.queryCode);
      }
      const result = await handler(body, { accessKeyId: auth.accessKeyId });
      send(res, call, service, 200, result ?? {});
    } catch (error) {
      if (error instanceof AwsError) {
        sendError(res, call, service, error);
        return;
      }
      sendError(
        res,
        call,
        service,
        new AwsError('InternalFailure', `aws-loopback internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`, 500),
      );
    }
  }

  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    const pending = handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
      }
      res.end(String(error));
    });
    inFlight.add(pending);
    void pending.finally(() => inFlight.delete(pending));
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  endpoint = `http://127.0.0.1:${port}`;
  for (const queue of queues.values()) queue.url = queueUrl(queue.name);

  const clientConfig: LoopbackClientConfig = {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    maxAttempts: 1,
  };

  return {
    endpoint,
    clientConfig,
    calls,
    events,
    queues,
    parameters,
    secrets,
    failNext(operation, failure) {
      const list = failures.get(operation) ?? [];
      list.push({ ...failure });
      failures.set(operation, list);
    },
    rejectEntries(predicate, failure) {
      const rule: EntryRule = { predicate, failure, remaining: failure.times ?? Number.POSITIVE_INFINITY };
      entryRules.push(rule);
      return () => {
        entryRules = entryRules.filter((r) => r !== rule);
      };
    },
    rejectBatchEntries(predicate, failure) {
      const rule: BatchRule = { predicate, failure, remaining: failure.times ?? Number.POSITIVE_INFINITY };
      batchRules.push(rule);
      return () => {
        batchRules = batchRules.filter((r) => r !== rule);
      };
    },
    createQueue,
    queueUrl,
    queue: lookupQueue,
    now,
    advanceTime(ms) {
      clockOffset += ms;
    },
    reset() {
      calls.length = 0;
      events.length = 0;
      failures.clear();
      entryRules = [];
      batchRules = [];
    },
    async close() {
      closed = true;
      // Wake long polls so they answer (empty) instead of hanging up on the client.
      for (const wake of [...pendingPolls]) wake();
      await Promise.allSettled([...inFlight]);
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
