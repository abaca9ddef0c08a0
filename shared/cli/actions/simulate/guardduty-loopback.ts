import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback speaking GuardDuty's restJson1 protocol for the calls the actions engine makes,
 * so `actions simulate` and the tests drive the real SDK client (serialisation, SigV4
 * signing, error parsing) and see exactly the requests it would send to AWS:
 *
 *   GET  /detector                               ListDetectors           → { detectorIds }
 *   POST /detector/{id}/findings/get             GetFindings             { findingIds } → { findings }
 *   POST /detector/{id}/findings/archive         ArchiveFindings         { findingIds } → {}
 *   POST /detector/{id}/findings/feedback        UpdateFindingsFeedback  { findingIds, feedback, comments? } → {}
 *   errors: status + `x-amzn-errortype` + `{ "message", "__type" }`
 *
 * The region is read from the request's SigV4 credential scope, as AWS routes by host. Each
 * region has one detector (the administrator's) holding findings in wire form; ArchiveFindings
 * and feedback change them, so a second GetFindings sees the change.
 */
type WireFinding = Record<string, unknown> & { id: string };

interface ActionsLoopbackCall {
  region: string;
  operation: string;
  detectorId?: string;
  body: Record<string, unknown>;
  status: number;
  errorCode?: string;
}

interface ActionsLoopbackOptions {
  /** Region → the findings its administrator detector holds (wire form: camelCase, as GetFindings sends). */
  regions: Record<string, WireFinding[]>;
}

interface ActionsLoopback {
  endpoint: string;
  calls: ActionsLoopbackCall[];
  /** Region → its detector id. */
  detectors: Record<string, string>;
  /** The finding as the detector now holds it. */
  finding(region: string, id: string): WireFinding | undefined;
  /** The next `times` calls of an operation fail with this AWS error code (429 for TooManyRequestsException). */
  failNext(operation: string, code: string, times?: number): void;
  /** Environment for an SDK client in this process or a child: endpoint, dummy credentials. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

const STATUS: Record<string, number> = { TooManyRequestsException: 429, AccessDeniedException: 403, InternalServerErrorException: 500 };
const MAX_BODY = 1024 * 1024;

class WireError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = STATUS[code] ?? 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const detectorIdOf = (region: string): string => Buffer.from(region).toString('hex').padEnd(32, '0').slice(0, 32);

const startActionsLoopback = async (options: ActionsLoopbackOptions): Promise<ActionsLoopback> => {
  const detectors: Record<string, string> = {};
  const held = new Map<string, Map<string, WireFinding>>();
  for (const [region, findings] of Object.entries(options.regions)) {
    detectors[region] = detectorIdOf(region);
    held.set(region, new Map(findings.map((f) => [f.id, structuredClone(f)])));
  }
  const calls: ActionsLoopbackCall[] = [];
  const failures: { operation: string; code: string; left: number }[] = [];

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw new WireError('BadRequestException', 'request body too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  };

  const signedRegion = (authorization: string): string => {
    const m = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/guardduty\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.exec(authorization);
    if (!m) throw new WireError('AccessDeniedException', 'Missing or malformed SigV4 Authorization header for guardduty');
    return m[1]!;
  };

  const findingsOf = (region: string, detectorId: string) => {
    const findings = held.get(region);
    if (findings === undefined || detectors[region] !== detectorId) {
      throw new WireError('BadRequestException', 'The request is rejected because the input detectorId is not owned by the current account.');
    }
    return findings;
  };

  const idsOf = (body: Record<string, unknown>): string[] => {
    const ids = body.findingIds;
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 50 || !ids.every((id) => typeof id === 'string')) {
      throw new WireError('BadRequestException', "1 validation error detected: Value at 'findingIds' failed to satisfy constraint");
    }
    return ids as string[];
  };

  const operationOf = (method: string, path: string): { operation: string; detectorId?: string } => {
    if (method === 'GET' && path === '/detector') return { operation: 'ListDetectors' };
    const m = /^\/detector\/([^/]+)\/findings\/(get|archive|feedback)$/.exec(path);
    if (method === 'POST' && m) {
      const operation = { get: 'GetFindings', archive: 'ArchiveFindings', feedback: 'UpdateFindingsFeedback' }[m[2] as 'get' | 'archive' | 'feedback'];
      return { operation, detectorId: decodeURIComponent(m[1]!) };
    }
    throw new WireError('UnknownOperationException', `actions loopback: no route for ${method} ${path}`, 404);
  };

  const run = (call: ActionsLoopbackCall): unknown => {
    const { region, operation, body } = call;
    if (operation === 'ListDetectors') return { detectorIds: detectors[region] ? [detectors[region]] : [] };
    const findings = findingsOf(region, call.detectorId ?? '');
    const ids = idsOf(body);
    if (operation === 'GetFindings') return { findings: ids.map((id) => findings.get(id)).filter((f) => f !== undefined) };
    const missing = ids.find((id) => !findings.has(id));
    if (missing !== undefined) throw new WireError('BadRequestException', 'The request is rejected because an invalid or out-of-range value is specified as an input parameter.');
    if (operation === 'ArchiveFindings') {
      for (const id of ids) {
        const finding = findings.get(id)!;
        finding.service = { ...(finding.service as object), archived: true };
      }
      return {};
    }
    if (body.feedback !== 'USEFUL' && body.feedback !== 'NOT_USEFUL') throw new WireError('BadRequestException', "Value at 'feedback' failed to satisfy constraint: Member must satisfy enum value set: [USEFUL, NOT_USEFUL]");
    for (const id of ids) {
      const finding = findings.get(id)!;
      finding.service = { ...(finding.service as object), userFeedback: body.feedback };
    }
    return {};
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    const call: ActionsLoopbackCall = { region: '', operation: '', body: {}, status: 0 };
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}) => {
      const out = JSON.stringify(payload);
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(out)), 'x-amzn-requestid': randomUUID(), ...extra });
      res.end(out);
    };
    try {
      const text = await readBody(req);
      Object.assign(call, operationOf(req.method ?? '', url.pathname));
      calls.push(call);
      call.region = signedRegion(String(req.headers.authorization ?? ''));
      try {
        call.body = text === '' ? {} : JSON.parse(text);
      } catch {
        throw new WireError('BadRequestException', 'The request body is not valid JSON.');
      }
      const failure = failures.find((f) => f.operation === call.operation && f.left > 0);
      if (failure) {
        failure.left -= 1;
        throw new WireError(failure.code, failure.code === 'TooManyRequestsException' ? 'Rate exceeded' : failure.code);
      }
      send(200, run(call));
    } catch (error) {
      const e = error instanceof WireError ? error : new WireError('InternalServerErrorException', 'internal error', 500);
      call.errorCode = e.code;
      send(e.status, { message: e.message, __type: e.code }, { 'x-amzn-errortype': e.code });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    calls,
    detectors,
    finding: (region, id) => held.get(region)?.get(id),
    failNext: (operation, code, times = 1) => {
      failures.push({ operation, code, left: times });
    },
    env: () => ({ AWS_ENDPOINT_URL_GUARDDUTY: endpoint, AWS_ACCESS_KEY_ID: 'AKIDACTIONSLOOPBACK', AWS_SECRET_ACCESS_KEY: 'actions-loopback-secret' }),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
};

export { startActionsLoopback };
export type { ActionsLoopback, ActionsLoopbackCall };
