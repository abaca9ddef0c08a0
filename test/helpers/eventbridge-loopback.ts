/**
 * EventBridge loopback: an in-process HTTP server speaking the Amazon EventBridge wire
 * protocol that `@aws-sdk/client-eventbridge` uses for PutEvents: awsJson1_1, `POST /`,
 * `X-Amz-Target: AWSEvents.PutEvents`, `Content-Type: application/x-amz-json-1.1`, SigV4
 * with signing name `events`, in any region (one address plays every regional endpoint; the
 * region signed for is the region called).
 *
 * It checks a PutEvents the way EventBridge does: a valid signature by known credentials
 * (the loopback's own, or ones an STS loopback issued, session token included), 1-10
 * entries, the entry size as AWS computes it ("Calculating Amazon EventBridge PutEvents
 * event entry size": Time 14 bytes, UTF-8 bytes of Source, DetailType, Detail and each
 * Resources string; "must be less than 256KB", else the whole call fails with a
 * ValidationException), Source / DetailType / Detail present and Detail a JSON object (per
 * entry: InvalidArgument, MalformedDetail), a bus in another account only with that
 * account's permission (per entry: AccessDeniedException). A bus name resolves in the
 * caller's account and the signed region. Like EventBridge, an entry for a bus that does not
 * exist is answered with an EventId and goes nowhere (aws/aws-sdk#186): it lands in `lost`.
 *
 * Answers are `{ FailedEntryCount, Entries: [{ EventId } | { ErrorCode, ErrorMessage }] }`;
 * errors `{"__type", "message"}` with `x-amzn-errortype`. Only node builtins are used.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4 } from './firehose-loopback.ts';
import { faulted, readBody } from './receiver-kit.ts';

const EVENTS_CREDENTIALS = { accessKeyId: 'AKIDEVENTSLOOPBACK', secretAccessKey: 'wJalrXUtnFEMI7K7MDENGbPxRfiCYEVENTSKEY' } as const;
/** The account the loopback credentials belong to (the router's account in tests). */
const EVENTS_ACCOUNT = '111111111111';
const MAX_ENTRIES = 10;
/** "The total entry size must be less than 256KB." */
const ENTRY_LIMIT_BYTES = 256 * 1024;

interface KnownCredentials {
  secretAccessKey: string;
  sessionToken?: string;
  account: string;
}

interface EventsCall {
  target: string;
  headers: IncomingHttpHeaders;
  /** The region the request was signed for (the endpoint called). */
  region: string;
  accessKeyId: string;
  body: unknown;
  status: number;
  errorType?: string;
}

interface StoredEvent {
  bus: string;
  eventId: string;
  source: string;
  detailType: string;
  /** Detail as sent. */
  detail: string;
  resources: string[];
  time?: Date;
  /** The entry's size as EventBridge counts it. */
  size: number;
  /** The account whose credentials put the event. */
  putBy: string;
}

interface CallFailure {
  status: number;
  type: string;
  message: string;
}

interface EventBridgeLoopback {
  endpoint: string;
  credentials: typeof EVENTS_CREDENTIALS;
  account: string;
  calls: EventsCall[];
  /** Events taken, per bus ARN (buses created at start or with `createBus`). */
  buses: Map<string, StoredEvent[]>;
  /** Entries for buses that do not exist: answered with an EventId, delivered nowhere. */
  lost: StoredEvent[];
  /** Per-entry errors answered to the next entries (FIFO), e.g. { ErrorCode: 'ThrottlingException' }. */
  failEntries: { ErrorCode: string; ErrorMessage?: string }[];
  /** Whole-call errors answered to the next calls (FIFO), after the signature check. */
  failCalls: CallFailure[];
  /** Raw answers to the next calls (FIFO), after the signature check; 'hang' never answers, 'reset' drops the connection. */
  rawAnswers: ({ status: number; body: string; headers?: Record<string, string> } | 'hang' | 'reset')[];
  /** A bus (by ARN); `allowAccounts` may put events onto it besides its own account. */
  createBus(arn: string, options?: { allowAccounts?: readonly string[] }): void;
  /** Credentials (an STS loopback's) that sign as `account` from now on. */
  trust(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, account: string): void;
  /** Every event taken, all buses, in arrival order. */
  allEvents(): StoredEvent[];
  close(): Promise<void>;
}

const utf8 = (text: unknown): number => (typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : 0);

/** The entry size as "Calculating Amazon EventBridge PutEvents event entry size" defines it. */
const putEventsEntrySize = (entry: Record<string, unknown>): number =>
  (entry.Time !== undefined && entry.Time !== null ? 14 : 0) +
  utf8(entry.Source) +
  utf8(entry.DetailType) +
  utf8(entry.Detail) +
  (Array.isArray(entry.Resources) ? entry.Resources.reduce((sum: number, resource) => sum + utf8(resource), 0) : 0);

const headerValue = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
};

/** Access key and region from `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
const credentialScope = (headers: IncomingHttpHeaders): { accessKeyId: string; region: string } => {
  const match = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\//.exec(headerValue(headers, 'authorization'));
  return { accessKeyId: match?.[1] ?? '', region: match?.[2] ?? '' };
};

const busArnOf = (bus: string, region: string, account: string): string =>
  bus.startsWith('arn:') ? bus : `arn:aws:events:${region}:${account}:event-bus/${bus}`;

const startEventBridgeLoopback = async (options: { buses?: readonly string[] } = {}): Promise<EventBridgeLoopback> => {
  const known = new Map<string, KnownCredentials>([[EVENTS_CREDENTIALS.accessKeyId, { secretAccessKey: EVENTS_CREDENTIALS.secretAccessKey, account: EVENTS_ACCOUNT }]]);
  const policies = new Map<string, Set<string>>();
  const loopback = {
    credentials: EVENTS_CREDENTIALS,
    account: EVENTS_ACCOUNT,
    calls: [] as EventsCall[],
    buses: new Map<string, StoredEvent[]>(),
    lost: [] as StoredEvent[],
    failEntries: [] as EventBridgeLoopback['failEntries'],
    failCalls: [] as CallFailure[],
    rawAnswers: [] as EventBridgeLoopback['rawAnswers'],
  } as EventBridgeLoopback;
  loopback.createBus = (arn, busOptions = {}) => {
    if (!loopback.buses.has(arn)) loopback.buses.set(arn, []);
    policies.set(arn, new Set(busOptions.allowAccounts ?? []));
  };
  loopback.trust = (credentials, account) => {
    known.set(credentials.accessKeyId, { secretAccessKey: credentials.secretAccessKey, ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}), account });
  };
  loopback.allEvents = () => [...loopback.buses.values()].flat().sort((a, b) => a.eventId.localeCompare(b.eventId));
  for (const bus of options.buses ?? []) loopback.createBus(bus);
  let order = 0;

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const target = headerValue(req.headers, 'x-amz-target');
    const scope = credentialScope(req.headers);
    const call: EventsCall = { target, headers: req.headers, region: scope.region, accessKeyId: scope.accessKeyId, body: raw.toString('utf8'), status: 0 };
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
    const caller = known.get(scope.accessKeyId);
    if (caller === undefined) return fail(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    const auth = verifySigV4(
      { method: req.method, url: req.url ?? '/', headers: req.headers, body: raw },
      { accessKeyId: scope.accessKeyId, secretAccessKey: caller.secretAccessKey, region: scope.region, service: 'events' },
    );
    if (!auth.ok) return fail(auth.status, auth.type, auth.message);
    if (caller.sessionToken !== undefined && headerValue(req.headers, 'x-amz-security-token') !== caller.sessionToken) {
      return fail(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (headerValue(req.headers, 'content-type') !== 'application/x-amz-json-1.1') {
      return fail(400, 'SerializationException', 'Expected Content-Type application/x-amz-json-1.1');
    }
    if (target !== 'AWSEvents.PutEvents') return fail(400, 'UnknownOperationException', `Unknown operation ${target}`);
    let input: { Entries?: unknown; EndpointId?: unknown };
    try {
      input = JSON.parse(raw.toString('utf8')) as typeof input;
      call.body = input;
    } catch {
      return fail(400, 'SerializationException', 'Start of structure or map found where not expected');
    }
    const rawAnswer = loopback.rawAnswers.shift();
    if (rawAnswer !== undefined && faulted(req, rawAnswer)) return;
    if (rawAnswer !== undefined) {
      call.status = rawAnswer.status;
      res.writeHead(rawAnswer.status, { 'x-amzn-requestid': randomUUID(), ...rawAnswer.headers });
      res.end(rawAnswer.status === 204 || rawAnswer.status === 304 ? undefined : rawAnswer.body);
      return;
    }
    const forced = loopback.failCalls.shift();
    if (forced !== undefined) return fail(forced.status, forced.type, forced.message);
    const entries = Array.isArray(input.Entries) ? (input.Entries as Record<string, unknown>[]) : [];
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      return fail(400, 'ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`);
    }
    if (entries.some((entry) => putEventsEntrySize(entry) >= ENTRY_LIMIT_BYTES)) {
      return fail(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    let failed = 0;
    const results = entries.map((entry) => {
      const reject = (ErrorCode: string, ErrorMessage: string) => {
        failed++;
        return { ErrorCode, ErrorMessage };
      };
      const forcedEntry = loopback.failEntries.shift();
      if (forcedEntry !== undefined) return reject(forcedEntry.ErrorCode, forcedEntry.ErrorMessage ?? forcedEntry.ErrorCode);
      for (const field of ['Source', 'DetailType', 'Detail'] as const) {
        if (typeof entry[field] !== 'string' || entry[field] === '') {
          return reject('InvalidArgument', `Parameter ${field} is not valid. Reason: ${field} is a required argument.`);
        }
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail as string);
      } catch {
        detail = undefined;
      }
      if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return reject('MalformedDetail', 'Detail is malformed.');
      const bus = busArnOf(typeof entry.EventBusName === 'string' ? entry.EventBusName : 'default', scope.region, caller.account);
      const [, , , busRegion, busAccount] = bus.split(':');
      if (busAccount !== caller.account && !policies.get(bus)?.has(caller.account)) {
        return reject('AccessDeniedException', `User: arn:aws:sts::${caller.account}:assumed-role/caller is not authorized to perform: events:PutEvents on resource: ${bus}`);
      }
      const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : undefined;
      const event: StoredEvent = {
        bus,
        eventId: `${String(order++).padStart(6, '0')}-${randomUUID()}`,
        source: entry.Source as string,
        detailType: entry.DetailType as string,
        detail: entry.Detail as string,
        resources: Array.isArray(entry.Resources) ? (entry.Resources as string[]) : [],
        ...(time === undefined ? {} : { time }),
        size: putEventsEntrySize(entry),
        putBy: caller.account,
      };
      // A bus is reached only through its own region's endpoint; anything else goes nowhere.
      const stored = busRegion === scope.region ? loopback.buses.get(bus) : undefined;
      (stored ?? loopback.lost).push(event);
      return { EventId: event.eventId };
    });
    reply(200, { FailedEntryCount: failed, Entries: results });
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

export { startEventBridgeLoopback, putEventsEntrySize, EVENTS_CREDENTIALS, EVENTS_ACCOUNT, ENTRY_LIMIT_BYTES };
export type { EventBridgeLoopback };
