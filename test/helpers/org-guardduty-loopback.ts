/**
 * Organizations + GuardDuty loopback: one in-process HTTP server speaking both wire
 * protocols as the installed SDK v3 clients send them, so tests drive the genuine
 * clients (serialisation, signing, pagination, error parsing, retries).
 *
 * - Organizations  awsJson1_1  POST /  X-Amz-Target: AWSOrganizationsV20161128.<Op>  signing name "organizations"
 *                  errors: 400 + `{ "__type": "<Code>", "Message": ... }` (TooManyRequestsException,
 *                  AccessDeniedException, AccountNotFoundException, ...)
 * - GuardDuty      restJson1   signing name "guardduty"
 *                  GET  /detector                              ListDetectors   ?maxResults&nextToken
 *                  POST /detector/{id}/member                  CreateMembers   { accountDetails[] }   (1..50)
 *                  POST /detector/{id}/member/invite           InviteMembers   { accountIds[], message?, disableEmailNotification? }
 *                  GET  /detector/{id}/member                  ListMembers     ?maxResults&nextToken&onlyAssociated
 *                  POST /detector/{id}/member/get              GetMembers      { accountIds[] }       (1..50)
 *                  errors: status + `x-amzn-errortype` + `{ "message", "__type" }` (429 throttling,
 *                  403 AccessDeniedException, 400 BadRequestException)
 *
 * Every request must carry a SigV4 Authorization header for the right service (presence
 * and scope are checked, not the signature). Only node builtins are used.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Service = 'organizations' | 'guardduty';

interface OrgGuardDutyCall {
  service: Service | 'unknown';
  operation: string;
  method: string;
  path: string;
  query: Record<string, string>;
  body: any;
  headers: Record<string, string>;
  status: number;
  errorCode?: string;
}

interface Failure {
  /** HTTP status; default 400 for Organizations, by code for GuardDuty (429, 403, 400). */
  status?: number;
  code: string;
  message?: string;
  /** Consecutive calls to fail; default 1 (Infinity: until cleared). */
  times?: number;
}

interface OrgAccount {
  id: string;
  name: string;
  email: string;
  /** Parent OU id (`ou-...`) or the root id. */
  parentId: string;
  state?: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED';
  tags?: Record<string, string>;
}

interface OrgUnit {
  id: string;
  name: string;
  parentId: string;
}

interface GdMember {
  accountId: string;
  email: string;
  relationshipStatus: string;
  invitedAt?: string;
  updatedAt: string;
  detectorId?: string;
}

interface OrgGuardDutyLoopbackOptions {
  /** The administrator / caller account; default 999999999999. */
  administratorId?: string;
  organizationId?: string;
  rootId?: string;
  accounts?: OrgAccount[];
  ous?: OrgUnit[];
  /** Detector ids of the caller in this region; default ['12abc34d567e8fa901bc2d34e56789f0']. */
  detectorIds?: string[];
  members?: GdMember[];
  /** Page size the server uses when maxResults is absent (Organizations' ListTagsForResource etc.). */
  pageSize?: number;
  /** CreateMembers answers these accounts as unprocessed with this result. */
  rejectCreate?: Record<string, string>;
  /** InviteMembers answers these accounts as unprocessed with this result. */
  rejectInvite?: Record<string, string>;
}

interface OrgGuardDutyLoopback {
  endpoint: string;
  administratorId: string;
  rootId: string;
  detectorIds: string[];
  calls: OrgGuardDutyCall[];
  accounts: Map<string, OrgAccount>;
  ous: Map<string, OrgUnit>;
  members: Map<string, GdMember>;
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };
  /** Environment for a spawned CLI or a Lambda module: endpoint, fake credentials, region. */
  env(): Record<string, string>;
  failNext(operation: string, failure: Failure): void;
  clearFailures(): void;
  /** Sets (or adds) a member's relationship status. */
  setMember(accountId: string, status: string, email?: string): void;
  operations(): string[];
  reset(): void;
  close(): Promise<void>;
}

const ORG_TARGET = 'AWSOrganizationsV20161128.';
const GD_STATUS: Record<string, number> = { TooManyRequestsException: 429, AccessDeniedException: 403, InternalServerErrorException: 500, BadRequestException: 400 };

class WireError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const startOrgGuardDutyLoopback = async (options: OrgGuardDutyLoopbackOptions = {}): Promise<OrgGuardDutyLoopback> => {
  const administratorId = options.administratorId ?? '999999999999';
  const organizationId = options.organizationId ?? 'o-exampleorgid';
  const rootId = options.rootId ?? 'r-examplerootid';
  const pageSize = options.pageSize ?? 2;
  const detectorIds = options.detectorIds ?? ['12abc34d567e8fa901bc2d34e56789f0'];
  const accounts = new Map((options.accounts ?? []).map((a) => [a.id, { ...a }]));
  const ous = new Map((options.ous ?? []).map((o) => [o.id, { ...o }]));
  const members = new Map((options.members ?? []).map((m) => [m.accountId, { ...m }]));
  const calls: OrgGuardDutyCall[] = [];
  const failures = new Map<string, Failure[]>();
  const now = () => new Date().toISOString();

  const takeFailure = (operation: string): Failure | undefined => {
    const list = failures.get(operation);
    const next = list?.[0];
    if (!next) return undefined;
    const remaining = (next.times ?? 1) - 1;
    if (remaining <= 0) list!.shift();
    else next.times = remaining;
    return next;
  };

  const page = <T>(items: T[], token: string | undefined, max: number | undefined): { items: T[]; next?: string } => {
    const start = token ? Number.parseInt(Buffer.from(token, 'base64url').toString(), 10) : 0;
    if (Number.isNaN(start)) throw new WireError('InvalidInputException', 'invalid NextToken');
    const size = max ?? pageSize;
    const slice = items.slice(start, start + size);
    return start + size < items.length ? { items: slice, next: Buffer.from(String(start + size)).toString('base64url') } : { items: slice };
  };

  // ── Organizations ──────────────────────────────────────────────────────────
  const accountArn = (id: string) => `arn:aws:organizations::${administratorId}:account/${organizationId}/${id}`;
  const wireAccount = (a: OrgAccount) => ({
    Id: a.id,
    Arn: accountArn(a.id),
    Email: a.email,
    Name: a.name,
    Status: a.state === 'CLOSED' ? 'SUSPENDED' : (a.state ?? 'ACTIVE'),
    State: a.state ?? 'ACTIVE',
    JoinedMethod: 'CREATED',
    JoinedTimestamp: 1_600_000_000.123,
  });
  const accountId = (value: unknown): string => {
    if (typeof value !== 'string' || !/^\d{12}$/.test(value)) throw new WireError('InvalidInputException', "You provided a value that does not match the required pattern. Reason: INVALID_PATTERN");
    return value;
  };

  const organizations: Record<string, (body: any) => unknown> = {
    DescribeAccount: (body) => {
      const account = accounts.get(accountId(body.AccountId));
      if (!account) throw new WireError('AccountNotFoundException', "You specified an account that doesn't exist.");
      return { Account: wireAccount(account) };
    },
    ListParents: (body) => {
      const child: string = body.ChildId;
      const parentId = accounts.get(child)?.parentId ?? ous.get(child)?.parentId;
      if (parentId === undefined) throw new WireError('ChildNotFoundException', 'We can\'t find an organizational unit (OU) or AWS account with the ChildId that you specified.');
      return { Parents: [{ Id: parentId, Type: parentId === rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT' }] };
    },
    DescribeOrganizationalUnit: (body) => {
      const ou = ous.get(body.OrganizationalUnitId);
      if (!ou) throw new WireError('OrganizationalUnitNotFoundException', "We can't find an OU with the OrganizationalUnitId that you specified.");
      return { OrganizationalUnit: { Id: ou.id, Arn: `arn:aws:organizations::${administratorId}:ou/${organizationId}/${ou.id}`, Name: ou.name } };
    },
    ListTagsForResource: (body) => {
      const account = accounts.get(body.ResourceId);
      if (!account) throw new WireError('TargetNotFoundException', "We can't find a root, OU, account, or policy with the TargetId that you specified.");
      const tags = Object.entries(account.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      const { items, next } = page(tags, body.NextToken, undefined);
      return { Tags: items, ...(next ? { NextToken: next } : {}) };
    },
    ListAccounts: (body) => {
      const max = body.MaxResults === undefined ? undefined : Number(body.MaxResults);
      if (max !== undefined && (max < 1 || max > 20)) throw new WireError('InvalidInputException', 'MaxResults must be between 1 and 20. Reason: INVALID_RANGE');
      const all = [...accounts.values()].sort((a, b) => a.id.localeCompare(b.id)).map(wireAccount);
      const { items, next } = page(all, body.NextToken, max !== undefined ? Math.min(max, pageSize) : undefined);
      return { Accounts: items, ...(next ? { NextToken: next } : {}) };
    },
  };

  // ── GuardDuty ──────────────────────────────────────────────────────────────
  const wireMember = (m: GdMember) => ({
    accountId: m.accountId,
    detectorId: m.detectorId ?? (m.relationshipStatus === 'Enabled' ? `d${m.accountId}` : undefined),
    masterId: administratorId,
    administratorId,
    email: m.email,
    relationshipStatus: m.relationshipStatus,
    ...(m.invitedAt ? { invitedAt: m.invitedAt } : {}),
    updatedAt: m.updatedAt,
  });
  const requireDetector = (id: string) => {
    if (!detectorIds.includes(id)) throw new WireError('BadRequestException', 'The request is rejected because the input detectorId is not owned by the current account.');
  };
  const accountList = (value: unknown, name: string): string[] => {
    if (!Array.isArray(value) || value.length < 1 || value.length > 50) {
      throw new WireError('BadRequestException', `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have length less than or equal to 50 and greater than or equal to 1`);
    }
    return value.map(String);
  };
  const maxResults = (query: Record<string, string>): number | undefined => {
    if (query.maxResults === undefined) return undefined;
    const n = Number(query.maxResults);
    if (!(n >= 1 && n <= 50)) throw new WireError('BadRequestException', "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50");
    return n;
  };

  const guardduty = (method: string, path: string, query: Record<string, string>, body: any): { operation: string; run: () => unknown } => {
    if (method === 'GET' && path === '/detector') {
      return {
        operation: 'ListDetectors',
        run: () => {
          const { items, next } = page(detectorIds, query.nextToken, maxResults(query) ?? 50);
          return { detectorIds: items, ...(next ? { nextToken: next } : {}) };
        },
      };
    }
    const m = /^\/detector\/([^/]+)\/member(\/invite|\/get)?$/.exec(path);
    if (!m) return { operation: '', run: () => { throw new WireError('UnknownOperationException', `guardduty loopback: no route for ${method} ${path}`, 404); } };
    const detectorId = decodeURIComponent(m[1]!);
    const sub = m[2] ?? '';
    if (method === 'POST' && sub === '') {
      return {
        operation: 'CreateMembers',
        run: () => {
          requireDetector(detectorId);
          const details = body?.accountDetails;
          accountList(details, 'accountDetails');
          const unprocessed: { accountId: string; result: string }[] = [];
          for (const d of details as { accountId: string; email: string }[]) {
            const reason =
              options.rejectCreate?.[d.accountId] ??
              (d.accountId === administratorId ? 'The request is rejected because the current account cannot be a member of itself.' : undefined);
            if (reason) {
              unprocessed.push({ accountId: d.accountId, result: reason });
              continue;
            }
            const existing = members.get(d.accountId);
            if (existing && existing.relationshipStatus !== 'Removed' && existing.relationshipStatus !== 'Resigned') continue;
            members.set(d.accountId, { accountId: d.accountId, email: d.email, relationshipStatus: 'Created', updatedAt: now() });
          }
          return { unprocessedAccounts: unprocessed };
        },
      };
    }
    if (method === 'POST' && sub === '/invite') {
      return {
        operation: 'InviteMembers',
        run: () => {
          requireDetector(detectorId);
          const ids = accountList(body?.accountIds, 'accountIds');
          const unprocessed: { accountId: string; result: string }[] = [];
          for (const id of ids) {
            const member = members.get(id);
            const reason = options.rejectInvite?.[id] ?? (member ? undefined : 'The request is rejected because the input account ID is not a member of the current account.');
            if (reason) {
              unprocessed.push({ accountId: id, result: reason });
              continue;
            }
            member!.relationshipStatus = 'Invited';
            member!.invitedAt = now();
            member!.updatedAt = now();
          }
          return { unprocessedAccounts: unprocessed };
        },
      };
    }
    if (method === 'GET' && sub === '') {
      return {
        operation: 'ListMembers',
        run: () => {
          requireDetector(detectorId);
          const onlyAssociated = query.onlyAssociated === undefined || query.onlyAssociated === 'true';
          const all = [...members.values()]
            .filter((x) => !onlyAssociated || x.relationshipStatus === 'Enabled' || x.relationshipStatus === 'Disabled')
            .sort((a, b) => a.accountId.localeCompare(b.accountId))
            .map(wireMember);
          const { items, next } = page(all, query.nextToken, maxResults(query) ?? 50);
          return { members: items, ...(next ? { nextToken: next } : {}) };
        },
      };
    }
    if (method === 'POST' && sub === '/get') {
      return {
        operation: 'GetMembers',
        run: () => {
          requireDetector(detectorId);
          const ids = accountList(body?.accountIds, 'accountIds');
          const found = ids.map((id) => members.get(id)).filter((x): x is GdMember => x !== undefined);
          return {
            members: found.map(wireMember),
            unprocessedAccounts: ids
              .filter((id) => !members.has(id))
              .map((accountId) => ({ accountId, result: 'The request is rejected because the input account ID is not associated with the current account.' })),
          };
        },
      };
    }
    return { operation: '', run: () => { throw new WireError('UnknownOperationException', `guardduty loopback: no route for ${method} ${path}`, 404); } };
  };

  // ── HTTP ───────────────────────────────────────────────────────────────────
  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const checkAuth = (headers: Record<string, string>, service: Service): void => {
    const auth = headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=[0-9a-f]{64}$/.exec(auth);
    if (!m) throw new WireError(service === 'organizations' ? 'MissingAuthenticationTokenException' : 'AccessDeniedException', 'Missing or malformed SigV4 Authorization header', 403);
    if (m[4] !== service) throw new WireError('InvalidSignatureException', `Credential should be scoped to correct service: '${service}', got '${m[4]}'`, 403);
    if (!headers['x-amz-date']) throw new WireError('IncompleteSignatureException', 'X-Amz-Date header missing', 403);
    if (!m[5]!.split(';').includes('host')) throw new WireError('IncompleteSignatureException', 'host must be a signed header', 403);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await readBody(req);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : (v ?? '')]));
    const url = new URL(req.url ?? '/', 'http://loopback');
    const query = Object.fromEntries(url.searchParams.entries());
    let body: any = text;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      // keep the raw text
    }
    const target = headers['x-amz-target'] ?? '';
    const service: Service = target.startsWith(ORG_TARGET) ? 'organizations' : 'guardduty';
    const call: OrgGuardDutyCall = { service, operation: '', method: req.method ?? '', path: url.pathname, query, body, headers, status: 0 };
    calls.push(call);
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}) => {
      const out = JSON.stringify(payload);
      call.status = status;
      res.writeHead(status, {
        'content-type': service === 'organizations' ? 'application/x-amz-json-1.1' : 'application/json',
        'content-length': String(Buffer.byteLength(out)),
        'x-amzn-requestid': randomUUID(),
        ...extra,
      });
      res.end(out);
    };
    try {
      let run: () => unknown;
      if (service === 'organizations') {
        call.operation = target.slice(ORG_TARGET.length);
        if (req.method !== 'POST' || url.pathname !== '/') throw new WireError('UnknownOperationException', 'Organizations is POST /');
        if ((headers['content-type'] ?? '').split(';')[0] !== 'application/x-amz-json-1.1') throw new WireError('SerializationException', 'expected application/x-amz-json-1.1');
        const op = organizations[call.operation];
        if (!op) throw new WireError('UnknownOperationException', `organizations loopback: ${call.operation} not implemented`);
        run = () => op(body);
      } else {
        const route = guardduty(req.method ?? '', url.pathname, query, body);
        call.operation = route.operation;
        run = route.run;
      }
      checkAuth(headers, service);
      const injected = takeFailure(call.operation);
      if (injected) {
        throw new WireError(injected.code, injected.message ?? injected.code, injected.status ?? (service === 'guardduty' ? (GD_STATUS[injected.code] ?? 400) : 400));
      }
      send(200, run() ?? {});
    } catch (error) {
      const e = error instanceof WireError ? error : new WireError('InternalFailure', String((error as Error).stack ?? error), 500);
      call.errorCode = e.code;
      if (service === 'organizations') send(e.status, { __type: e.code, Message: e.message });
      else send(e.status, { message: e.message, __type: e.code }, { 'x-amzn-errortype': e.code });
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
  const credentials = { accessKeyId: 'AKIDORGLOOPBACK', secretAccessKey: 'org-loopback-secret' };

  return {
    endpoint,
    administratorId,
    rootId,
    detectorIds,
    calls,
    accounts,
    ous,
    members,
    clientConfig: { endpoint, region: 'us-east-1', credentials, maxAttempts: 1 },
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '1',
    }),
    failNext: (operation, failure) => {
      const list = failures.get(operation) ?? [];
      list.push({ ...failure });
      failures.set(operation, list);
    },
    clearFailures: () => failures.clear(),
    setMember: (id, status, email) => {
      const existing = members.get(id);
      members.set(id, { ...(existing ?? { accountId: id, email: email ?? `${id}@example.com` }), ...(email ? { email } : {}), relationshipStatus: status, updatedAt: now() });
    },
    operations: () => calls.map((c) => c.operation),
    reset: () => {
      calls.length = 0;
      failures.clear();
    },
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
};

export { startOrgGuardDutyLoopback };
export type { OrgGuardDutyLoopback, GdMember };
