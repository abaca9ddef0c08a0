/**
 * STS loopback: an in-process HTTP server speaking the AWS STS wire protocol as the
 * installed `@aws-sdk/client-sts` sends AssumeRole (AWS Query: `POST /`, form-encoded
 * `Action=AssumeRole&Version=2011-06-15&RoleArn=...&RoleSessionName=...`, SigV4 for service
 * `sts` in any region; XML answers `<AssumeRoleResponse>` or
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`).
 *
 * It checks an AssumeRole the way STS does: a valid signature by the loopback's caller
 * credentials, a known role whose trust policy allows the caller's account, the external id
 * the role requires, a RoleSessionName of 2-64 `[\w+=,.@-]`, DurationSeconds 900-43200. Each
 * success issues fresh `ASIA...` credentials (expiring `expiresInMs` from now) and hands them
 * to `onIssue` (an EventBridge loopback's `trust`). Only node builtins are used.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4 } from './firehose-loopback.ts';
import { readBody } from './receiver-kit.ts';

const STS_CALLER = { accessKeyId: 'AKIDSTSCALLER', secretAccessKey: 'sts-caller-SECRET-do-not-leak' } as const;
const STS_CALLER_ACCOUNT = '111111111111';
const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

interface StsRole {
  /** The account the role lives in (the issued credentials sign as this account). */
  account: string;
  /** Required ExternalId, if the trust policy has the condition. */
  externalId?: string;
  /** Accounts the trust policy allows; default the caller's. */
  trusts?: readonly string[];
}

interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  roleArn: string;
  sessionName: string;
}

interface StsRequest {
  region: string;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
  status: number;
  errorCode?: string;
}

interface StsLoopback {
  endpoint: string;
  caller: typeof STS_CALLER;
  requests: StsRequest[];
  issued: IssuedCredentials[];
  /** Roles by ARN. */
  roles: Map<string, StsRole>;
  /** How long issued credentials live; default one hour. */
  expiresInMs: number;
  /** Errors answered to the next calls (FIFO), e.g. { status: 400, code: 'Throttling', type: 'Sender' }. */
  failCalls: { status: number; code: string; type: 'Sender' | 'Receiver'; message: string }[];
  close(): Promise<void>;
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

const headerValue = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
};

const startStsLoopback = async (options: { roles?: Record<string, StsRole>; onIssue?: (credentials: IssuedCredentials, account: string) => void } = {}): Promise<StsLoopback> => {
  const loopback = {
    caller: STS_CALLER,
    requests: [] as StsRequest[],
    issued: [] as IssuedCredentials[],
    roles: new Map(Object.entries(options.roles ?? {})),
    expiresInMs: 3_600_000,
    failCalls: [] as StsLoopback['failCalls'],
  } as StsLoopback;

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const params = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\/sts\//.exec(headerValue(req.headers, 'authorization'))?.[1] ?? '';
    const request: StsRequest = { region, headers: req.headers, params, status: 0 };
    loopback.requests.push(request);
    const requestId = randomUUID();
    const reply = (status: number, xml: string) => {
      request.status = status;
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(xml);
    };
    const fail = (status: number, type: 'Sender' | 'Receiver', code: string, message: string) => {
      request.errorCode = code;
      reply(
        status,
        `<ErrorResponse xmlns="${STS_XMLNS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${code}</Code>\n    <Message>${escapeXml(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
      );
    };

    const auth = verifySigV4({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body: raw }, { ...STS_CALLER, region, service: 'sts' });
    if (!auth.ok) return fail(auth.status, 'Sender', auth.type === 'UnrecognizedClientException' ? 'InvalidClientTokenId' : 'SignatureDoesNotMatch', auth.message);
    if (params.Action !== 'AssumeRole' || params.Version !== '2011-06-15') {
      return fail(400, 'Sender', 'InvalidAction', `Could not find operation ${params.Action ?? ''} for version ${params.Version ?? ''}`);
    }
    const forced = loopback.failCalls.shift();
    if (forced !== undefined) return fail(forced.status, forced.type, forced.code, forced.message);
    const roleArn = params.RoleArn ?? '';
    const sessionName = params.RoleSessionName ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      return fail(400, 'Sender', 'ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    }
    const duration = Number(params.DurationSeconds ?? '3600');
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
      return fail(400, 'Sender', 'ValidationError', "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200");
    }
    const role = loopback.roles.get(roleArn);
    const denied = `User: arn:aws:iam::${STS_CALLER_ACCOUNT}:user/router is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`;
    if (role === undefined || !(role.trusts ?? [STS_CALLER_ACCOUNT]).includes(STS_CALLER_ACCOUNT)) return fail(403, 'Sender', 'AccessDenied', denied);
    if (role.externalId !== undefined && params.ExternalId !== role.externalId) return fail(403, 'Sender', 'AccessDenied', denied);
    const issued: IssuedCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: `sts-issued-SECRET-${randomBytes(12).toString('base64url')}`,
      sessionToken: `sts-issued-TOKEN-${randomBytes(24).toString('base64url')}`,
      expiration: new Date(Math.floor((Date.now() + loopback.expiresInMs) / 1000) * 1000),
      roleArn,
      sessionName,
    };
    loopback.issued.push(issued);
    options.onIssue?.(issued, role.account);
    const roleName = roleArn.split('/').pop() ?? 'role';
    reply(
      200,
      `<AssumeRoleResponse xmlns="${STS_XMLNS}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::${role.account}:assumed-role/${escapeXml(roleName)}/${escapeXml(sessionName)}</Arn>
      <AssumedRoleId>AROA${randomBytes(8).toString('hex').toUpperCase()}:${escapeXml(sessionName)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${issued.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${escapeXml(issued.secretAccessKey)}</SecretAccessKey>
      <SessionToken>${escapeXml(issued.sessionToken)}</SessionToken>
      <Expiration>${issued.expiration.toISOString().replace('.000Z', 'Z')}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${requestId}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`,
    );
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

export { startStsLoopback, STS_CALLER };
export type { StsLoopback };
