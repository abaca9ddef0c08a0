/**
 * SSM Parameter Store loopback: an in-process HTTP server speaking the JSON protocol the
 * installed `@aws-sdk/client-ssm` uses (awsJson1_1: `POST /`, `X-Amz-Target:
 * AmazonSSM.<Op>`, SigV4 for service `ssm`), with the behaviour `config publish`, `rollback`
 * and the route stage depend on:
 *
 * - GetParameter: `{ Parameter: { Name, Type, Value, Version, LastModifiedDate, ARN, DataType } }`;
 *   a missing name answers 400 `{"__type":"ParameterNotFound"}` (the real service sends no message).
 * - PutParameter: a new version each time (1, 2, …; the oldest dropped past 100); an existing
 *   name without `Overwrite: true` answers ParameterAlreadyExists; a new name needs `Type`.
 *   Tiers as SSM applies them: Standard holds 4096 characters, Advanced 8192, a value over the
 *   limit answers ValidationException, Intelligent-Tiering picks Standard when it fits and the
 *   parameter is not Advanced already, and an Advanced parameter is never downgraded.
 * - GetParameterHistory: every version, oldest first, pages of MaxResults (≤ 50) with NextToken.
 *
 * Errors are `{ "__type": Code, "message": … }` with `x-amzn-errortype`, as the SDK parses them.
 * Only node builtins are used (plus the shared SigV4 checker).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { verifySigV4 } from './firehose-loopback.ts';
import { listenLoopback, readBody } from './receiver-kit.ts';

const SSM_CREDENTIALS = { accessKeyId: 'AKIDSSMLOOPBACK', secretAccessKey: 'ssm-loopback-secret-key' } as const;
const SSM_REGION = 'us-east-1';
const SSM_ACCOUNT = '123456789012';
const STANDARD_LIMIT = 4096;
const ADVANCED_LIMIT = 8192;
const MAX_VERSIONS = 100;

interface StoredParameterVersion {
  Name: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Value: string;
  Version: number;
  Tier: 'Standard' | 'Advanced';
  Description?: string;
  LastModifiedDate: Date;
}

interface SsmCall {
  operation: string;
  body: Record<string, unknown>;
  status: number;
  errorType?: string;
}

interface SsmLoopback {
  endpoint: string;
  region: typeof SSM_REGION;
  credentials: { accessKeyId: string; secretAccessKey: string };
  calls: SsmCall[];
  /** Every stored version by name, oldest first. */
  parameters: Map<string, StoredParameterVersion[]>;
  /** Errors answered to the next calls (FIFO), e.g. { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }. */
  failCalls: { status: number; type: string; message?: string }[];
  /** What someone editing the parameter in the console does: a new version, no checks. */
  edit(name: string, value: string): number;
  /** The current value (undefined when absent). */
  current(name: string): StoredParameterVersion | undefined;
  close(): Promise<void>;
}

class SsmFailure extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string | undefined, status = 400) {
    super(message ?? type);
    this.type = type;
    this.status = status;
  }
}

const headerValue = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
};

/** `credentials`: the caller's (default SSM_CREDENTIALS; a test sharing one set with other loopbacks passes it). */
const startSsmLoopback = async (credentials: { accessKeyId: string; secretAccessKey: string } = SSM_CREDENTIALS): Promise<SsmLoopback> => {
  const parameters = new Map<string, StoredParameterVersion[]>();
  const current = (name: string) => parameters.get(name)?.at(-1);

  const store = (entry: Omit<StoredParameterVersion, 'Version' | 'LastModifiedDate'>): number => {
    const versions = parameters.get(entry.Name) ?? [];
    const version = (versions.at(-1)?.Version ?? 0) + 1;
    versions.push({ ...entry, Version: version, LastModifiedDate: new Date() });
    if (versions.length > MAX_VERSIONS) versions.shift();
    parameters.set(entry.Name, versions);
    return version;
  };

  const wire = (p: StoredParameterVersion) => ({
    Name: p.Name,
    Type: p.Type,
    Value: p.Value,
    Version: p.Version,
    LastModifiedDate: p.LastModifiedDate.getTime() / 1000,
    ARN: `arn:aws:ssm:${SSM_REGION}:${SSM_ACCOUNT}:parameter${p.Name.startsWith('/') ? '' : '/'}${p.Name}`,
    DataType: 'text',
  });

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    GetParameter: (body) => {
      const p = current(String(body.Name ?? ''));
      if (p === undefined) throw new SsmFailure('ParameterNotFound', undefined);
      return { Parameter: wire(p) };
    },
    PutParameter: (body) => {
      const name = String(body.Name ?? '');
      const value = body.Value;
      if (typeof value !== 'string' || value.length === 0) throw new SsmFailure('ValidationException', "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
      const existing = current(name);
      if (existing !== undefined && body.Overwrite !== true) {
        throw new SsmFailure('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
      }
      const type = (body.Type as StoredParameterVersion['Type'] | undefined) ?? existing?.Type;
      if (type === undefined) throw new SsmFailure('ValidationException', 'A parameter type is required when you create a parameter.');
      const requested = String(body.Tier ?? 'Standard');
      const length = value.length;
      if (length > ADVANCED_LIMIT) {
        throw new SsmFailure('ValidationException', `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${ADVANCED_LIMIT}`);
      }
      let tier: StoredParameterVersion['Tier'];
      if (requested === 'Intelligent-Tiering') tier = existing?.Tier === 'Advanced' || length > STANDARD_LIMIT ? 'Advanced' : 'Standard';
      else if (requested === 'Advanced') tier = 'Advanced';
      else {
        if (existing?.Tier === 'Advanced') throw new SsmFailure('ValidationException', 'This parameter uses the advanced-parameter tier. You can\'t downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.');
        if (length > STANDARD_LIMIT) {
          throw new SsmFailure('ValidationException', `Standard tier parameters support a maximum parameter value of ${STANDARD_LIMIT} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`);
        }
        tier = 'Standard';
      }
      const version = store({ Name: name, Type: type, Value: value, Tier: tier, ...(typeof body.Description === 'string' ? { Description: body.Description } : {}) });
      return { Version: version, Tier: tier };
    },
    GetParameterHistory: (body) => {
      const versions = parameters.get(String(body.Name ?? ''));
      if (versions === undefined) throw new SsmFailure('ParameterNotFound', undefined);
      const max = Number(body.MaxResults ?? 50);
      if (!Number.isInteger(max) || max < 1 || max > 50) throw new SsmFailure('ValidationException', "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50");
      const start = body.NextToken === undefined ? 0 : Number(Buffer.from(String(body.NextToken), 'base64url').toString('utf8'));
      if (!Number.isInteger(start) || start < 0) throw new SsmFailure('InvalidNextToken', 'The specified token is not valid.');
      const page = versions.slice(start, start + max);
      const next = start + max < versions.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
      return { Parameters: page.map((p) => ({ ...wire(p), Tier: p.Tier, Labels: [], Policies: [], ...(p.Description ? { Description: p.Description } : {}) })), ...(next ? { NextToken: next } : {}) };
    },
  };

  const loopback = {
    region: SSM_REGION,
    credentials,
    calls: [] as SsmCall[],
    parameters,
    failCalls: [] as SsmLoopback['failCalls'],
    edit: (name: string, value: string) => store({ Name: name, Type: current(name)?.Type ?? 'String', Value: value, Tier: current(name)?.Tier ?? 'Standard' }),
    current,
  } as SsmLoopback;

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const target = headerValue(req.headers, 'x-amz-target');
    const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : target;
    let body: Record<string, unknown> = {};
    try {
      body = raw.length === 0 ? {} : (JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
    } catch {
      body = {};
    }
    const call: SsmCall = { operation, body, status: 0 };
    loopback.calls.push(call);
    const reply = (status: number, answer: unknown, errorType?: string) => {
      call.status = status;
      if (errorType !== undefined) call.errorType = errorType;
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
      res.end(JSON.stringify(answer));
    };
    const fail = (status: number, type: string, message: string | undefined) => reply(status, message === undefined ? { __type: type } : { __type: type, message }, type);

    const auth = verifySigV4({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body: raw }, { ...credentials, region: SSM_REGION, service: 'ssm' });
    if (!auth.ok) return fail(auth.status, auth.type, auth.message);
    if (headerValue(req.headers, 'content-type') !== 'application/x-amz-json-1.1') return fail(400, 'SerializationException', 'Expected Content-Type application/x-amz-json-1.1');
    const handle = operations[operation];
    if (!target.startsWith('AmazonSSM.') || handle === undefined) return fail(400, 'UnknownOperationException', `Unknown operation ${target}`);
    const forced = loopback.failCalls.shift();
    if (forced !== undefined) return fail(forced.status, forced.type, forced.message);
    try {
      reply(200, handle(body));
    } catch (error) {
      if (!(error instanceof SsmFailure)) throw error;
      fail(error.status, error.type, error.type === 'ParameterNotFound' ? undefined : error.message);
    }
  });
  const { origin, close } = await listenLoopback(server);
  loopback.endpoint = origin;
  loopback.close = close;
  return loopback;
};

export { startSsmLoopback, SSM_CREDENTIALS };
export type { SsmLoopback };
