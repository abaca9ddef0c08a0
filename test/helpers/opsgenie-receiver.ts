import { createServer, type Server } from 'node:http';
import { faulted, listenLoopback, readBody, type ForcedAnswer, type ReceivedRequest } from './receiver-kit.ts';

/**
 * A loopback Opsgenie Alert API that checks requests the way the documented API does and
 * keeps one open alert per alias:
 *
 * - `Authorization: GenieKey <key>` with a known key (401 otherwise), JSON content type
 *   (415), valid JSON (400).
 * - `POST /v2/alerts`: `message` required, ≤ 130; alias ≤ 512; description ≤ 15,000;
 *   entity ≤ 512; source and user ≤ 100; note ≤ 25,000; ≤ 20 tags of ≤ 50; details a map
 *   of strings of ≤ 8,000 characters in total; priority P1–P5; responders typed objects
 *   (422 with the field errors otherwise). An open alert with the same alias only gets
 *   its count raised; after a close, the alias opens a new alert.
 * - `POST /v2/alerts/{alias}/close?identifierType=alias`: closes the open alert (202 even
 *   when there is none: the outcome is asynchronous, as with Opsgenie).
 * - Answers: 202 `{"result":"Request will be processed","took":…,"requestId":…}`;
 *   errors `{"message":…,"took":…,"requestId":…}`; 429 above `rateLimitPerMinute`.
 */
interface OpsgenieAlert {
  alias: string;
  status: 'open' | 'closed';
  count: number;
  message: string;
  priority: string;
  tags: string[];
  details: Record<string, string>;
  closeNote?: string;
}

interface OpsgenieReceiver {
  /** The API base URL (`http://127.0.0.1:<port>`). */
  url: string;
  requests: ReceivedRequest[];
  /** Every alert ever opened, in order. */
  alerts: OpsgenieAlert[];
  apiKeys: Set<string>;
  rateLimitPerMinute: number | undefined;
  answer: ForcedAnswer | 'hang' | 'reset' | undefined;
  openAlerts(): OpsgenieAlert[];
  close(): Promise<void>;
}

const PRIORITIES = new Set(['P1', 'P2', 'P3', 'P4', 'P5']);
const RESPONDER_TYPES = new Set(['team', 'user', 'escalation', 'schedule']);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Field → problem, as Opsgenie's 422 `errors` object lists them. */
const createErrors = (body: unknown): Record<string, string> => {
  if (!isRecord(body)) return { body: 'Request body must be a JSON object.' };
  const errors: Record<string, string> = {};
  const text = (field: string, max: number, required = false) => {
    const value = body[field];
    if (value === undefined) {
      if (required) errors[field] = `${field[0]!.toUpperCase()}${field.slice(1)} can not be empty.`;
      return;
    }
    if (typeof value !== 'string') errors[field] = `${field} must be a string.`;
    else if (required && value.trim() === '') errors[field] = `${field[0]!.toUpperCase()}${field.slice(1)} can not be empty.`;
    else if (value.length > max) errors[field] = `${field} can not be longer than ${max} characters.`;
  };
  text('message', 130, true);
  text('alias', 512);
  text('description', 15_000);
  text('entity', 512);
  text('source', 100);
  text('user', 100);
  text('note', 25_000);
  if (body.priority !== undefined && !PRIORITIES.has(body.priority as string)) errors.priority = 'Priority should be one of [P1, P2, P3, P4, P5].';
  if (body.tags !== undefined) {
    if (!Array.isArray(body.tags) || !body.tags.every((tag) => typeof tag === 'string' && tag.length > 0 && tag.length <= 50)) {
      errors.tags = 'Tags must be strings of at most 50 characters.';
    } else if (body.tags.length > 20) errors.tags = 'Tags can not be more than 20.';
  }
  if (body.details !== undefined) {
    if (!isRecord(body.details) || !Object.values(body.details).every((value) => typeof value === 'string')) {
      errors.details = 'Details must be a map of strings.';
    } else if (Object.entries(body.details).reduce((total, [key, value]) => total + key.length + (value as string).length, 0) > 8_000) {
      errors.details = 'Details can not be longer than 8000 characters in total.';
    }
  }
  if (body.responders !== undefined) {
    const ok =
      Array.isArray(body.responders) &&
      body.responders.every(
        (responder) =>
          isRecord(responder) &&
          RESPONDER_TYPES.has(responder.type as string) &&
          [responder.id, responder.name, responder.username].some((value) => typeof value === 'string' && value !== ''),
      );
    if (!ok) errors.responders = 'Responders must have a type of team, user, escalation or schedule and an id, name or username.';
  }
  return errors;
};

const startOpsgenie = async (options: { apiKeys?: Iterable<string> } = {}): Promise<OpsgenieReceiver> => {
  const receiver = {
    requests: [],
    alerts: [],
    apiKeys: new Set(options.apiKeys ?? []),
    rateLimitPerMinute: undefined,
    answer: undefined,
  } as unknown as OpsgenieReceiver;
  const accepted: number[] = [];
  let sequence = 0;
  receiver.openAlerts = () => receiver.alerts.filter((alert) => alert.status === 'open');

  const server: Server = createServer(async (req, res) => {
    const body = (await readBody(req)).toString('utf8');
    receiver.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    sequence += 1;
    const requestId = `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`;
    const reply = (status: number, json: Record<string, unknown> | string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId, ...headers });
      res.end(typeof json === 'string' ? json : JSON.stringify({ ...json, took: 0.002, requestId }));
    };

    const forced = receiver.answer;
    if (faulted(req, forced)) return;
    if (forced !== undefined) return reply(forced.status, forced.body ?? '', forced.headers);

    const auth = /^GenieKey (\S+)$/.exec(req.headers.authorization ?? '');
    if (auth === null) return reply(401, { message: 'Key format is not valid!' });
    if (!receiver.apiKeys.has(auth[1]!)) return reply(401, { message: 'Could not authenticate' });

    const url = new URL(req.url ?? '/', 'http://loopback');
    const close = /^\/v2\/alerts\/([^/]+)\/close$/.exec(url.pathname);
    if (url.pathname !== '/v2/alerts' && close === null) return reply(404, { message: 'Could not find a handler for the request' });
    if (req.method !== 'POST') return reply(405, { message: 'Method not allowed' });
    if (!req.headers['content-type']?.startsWith('application/json')) return reply(415, { message: 'Unsupported media type' });
    let parsed: unknown;
    try {
      parsed = body === '' && close !== null ? {} : JSON.parse(body);
    } catch {
      return reply(400, { message: 'Invalid JSON body' });
    }

    const now = Date.now();
    while (accepted.length > 0 && now - accepted[0]! >= 60_000) accepted.shift();
    if (receiver.rateLimitPerMinute !== undefined && accepted.length >= receiver.rateLimitPerMinute) {
      return reply(429, { message: 'You are making too many requests! To avoid errors, we recommend you limit requests.' });
    }

    if (close !== null) {
      if (url.searchParams.get('identifierType') !== 'alias') {
        return reply(422, { message: 'Request body is not processable. Please check the errors.', errors: { identifierType: 'Expected alias.' } });
      }
      const errors: Record<string, string> = {};
      const fields = isRecord(parsed) ? parsed : {};
      for (const [field, max] of [['user', 100], ['source', 100], ['note', 25_000]] as const) {
        const value = fields[field];
        if (value !== undefined && (typeof value !== 'string' || value.length > max)) errors[field] = `${field} can not be longer than ${max} characters.`;
      }
      if (!isRecord(parsed) || Object.keys(errors).length > 0) {
        return reply(422, { message: 'Request body is not processable. Please check the errors.', errors });
      }
      accepted.push(now);
      const alias = decodeURIComponent(close[1]!);
      const open = receiver.openAlerts().find((alert) => alert.alias === alias);
      if (open) {
        open.status = 'closed';
        if (typeof fields.note === 'string') open.closeNote = fields.note;
      }
      return reply(202, { result: 'Request will be processed' });
    }

    const errors = createErrors(parsed);
    if (Object.keys(errors).length > 0) return reply(422, { message: 'Request body is not processable. Please check the errors.', errors });
    accepted.push(now);
    const alert = parsed as { message: string; alias?: string; priority?: string; tags?: string[]; details?: Record<string, string> };
    const alias = alert.alias ?? `generated-${sequence}`;
    const open = receiver.openAlerts().find((candidate) => candidate.alias === alias);
    if (open) open.count += 1;
    else {
      receiver.alerts.push({
        alias,
        status: 'open',
        count: 1,
        message: alert.message,
        priority: alert.priority ?? 'P3',
        tags: alert.tags ?? [],
        details: alert.details ?? {},
      });
    }
    reply(202, { result: 'Request will be processed' });
  });
  const listening = await listenLoopback(server);
  receiver.url = listening.origin;
  receiver.close = listening.close;
  return receiver;
};

export { startOpsgenie, createErrors };
export type { OpsgenieReceiver };
