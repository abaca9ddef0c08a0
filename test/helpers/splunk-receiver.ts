/**
 * A loopback Splunk HTTP Event Collector that checks requests the way HEC does and answers
 * with HEC's real bodies: `{"text":"Success","code":0}` (plus `ackId` for an ack-enabled
 * token), `{"text":"Token is required","code":2}` 401, `{"text":"Invalid authorization","code":3}` 401,
 * `{"text":"Invalid token","code":4}` 403, `{"text":"No data","code":5}`,
 * `{"text":"Invalid data format","code":6,"invalid-event-number":0}`,
 * `{"text":"Incorrect index","code":7,...}`, `{"text":"Data channel is missing","code":10}`,
 * `{"text":"Invalid data channel","code":11}`, `{"text":"Event field is required","code":12,...}`,
 * `{"text":"Event field cannot be blank","code":13,...}`, `{"text":"ACK is disabled","code":14}`,
 * and 413 over `max_content_length`. `/services/collector/ack` answers `{"acks":{"N":bool}}`.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { listenLoopback, readBody, writeAnswer } from './receiver-kit.ts';

interface HecRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  answer: string;
}

interface HecAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface SplunkReceiverOptions {
  token: string;
  /** The token has indexer acknowledgement enabled (then a channel is required). */
  useAck?: boolean;
  /** Indexes the token may write to; any when absent. */
  indexes?: readonly string[];
  /** `[http_input] max_content_length`; 1,000,000 by default here. */
  maxContentLength?: number;
}

interface SplunkReceiver {
  url: string;
  requests: HecRequest[];
  /** Events accepted (the parsed JSON envelopes), in order. */
  events: Record<string, unknown>[];
  /** Forces the answer to an event request that passed every check (e.g. 503 code 9). */
  answer: HecAnswer | undefined;
  /** How many ack polls answer `false` before `true`; Infinity never acknowledges. */
  pendingPolls: number;
  ackPolls: number;
  close(): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const hec = (status: number, text: string, code: number, extra: Record<string, unknown> = {}): HecAnswer => ({
  status,
  body: JSON.stringify({ text, code, ...extra }),
});

const isIndexedFieldValue = (value: unknown): boolean =>
  typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));

const startSplunkReceiver = async (options: SplunkReceiverOptions): Promise<SplunkReceiver> => {
  const maxContentLength = options.maxContentLength ?? 1_000_000;
  const receiver = { requests: [], events: [], answer: undefined, pendingPolls: 0, ackPolls: 0 } as unknown as SplunkReceiver;
  let nextAckId = 0;

  const handle = (method: string, path: string, headers: IncomingHttpHeaders, raw: Buffer): HecAnswer => {
    const route = path.split('?')[0];
    if (route !== '/services/collector/event' && route !== '/services/collector/ack') {
      return { status: 404, body: JSON.stringify({ text: 'The requested URL was not found on this server.', code: 404 }) };
    }
    if (method !== 'POST') return { status: 405, body: JSON.stringify({ text: 'Method not allowed', code: 405 }) };
    const authorization = headers.authorization;
    if (authorization === undefined) return hec(401, 'Token is required', 2);
    const auth = /^Splunk (\S+)$/.exec(authorization);
    if (!auth) return hec(401, 'Invalid authorization', 3);
    if (auth[1] !== options.token) return hec(403, 'Invalid token', 4);
    const channel = headers['x-splunk-request-channel'];
    if (route === '/services/collector/ack') {
      if (!options.useAck) return hec(400, 'ACK is disabled', 14);
      if (typeof channel !== 'string') return hec(400, 'Data channel is missing', 10);
      let query: { acks?: unknown };
      try {
        query = JSON.parse(raw.toString('utf8')) as typeof query;
      } catch {
        return hec(400, 'Invalid data format', 6);
      }
      if (!Array.isArray(query.acks)) return hec(400, 'Invalid data format', 6);
      receiver.ackPolls++;
      const done = receiver.ackPolls > receiver.pendingPolls;
      return { status: 200, body: JSON.stringify({ acks: Object.fromEntries(query.acks.map((id) => [String(id), done])) }) };
    }
    if (options.useAck) {
      if (typeof channel !== 'string') return hec(400, 'Data channel is missing', 10);
      if (!GUID.test(channel)) return hec(400, 'Invalid data channel', 11);
    }
    if (raw.length > maxContentLength) {
      return { status: 413, body: `Content-Length of ${raw.length} too large (maximum is ${maxContentLength})` };
    }
    if (raw.length === 0) return hec(400, 'No data', 5);
    const contentType = headers['content-type'] ?? '';
    if (!contentType.startsWith('application/json')) return hec(400, 'Invalid data format', 6, { 'invalid-event-number': 0 });
    let envelope: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      envelope = parsed as Record<string, unknown>;
    } catch {
      return hec(400, 'Invalid data format', 6, { 'invalid-event-number': 0 });
    }
    if (!('event' in envelope)) return hec(400, 'Event field is required', 12, { 'invalid-event-number': 0 });
    if (envelope.event === '' || envelope.event === null) return hec(400, 'Event field cannot be blank', 13, { 'invalid-event-number': 0 });
    if (envelope.time !== undefined && (typeof envelope.time !== 'number' || !Number.isFinite(envelope.time))) {
      return hec(400, 'Invalid data format', 6, { 'invalid-event-number': 0 });
    }
    for (const key of ['host', 'source', 'sourcetype', 'index'] as const) {
      if (envelope[key] !== undefined && typeof envelope[key] !== 'string') return hec(400, 'Invalid data format', 6, { 'invalid-event-number': 0 });
    }
    if (envelope.index !== undefined && options.indexes !== undefined && !options.indexes.includes(envelope.index as string)) {
      return hec(400, 'Incorrect index', 7, { 'invalid-event-number': 0 });
    }
    const fields = envelope.fields;
    if (fields !== undefined && (fields === null || typeof fields !== 'object' || !Object.values(fields).every(isIndexedFieldValue))) {
      return hec(400, 'Error in handling indexed fields', 15, { 'invalid-event-number': 0 });
    }
    if (receiver.answer !== undefined) return receiver.answer;
    receiver.events.push(envelope);
    return options.useAck ? { status: 200, body: JSON.stringify({ text: 'Success', code: 0, ackId: nextAckId++ }) } : hec(200, 'Success', 0);
  };

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const answer = handle(req.method ?? '', req.url ?? '', req.headers, raw);
    receiver.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: raw.toString('utf8'), status: answer.status, answer: answer.body });
    writeAnswer(res, 'application/json; charset=UTF-8', answer);
  });
  const listening = await listenLoopback(server);
  receiver.url = listening.origin;
  receiver.close = listening.close;
  return receiver;
};

export { startSplunkReceiver, hec as hecAnswer };
export type { SplunkReceiver, SplunkReceiverOptions };
