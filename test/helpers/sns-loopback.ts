/**
 * SNS loopback: an in-process HTTP server speaking the Amazon SNS wire protocol as the
 * installed `@aws-sdk/client-sns` sends it (AWS Query: `POST /`, form-encoded
 * `Action=Publish&Version=2010-03-31&...`, SigV4 for service `sns`; XML answers
 * `<PublishResponse>` or `<ErrorResponse><Error><Type/><Code/><Message/></Error>`).
 *
 * It checks a Publish the way SNS does: a valid SigV4 signature with the loopback
 * credentials, an existing topic, a non-empty message, the Subject rules (printable ASCII,
 * no line breaks or control characters, under 100 characters, starting with a letter,
 * digit or punctuation), message + attributes at most 262,144 bytes, attribute names and
 * types, and for FIFO topics MessageGroupId and MessageDeduplicationId (5-minute dedup:
 * a repeat is accepted with the first MessageId but not delivered again).
 *
 * Only node builtins are used.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const SNS_REGION = 'us-east-1';
const SNS_ACCOUNT = '123456789012';
const SNS_ACCESS_KEY_ID = 'AKIDSNSLOOPBACK';
const SNS_SECRET_ACCESS_KEY = 'sns-loopback-SECRET-do-not-leak';
const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const MAX_PUBLISH_BYTES = 262_144;

interface SnsTopic {
  arn: string;
  fifo: boolean;
  contentBasedDeduplication: boolean;
}

interface SnsMessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface SnsPublish {
  TopicArn: string;
  Message: string;
  Subject?: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
  MessageAttributes: Record<string, SnsMessageAttribute>;
  MessageId: string;
}

interface SnsRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  params: Record<string, string>;
  status: number;
  errorCode?: string;
}

/** A forced answer: an SNS error (`code` set) or a raw status/body. */
interface SnsForcedAnswer {
  status: number;
  code?: string;
  type?: 'Sender' | 'Receiver';
  message?: string;
  body?: string;
  headers?: Record<string, string>;
}

interface SnsLoopback {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Every request received, valid or not. */
  requests: SnsRequest[];
  /** Publishes SNS accepted (a FIFO duplicate appears here too). */
  accepted: SnsPublish[];
  /** Publishes delivered to subscribers (FIFO duplicates excluded). */
  delivered: SnsPublish[];
  /** Forces the next answers; `hang` never answers, `reset` destroys the socket. */
  answer: SnsForcedAnswer | 'hang' | 'reset' | undefined;
  topicArn(name: string): string;
  addTopic(name: string, options?: { contentBasedDeduplication?: boolean }): string;
  close(): Promise<void>;
}

class SnsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';
  constructor(code: string, message: string, status: number, type: 'Sender' | 'Receiver' = 'Sender') {
    super(message);
    this.code = code;
    this.status = status;
    this.type = type;
  }
}

const xml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const errorXml = (type: string, code: string, message: string, requestId: string): string =>
  `<ErrorResponse xmlns="${SNS_XMLNS}">\n  <Error>\n    <Type>${xml(type)}</Type>\n    <Code>${xml(code)}</Code>\n    <Message>${xml(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;

const publishXml = (messageId: string, requestId: string, sequenceNumber?: string): string =>
  `<PublishResponse xmlns="${SNS_XMLNS}">\n  <PublishResult>\n    <MessageId>${messageId}</MessageId>\n${
    sequenceNumber === undefined ? '' : `    <SequenceNumber>${sequenceNumber}</SequenceNumber>\n`
  }  </PublishResult>\n  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</PublishResponse>\n`;

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const uriEscape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 as SNS checks it: header present and well-formed, scoped to region and `sns`, signature valid. */
const checkSignature = (req: IncomingMessage, headers: Record<string, string>, body: Buffer): void => {
  const authorization = headers.authorization;
  if (!authorization) throw new SnsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
  const match = /^AWS4-HMAC-SHA256 (.+)$/s.exec(authorization);
  if (!match?.[1]) throw new SnsError('IncompleteSignature', 'Authorization header requires AWS4-HMAC-SHA256', 400);
  const fields = Object.fromEntries(
    match[1].split(',').map((part) => {
      const eq = part.indexOf('=');
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    }),
  ) as Record<string, string | undefined>;
  const [accessKeyId, shortDate, region, service, terminator] = (fields.Credential ?? '').split('/');
  if (!fields.Signature || !fields.SignedHeaders || terminator !== 'aws4_request') {
    throw new SnsError('IncompleteSignature', 'Authorization header requires Credential, SignedHeaders and Signature', 400);
  }
  if (accessKeyId !== SNS_ACCESS_KEY_ID) throw new SnsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
  if (region !== SNS_REGION || service !== 'sns') {
    throw new SnsError('SignatureDoesNotMatch', `Credential should be scoped to a valid region and service 'sns'.`, 403);
  }
  const amzDate = headers['x-amz-date'] ?? '';
  if (amzDate.slice(0, 8) !== shortDate) throw new SnsError('SignatureDoesNotMatch', 'Date in Credential scope does not match X-Amz-Date.', 403);
  const signedHeaders = fields.SignedHeaders.split(';');
  if (!signedHeaders.includes('host')) throw new SnsError('SignatureDoesNotMatch', 'Host must be signed.', 403);
  const payloadHash = sha256Hex(body);
  if (headers['x-amz-content-sha256'] !== undefined && headers['x-amz-content-sha256'] !== payloadHash) {
    throw new SnsError('SignatureDoesNotMatch', 'The provided x-amz-content-sha256 header does not match what was computed.', 403);
  }
  const url = new URL(req.url ?? '/', 'http://loopback');
  const query = [...url.searchParams].map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`).sort();
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, url.pathname || '/', query.join('&'), canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${SNS_SECRET_ACCESS_KEY}`, shortDate ?? ''), region), service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex'));
  const given = Buffer.from(fields.Signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new SnsError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      403,
    );
  }
};

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` → a record. */
const parseAttributes = (params: Record<string, string>): Record<string, SnsMessageAttribute> => {
  const attributes: Record<string, SnsMessageAttribute> = {};
  for (let n = 1; params[`MessageAttributes.entry.${n}.Name`] !== undefined; n++) {
    const name = params[`MessageAttributes.entry.${n}.Name`] ?? '';
    const dataType = params[`MessageAttributes.entry.${n}.Value.DataType`];
    if (dataType === undefined) throw new SnsError('InvalidParameter', `Invalid parameter: MessageAttributes Reason: The message attribute '${name}' must contain non-empty message attribute type.`, 400);
    const stringValue = params[`MessageAttributes.entry.${n}.Value.StringValue`];
    const binaryValue = params[`MessageAttributes.entry.${n}.Value.BinaryValue`];
    attributes[name] = { DataType: dataType, ...(stringValue === undefined ? {} : { StringValue: stringValue }), ...(binaryValue === undefined ? {} : { BinaryValue: binaryValue }) };
  }
  return attributes;
};

const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/;
const FIFO_TOKEN = /^[\x21-\x7e]{1,128}$/;

const validateAttributes = (attributes: Record<string, SnsMessageAttribute>): void => {
  if (Object.keys(attributes).length > 10) throw new SnsError('InvalidParameter', 'Invalid parameter: MessageAttributes Reason: more than 10 attributes', 400);
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE_NAME.test(name) || /^(aws|amazon)\./i.test(name)) {
      throw new SnsError('InvalidParameter', `Invalid parameter: MessageAttributes Reason: invalid name '${name}'`, 400);
    }
    const base = value.DataType.split('.')[0];
    if (!['String', 'Number', 'Binary'].includes(base ?? '')) {
      throw new SnsError('InvalidParameterValue', `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`, 400);
    }
    if (base !== 'Binary' && (value.StringValue === undefined || value.StringValue === '')) {
      throw new SnsError('InvalidParameterValue', `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${value.DataType}'.`, 400);
    }
    if (base === 'Number' && !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.StringValue ?? '')) {
      throw new SnsError('InvalidParameterValue', `Could not cast message attribute '${name}' value to number.`, 400);
    }
  }
};

const validateSubject = (subject: string | undefined): void => {
  if (subject === undefined) return;
  const ok = subject.length > 0 && subject.length < 100 && /^[\x20-\x7e]+$/.test(subject) && /^[A-Za-z0-9\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(subject);
  if (!ok) throw new SnsError('InvalidParameter', 'Invalid parameter: Subject', 400);
};

const startSnsLoopback = async (): Promise<SnsLoopback> => {
  const topics = new Map<string, SnsTopic>();
  const dedup = new Map<string, { messageId: string; at: number }>();
  let sequence = 10_000_000_000_000_000_000n;
  const loopback = { requests: [], accepted: [], delivered: [], answer: undefined } as unknown as SnsLoopback;

  const publish = (params: Record<string, string>): { messageId: string; sequenceNumber?: string } => {
    const topicArn = params.TopicArn;
    if (topicArn === undefined) throw new SnsError('InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter', 400);
    const topic = topics.get(topicArn);
    if (topic === undefined) throw new SnsError('NotFound', 'Topic does not exist', 404);
    const message = params.Message;
    if (message === undefined || message === '') throw new SnsError('InvalidParameter', 'Invalid parameter: Empty message', 400);
    validateSubject(params.Subject);
    const attributes = parseAttributes(params);
    validateAttributes(attributes);
    const size =
      Buffer.byteLength(message) +
      Object.entries(attributes).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v.DataType) + Buffer.byteLength(v.StringValue ?? v.BinaryValue ?? ''), 0);
    if (size > MAX_PUBLISH_BYTES) throw new SnsError('InvalidParameter', 'Invalid parameter: Message too long', 400);
    const groupId = params.MessageGroupId;
    const dedupId = params.MessageDeduplicationId;
    if (!topic.fifo && dedupId !== undefined) {
      throw new SnsError('InvalidParameter', 'Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type', 400);
    }
    const record: SnsPublish = {
      TopicArn: topicArn,
      Message: message,
      ...(params.Subject === undefined ? {} : { Subject: params.Subject }),
      ...(groupId === undefined ? {} : { MessageGroupId: groupId }),
      ...(dedupId === undefined ? {} : { MessageDeduplicationId: dedupId }),
      MessageAttributes: attributes,
      MessageId: randomUUID(),
    };
    if (!topic.fifo) {
      loopback.accepted.push(record);
      loopback.delivered.push(record);
      return { messageId: record.MessageId };
    }
    if (groupId === undefined) throw new SnsError('InvalidParameter', 'Invalid parameter: The MessageGroupId parameter is required for FIFO topics', 400);
    if (!FIFO_TOKEN.test(groupId)) throw new SnsError('InvalidParameter', 'Invalid parameter: MessageGroupId', 400);
    if (dedupId === undefined && !topic.contentBasedDeduplication) {
      throw new SnsError('InvalidParameter', 'Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly', 400);
    }
    if (dedupId !== undefined && !FIFO_TOKEN.test(dedupId)) throw new SnsError('InvalidParameter', 'Invalid parameter: MessageDeduplicationId', 400);
    const key = `${topicArn}\n${dedupId ?? sha256Hex(message)}`;
    const previous = dedup.get(key);
    sequence += 1n;
    if (previous !== undefined && Date.now() - previous.at < 5 * 60_000) {
      loopback.accepted.push({ ...record, MessageId: previous.messageId });
      return { messageId: previous.messageId, sequenceNumber: String(sequence) };
    }
    dedup.set(key, { messageId: record.MessageId, at: Date.now() });
    loopback.accepted.push(record);
    loopback.delivered.push(record);
    return { messageId: record.MessageId, sequenceNumber: String(sequence) };
  };

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
    const params = Object.fromEntries(new URLSearchParams(body)) as Record<string, string>;
    const record: SnsRequest = { method: req.method ?? '', path: req.url ?? '', headers, body, params, status: 0 };
    loopback.requests.push(record);
    const requestId = randomUUID();
    const reply = (status: number, text: string, extra: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...extra });
      res.end(text);
    };
    const forced = loopback.answer;
    if (forced === 'hang') return;
    if (forced === 'reset') {
      req.socket.destroy();
      return;
    }
    try {
      if (req.method !== 'POST' || (req.url ?? '/') !== '/') throw new SnsError('InvalidAction', 'Only POST / is served', 400);
      if (!headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
        throw new SnsError('InvalidParameter', 'Content-Type must be application/x-www-form-urlencoded', 400);
      }
      checkSignature(req, headers, raw);
      if (params.Version !== '2010-03-31') throw new SnsError('InvalidParameter', 'Invalid or missing Version', 400);
      if (params.Action !== 'Publish') throw new SnsError('InvalidAction', `The action ${params.Action ?? ''} is not valid for this endpoint.`, 400);
      if (forced !== undefined) {
        record.errorCode = forced.code;
        const text = forced.body ?? (forced.code === undefined ? '' : errorXml(forced.type ?? 'Sender', forced.code, forced.message ?? forced.code, requestId));
        reply(forced.status, text, forced.headers);
        return;
      }
      const { messageId, sequenceNumber } = publish(params);
      reply(200, publishXml(messageId, requestId, sequenceNumber));
    } catch (error) {
      if (!(error instanceof SnsError)) throw error;
      record.errorCode = error.code;
      reply(error.status, errorXml(error.type, error.code, error.message, requestId));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  loopback.endpoint = `http://127.0.0.1:${port}`;
  loopback.region = SNS_REGION;
  loopback.credentials = { accessKeyId: SNS_ACCESS_KEY_ID, secretAccessKey: SNS_SECRET_ACCESS_KEY };
  loopback.topicArn = (name) => `arn:aws:sns:${SNS_REGION}:${SNS_ACCOUNT}:${name}`;
  loopback.addTopic = (name, options = {}) => {
    const arn = loopback.topicArn(name);
    topics.set(arn, { arn, fifo: name.endsWith('.fifo'), contentBasedDeduplication: options.contentBasedDeduplication === true });
    return arn;
  };
  loopback.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return loopback;
};

export { startSnsLoopback, SNS_ACCESS_KEY_ID, SNS_SECRET_ACCESS_KEY };
export type { SnsLoopback, SnsForcedAnswer };
