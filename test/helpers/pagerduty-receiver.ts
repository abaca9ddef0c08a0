import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { faulted, listenLoopback, readBody, type ForcedAnswer, type ReceivedRequest } from './receiver-kit.ts';

/**
 * A loopback PagerDuty Events API v2 (`POST /v2/enqueue`) that validates events the way the
 * documented API does and deduplicates them into alerts:
 *
 * - `routing_key` must be a known 32-character integration key; `event_action` one of
 *   trigger/acknowledge/resolve; `dedup_key` ≤ 255 (required for acknowledge/resolve);
 *   a trigger needs `payload.summary` (≤ 1,024), `payload.source`, and a `payload.severity`
 *   of critical/error/warning/info; `links[].href` and `images[].src` are required strings;
 *   the event is at most 512 KB.
 * - A trigger whose (routing key, dedup key) has an open alert adds to that alert; after a
 *   resolve, the same key opens a new alert; acknowledge/resolve without an open alert are
 *   dropped (still 202), as PagerDuty documents.
 * - Answers: 202 `{"status":"success","message":"Event processed","dedup_key":"..."}`,
 *   400 `{"status":"invalid event","message":"Event object is invalid","errors":[...]}`,
 *   429 above `rateLimitPerMinute` events per routing key (PagerDuty: about 120/minute).
 */
interface PagerDutyAlert {
  routingKey: string;
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  /** Trigger events applied to this alert (1 = only the opening one). */
  triggers: number;
  summaries: string[];
}

interface PagerDutyReceiver {
  /** The enqueue URL (`http://127.0.0.1:<port>/v2/enqueue`). */
  url: string;
  origin: string;
  requests: ReceivedRequest[];
  /** Every alert ever opened, in order. */
  alerts: PagerDutyAlert[];
  /** Integration keys that exist. */
  routingKeys: Set<string>;
  /** Events accepted per routing key per rolling minute before 429; undefined = no limit. */
  rateLimitPerMinute: number | undefined;
  /** Overrides every answer from now on (a status, or 'hang' / 'reset' the connection). */
  answer: ForcedAnswer | 'hang' | 'reset' | undefined;
  openAlerts(): PagerDutyAlert[];
  close(): Promise<void>;
}

const MAX_EVENT_BYTES = 512 * 1024;
const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);
const ACTIONS = new Set(['trigger', 'acknowledge', 'resolve']);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const blank = (value: unknown): boolean => typeof value !== 'string' || value.trim() === '';

/** The documented checks, as PagerDuty's error list phrases them. */
const eventErrors = (event: unknown, routingKeys: ReadonlySet<string>): string[] => {
  if (!isRecord(event)) return ['Event object is not a JSON object'];
  const errors: string[] = [];
  const key = event.routing_key;
  if (blank(key)) errors.push("'routing_key' is missing or blank");
  else if ((key as string).length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  else if (!routingKeys.has(key as string)) errors.push('Invalid routing key');
  if (blank(event.event_action)) errors.push("'event_action' is missing or blank");
  else if (!ACTIONS.has(event.event_action as string)) errors.push("'event_action' is invalid (must be one of trigger, acknowledge, resolve)");
  if (event.dedup_key !== undefined) {
    if (typeof event.dedup_key !== 'string') errors.push("'dedup_key' must be a string");
    else if (event.dedup_key.length > 255) errors.push("Length of 'dedup_key' is incorrect (should be at most 255 characters)");
  }
  if (event.event_action !== 'trigger') {
    if (event.event_action !== undefined && blank(event.dedup_key)) errors.push("'dedup_key' is missing or blank");
    return errors;
  }
  const payload = event.payload;
  if (!isRecord(payload)) return [...errors, "'payload' is missing or not an object"];
  if (blank(payload.summary)) errors.push("'payload.summary' is missing or blank");
  else if ((payload.summary as string).length > 1024) errors.push("Length of 'payload.summary' is incorrect (should be at most 1024 characters)");
  if (blank(payload.source)) errors.push("'payload.source' is missing or blank");
  if (!SEVERITIES.has(payload.severity as string)) errors.push("'payload.severity' is invalid (must be one of critical, error, warning, info)");
  if (payload.timestamp !== undefined && (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))) {
    errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
  }
  for (const field of ['component', 'group', 'class'] as const) {
    if (payload[field] !== undefined && typeof payload[field] !== 'string') errors.push(`'payload.${field}' must be a string`);
  }
  if (payload.custom_details !== undefined && !isRecord(payload.custom_details)) errors.push("'payload.custom_details' must be an object");
  if (event.links !== undefined && (!Array.isArray(event.links) || !event.links.every((link) => isRecord(link) && !blank(link.href)))) {
    errors.push("'links' must be a list of objects with an 'href'");
  }
  if (event.images !== undefined && (!Array.isArray(event.images) || !event.images.every((image) => isRecord(image) && !blank(image.src)))) {
    errors.push("'images' must be a list of objects with a 'src'");
  }
  return errors;
};

const startPagerDuty = async (options: { routingKeys?: Iterable<string> } = {}): Promise<PagerDutyReceiver> => {
  const receiver = {
    requests: [],
    alerts: [],
    routingKeys: new Set(options.routingKeys ?? []),
    rateLimitPerMinute: undefined,
    answer: undefined,
  } as unknown as PagerDutyReceiver;
  const accepted = new Map<string, number[]>();
  receiver.openAlerts = () => receiver.alerts.filter((alert) => alert.status !== 'resolved');

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const body = raw.toString('utf8');
    receiver.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof json === 'string' ? json : JSON.stringify(json));
    };
    const invalid = (errors: string[]) => reply(400, { status: 'invalid event', message: 'Event object is invalid', errors });

    const forced = receiver.answer;
    if (faulted(req, forced)) return;
    if (forced !== undefined) return reply(forced.status, forced.body ?? '', forced.headers);

    if (req.url !== '/v2/enqueue') return reply(404, { status: 'not found', message: 'Not Found' });
    if (req.method !== 'POST') return reply(405, { status: 'method not allowed', message: 'Method Not Allowed' });
    if (raw.length > MAX_EVENT_BYTES) return reply(413, { status: 'invalid event', message: 'Request entity too large' });
    if (!req.headers['content-type']?.startsWith('application/json')) return invalid(['Content-Type must be application/json']);
    let event: unknown;
    try {
      event = JSON.parse(body);
    } catch {
      return invalid(['Event object is not valid JSON']);
    }
    const errors = eventErrors(event, receiver.routingKeys);
    if (errors.length > 0) return invalid(errors);
    const e = event as { routing_key: string; event_action: string; dedup_key?: string; payload?: { summary: string } };

    // Rate limit per routing key over a rolling 60 s window.
    const now = Date.now();
    const window = (accepted.get(e.routing_key) ?? []).filter((at) => now - at < 60_000);
    if (receiver.rateLimitPerMinute !== undefined && window.length >= receiver.rateLimitPerMinute) {
      accepted.set(e.routing_key, window);
      return reply(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.  Please retry later.' });
    }
    accepted.set(e.routing_key, [...window, now]);

    const dedupKey = e.dedup_key ?? randomUUID().replace(/-/g, '');
    const open = receiver.alerts.find((alert) => alert.routingKey === e.routing_key && alert.dedupKey === dedupKey && alert.status !== 'resolved');
    if (e.event_action === 'trigger') {
      if (open) {
        open.triggers += 1;
        open.summaries.push(e.payload?.summary ?? '');
      } else {
        receiver.alerts.push({ routingKey: e.routing_key, dedupKey, status: 'triggered', triggers: 1, summaries: [e.payload?.summary ?? ''] });
      }
    } else if (open) {
      open.status = e.event_action === 'resolve' ? 'resolved' : 'acknowledged';
    }
    reply(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  });
  const listening = await listenLoopback(server);
  receiver.origin = listening.origin;
  receiver.url = `${receiver.origin}/v2/enqueue`;
  receiver.close = listening.close;
  return receiver;
};

export { startPagerDuty, eventErrors };
export type { PagerDutyReceiver };
