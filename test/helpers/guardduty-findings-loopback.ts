/**
 * GuardDuty findings loopback: an in-process HTTP server speaking GuardDuty's restJson1 wire
 * protocol for the three calls `findings-router pull` makes, so tests drive the genuine SDK v3
 * client (serialisation, SigV4 signing, pagination, error parsing, retries).
 *
 *   GET  /detector                          ListDetectors  ?maxResults&nextToken      → { detectorIds, nextToken? }
 *   POST /detector/{id}/findings            ListFindings   { findingCriteria: { criterion }, sortCriteria, maxResults, nextToken }
 *                                                                                     → { findingIds, nextToken? }
 *   POST /detector/{id}/findings/get        GetFindings    { findingIds (1..50), sortCriteria } → { findings }
 *   errors: status + `x-amzn-errortype` + `{ "message", "__type" }` (429 TooManyRequestsException,
 *           403 AccessDeniedException, 400 BadRequestException, 500 InternalServerErrorException)
 *
 * One server answers every region: the region is read from the SigV4 credential scope of the
 * request, as AWS would route it by host. Each region has its own detectors and findings, or is
 * `denied` (every call 403, as an SCP or IAM deny answers). The criterion is evaluated on the
 * stored wire findings (dotted camelCase paths, `updatedAt` compared as epoch milliseconds),
 * so a test sees the filtering its request asked for.
 *
 * `apiWireFinding` turns an EventBridge `detail` (the sample corpus) into the body GetFindings
 * carries for the same finding, from the service model's shapes (wire-names.generated.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WIRE_SHAPES } from '../../shared/input/wire-names.generated.ts';
import { SCALAR, TIMESTAMP, type WireValue } from '../../shared/input/wire-shapes.ts';

type WireFinding = Record<string, unknown> & { id: string };

interface RegionData {
  /** Detector ids of the caller in this region; default one derived from the region. */
  detectorIds?: string[];
  /** The findings the administrator's detector holds (member accounts' included), in wire form. */
  findings?: WireFinding[];
  /** Every call from this region is refused with 403 AccessDeniedException. */
  denied?: boolean;
  /** Ids of `findings` that ListFindings still lists but GetFindings no longer returns (deleted in between). */
  gone?: string[];
}

interface FindingsCall {
  region: string;
  operation: string;
  method: string;
  path: string;
  query: Record<string, string>;
  body: any;
  status: number;
  errorCode?: string;
}

interface InjectedFailure {
  code: string;
  /** Default by code: 429 TooManyRequestsException, 403 AccessDeniedException, 500 InternalServerErrorException, else 400. */
  status?: number;
  message?: string;
  /** Consecutive calls to fail; default 1. */
  times?: number;
  /** Only calls signed for this region; default any. */
  region?: string;
}

interface FindingsLoopbackOptions {
  regions: Record<string, RegionData>;
  /** Most ids one ListFindings page returns, whatever maxResults asks (forces pagination); default 50. */
  listPageSize?: number;
  /** The administrator account named in AccessDenied messages; default 999999999999. */
  administratorId?: string;
}

interface FindingsLoopback {
  endpoint: string;
  calls: FindingsCall[];
  /** Region → detector ids in use. */
  detectors: Record<string, string[]>;
  /** Environment for a spawned CLI: GuardDuty endpoint, dummy credentials, region. */
  env(region?: string): Record<string, string>;
  failNext(operation: string, failure: InjectedFailure): void;
  /** The next call of this operation gets no answer until the server closes (a hung connection). */
  stallNext(operation: string): void;
  operations(region?: string): string[];
  close(): Promise<void>;
}

const STATUS_BY_CODE: Record<string, number> = {
  TooManyRequestsException: 429,
  AccessDeniedException: 403,
  InternalServerErrorException: 500,
  BadRequestException: 400,
};
const CREDENTIALS = { accessKeyId: 'AKIDFINDINGSLOOPBACK', secretAccessKey: 'findings-loopback-secret' };
const MAX_IDS = 50;
const BAD_INPUT = 'The request is rejected because an invalid or out-of-range value is specified as an input parameter.';

class WireError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = STATUS_BY_CODE[code] ?? 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * An EventBridge `detail` → the same finding as GetFindings returns it on the wire: only members
 * the model names (the API sends nothing else), `timestamp` members as epoch seconds (rest-json's
 * default), scalars the model types as strings sent as strings (EventBridge's numeric `asn`),
 * a lone value where the model has a list as a one-item list, and `service.additionalInfo` as the API's `{ value: <JSON text>, type }` (EventBridge spreads
 * it into an object). JSON `null` is sent as absent, as the API does.
 */
const apiWireFinding = (detail: Record<string, unknown>): WireFinding => apiWire(detail, 'Finding') as WireFinding;

const wireToMember = new Map<string, Map<string, WireValue>>();
const membersByWireName = (shape: string): Map<string, WireValue> => {
  let byWire = wireToMember.get(shape);
  if (!byWire) {
    byWire = new Map(Object.values(WIRE_SHAPES[shape] ?? {}).map((m) => (typeof m === 'string' ? [m, SCALAR] : [m[0], m[1]])));
    wireToMember.set(shape, byWire);
  }
  return byWire;
};

const apiWire = (value: unknown, shape: WireValue): unknown => {
  if (value === null || value === undefined) return undefined;
  if (shape === TIMESTAMP) return typeof value === 'string' ? Date.parse(value) / 1000 : value;
  if (shape === SCALAR) return value;
  if (typeof shape !== 'string') {
    const [kind, item] = shape;
    // The model's lists are always lists on the API (the corpus has a lone `flags` string).
    if (kind === 'list') return (Array.isArray(value) ? value : [value]).map((v) => apiWire(v, item)).filter((v) => v !== undefined);
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, apiWire(v, item)]).filter(([, v]) => v !== undefined));
  }
  if (shape === 'ServiceAdditionalInfo' && !('value' in (value as object))) return { value: JSON.stringify(value), type: 'default' };
  const members = membersByWireName(shape);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as object)) {
    const member = members.get(key);
    if (member === undefined) continue;
    const converted = apiWire(v, member);
    if (converted === undefined) continue;
    out[key] = member === SCALAR && typeof converted === 'number' && STRING_SCALARS.has(key) ? String(converted) : converted;
  }
  return out;
};

// Wire names of members the model types as strings that EventBridge has been seen to send as
// numbers (the corpus keeps that quirk: `asn`).
const STRING_SCALARS = new Set(['asn']);

const detectorIdFor = (region: string): string => Buffer.from(region).toString('hex').padEnd(32, '0').slice(0, 32);

/** The value at a dotted path; arrays on the way are searched element-wise (as GuardDuty does for tags, interfaces). */
const valuesAt = (value: unknown, path: string[]): unknown[] => {
  if (path.length === 0) return Array.isArray(value) ? value : [value];
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, path));
  if (value === null || typeof value !== 'object') return [];
  const [head, ...rest] = path;
  return valuesAt((value as Record<string, unknown>)[head!], rest);
};

const asComparable = (field: string, value: unknown): number | string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (field === 'updatedAt' || field === 'createdAt') return typeof value === 'number' ? value * 1000 : Date.parse(String(value));
  return typeof value === 'number' ? value : String(value);
};

// Condition members on the wire, current and deprecated: does any of the field's values pass?
type Test = (texts: string[], numbers: number[], operand: unknown) => boolean;
const listOf = (operand: unknown): string[] => (Array.isArray(operand) ? operand.map(String) : []);
const equals: Test = (texts, _, operand) => texts.some((v) => listOf(operand).includes(v));
const notEquals: Test = (texts, numbers, operand) => !equals(texts, numbers, operand);
const greaterThan: Test = (_, numbers, operand) => numbers.some((v) => v > Number(operand));
const greaterThanOrEqual: Test = (_, numbers, operand) => numbers.some((v) => v >= Number(operand));
const lessThan: Test = (_, numbers, operand) => numbers.some((v) => v < Number(operand));
const lessThanOrEqual: Test = (_, numbers, operand) => numbers.some((v) => v <= Number(operand));
const CONDITIONS: Record<string, Test> = {
  equals, notEquals, greaterThan, greaterThanOrEqual, lessThan, lessThanOrEqual,
  eq: equals, neq: notEquals, gt: greaterThan, gte: greaterThanOrEqual, lt: lessThan, lte: lessThanOrEqual,
};

const matchesCondition = (finding: WireFinding, field: string, condition: Record<string, unknown>): boolean => {
  // An unarchived finding may carry no `archived` at all.
  const subject = field === 'service.archived' ? { ...finding, service: { archived: false, ...(finding.service as object) } } : finding;
  const values = valuesAt(subject, field.split('.'))
    .map((v) => asComparable(field, v))
    .filter((v) => v !== undefined);
  const texts = values.map(String);
  const numbers = values.map(Number);
  return Object.entries(condition).every(([key, operand]) => {
    const test = CONDITIONS[key];
    if (test === undefined) throw new WireError('BadRequestException', BAD_INPUT);
    return test(texts, numbers, operand);
  });
};

const startGuardDutyFindingsLoopback = async (options: FindingsLoopbackOptions): Promise<FindingsLoopback> => {
  const administratorId = options.administratorId ?? '999999999999';
  const listPageSize = options.listPageSize ?? MAX_IDS;
  const detectors: Record<string, string[]> = {};
  const byDetector = new Map<string, { region: string; findings: Map<string, WireFinding>; gone: Set<string> }>();
  for (const [region, data] of Object.entries(options.regions)) {
    detectors[region] = data.detectorIds ?? [detectorIdFor(region)];
    for (const id of detectors[region]) {
      byDetector.set(`${region}/${id}`, { region, findings: new Map((data.findings ?? []).map((f) => [f.id, f])), gone: new Set(data.gone) });
    }
  }
  const calls: FindingsCall[] = [];
  const failures = new Map<string, InjectedFailure[]>();
  const stalled = new Set<string>();
  let release: () => void = () => undefined;
  const closing = new Promise<void>((resolve) => (release = resolve));

  const takeFailure = (operation: string, region: string): InjectedFailure | undefined => {
    const list = failures.get(operation) ?? [];
    const index = list.findIndex((f) => f.region === undefined || f.region === region);
    const next = list[index];
    if (!next) return undefined;
    const remaining = (next.times ?? 1) - 1;
    if (remaining <= 0) list.splice(index, 1);
    else next.times = remaining;
    return next;
  };

  // Tokens are opaque to the client; the offset is wrapped so a client that invents one is refused.
  const token = (offset: number) => Buffer.from(`loopback:${offset}`).toString('base64url');
  const offsetOf = (value: unknown): number => {
    if (value === undefined || value === null || value === '') return 0;
    const m = /^loopback:(\d+)$/.exec(Buffer.from(String(value), 'base64url').toString());
    if (!m) throw new WireError('BadRequestException', 'The request is rejected because the input nextToken is invalid.');
    return Number(m[1]);
  };
  const maxResults = (value: unknown): number => {
    if (value === undefined) return MAX_IDS;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > MAX_IDS) {
      throw new WireError('BadRequestException', "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50");
    }
    return n;
  };
  const detectorOf = (region: string, id: string) => {
    const found = byDetector.get(`${region}/${id}`);
    if (!found) throw new WireError('BadRequestException', 'The request is rejected because the input detectorId is not owned by the current account.');
    return found;
  };
  const sorted = (findings: WireFinding[], sort: any): WireFinding[] => {
    const attribute = sort?.attributeName;
    if (typeof attribute !== 'string') return findings;
    const direction = sort.orderBy === 'DESC' ? -1 : 1;
    const key = (f: WireFinding) => asComparable(attribute, valuesAt(f, attribute.split('.'))[0]) ?? '';
    return [...findings].sort((a, b) => (key(a) < key(b) ? -direction : key(a) > key(b) ? direction : 0));
  };

  /** The operation of a method and path, and how it answers for a region (run once the request is authorised). */
  const route = (method: string, path: string, query: Record<string, string>, body: any): { operation: string; run: (region: string) => unknown } => {
    if (method === 'GET' && path === '/detector') {
      return {
        operation: 'ListDetectors',
        run: (region) => {
          const ids = detectors[region] ?? [];
          const start = offsetOf(query.nextToken);
          const size = maxResults(query.maxResults);
          const next = start + size < ids.length ? { nextToken: token(start + size) } : {};
          return { detectorIds: ids.slice(start, start + size), ...next };
        },
      };
    }
    const m = /^\/detector\/([^/]+)\/findings(\/get)?$/.exec(path);
    if (method === 'POST' && m && m[2] === undefined) {
      return {
        operation: 'ListFindings',
        run: (region) => {
          const detector = detectorOf(region, decodeURIComponent(m[1]!));
          const criterion = body?.findingCriteria?.criterion ?? {};
          if (typeof criterion !== 'object' || Array.isArray(criterion)) throw new WireError('BadRequestException', BAD_INPUT);
          const matching = sorted(
            [...detector.findings.values()].filter((f) => Object.entries(criterion).every(([field, condition]) => matchesCondition(f, field, condition as Record<string, unknown>))),
            body?.sortCriteria,
          );
          const start = offsetOf(body?.nextToken);
          const size = Math.min(maxResults(body?.maxResults), listPageSize);
          const next = start + size < matching.length ? { nextToken: token(start + size) } : {};
          return { findingIds: matching.slice(start, start + size).map((f) => f.id), ...next };
        },
      };
    }
    if (method === 'POST' && m && m[2] === '/get') {
      return {
        operation: 'GetFindings',
        run: (region) => {
          const detector = detectorOf(region, decodeURIComponent(m[1]!));
          const ids = body?.findingIds;
          if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_IDS) {
            throw new WireError('BadRequestException', "1 validation error detected: Value at 'findingIds' failed to satisfy constraint: Member must have length less than or equal to 50");
          }
          const found = ids
            .filter((id) => !detector.gone.has(String(id)))
            .map((id) => detector.findings.get(String(id)))
            .filter((f): f is WireFinding => f !== undefined);
          return { findings: sorted(found, body?.sortCriteria) };
        },
      };
    }
    return { operation: '', run: () => { throw new WireError('UnknownOperationException', `guardduty findings loopback: no route for ${method} ${path}`, 404); } };
  };

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  /** The region of the SigV4 credential scope; the signature itself is not verified. */
  const signedRegion = (authorization: string): string => {
    const m = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.exec(authorization);
    if (!m) throw new WireError('AccessDeniedException', 'Missing or malformed SigV4 Authorization header');
    if (m[2] !== 'guardduty') throw new WireError('AccessDeniedException', `Credential should be scoped to correct service: 'guardduty', got '${m[2]}'`);
    return m[1]!;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://loopback');
    const query = Object.fromEntries(url.searchParams.entries());
    let body: any = text;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      // keep the raw text: the route answers SerializationException-like 400s below
    }
    const call: FindingsCall = { region: '', operation: '', method: req.method ?? '', path: url.pathname, query, body, status: 0 };
    calls.push(call);
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}) => {
      const out = JSON.stringify(payload);
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(out)), 'x-amzn-requestid': randomUUID(), ...extra });
      res.end(out);
    };
    try {
      const { operation, run } = route(req.method ?? '', url.pathname, query, body);
      call.operation = operation;
      call.region = signedRegion(String(req.headers.authorization ?? ''));
      if (!req.headers['x-amz-date']) throw new WireError('AccessDeniedException', 'X-Amz-Date header missing');
      if (typeof body === 'string') throw new WireError('BadRequestException', 'The request body is not valid JSON.');
      if (options.regions[call.region]?.denied) {
        throw new WireError(
          'AccessDeniedException',
          `User: arn:aws:iam::${administratorId}:user/auditor is not authorized to perform: guardduty:${operation} in region ${call.region} with an explicit deny in a service control policy`,
        );
      }
      if (stalled.delete(operation)) {
        await closing;
        return;
      }
      const injected = takeFailure(operation, call.region);
      if (injected) throw new WireError(injected.code, injected.message ?? injected.code, injected.status);
      send(200, run(call.region) ?? {});
    } catch (error) {
      const e = error instanceof WireError ? error : new WireError('InternalServerErrorException', String((error as Error).stack ?? error), 500);
      call.errorCode = e.code;
      send(e.status, { message: e.message, __type: e.code }, { 'x-amzn-errortype': e.code });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    calls,
    detectors,
    env: (region = Object.keys(options.regions)[0] ?? 'us-east-1') => ({
      AWS_ENDPOINT_URL_GUARDDUTY: endpoint,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: region,
    }),
    failNext: (operation, failure) => {
      const list = failures.get(operation) ?? [];
      list.push({ ...failure });
      failures.set(operation, list);
    },
    operations: (region) => calls.filter((c) => region === undefined || c.region === region).map((c) => c.operation),
    stallNext: (operation) => stalled.add(operation),
    close: async () => {
      release();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
};

export { startGuardDutyFindingsLoopback, apiWireFinding };
export type { FindingsLoopback, FindingsLoopbackOptions, WireFinding };
