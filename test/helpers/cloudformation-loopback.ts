/**
 * CloudFormation loopback for `config status`: DescribeStacks as the installed
 * `@aws-sdk/client-cloudformation` sends it (AWS Query: `POST /`, form-encoded
 * `Action=DescribeStacks&Version=2010-05-15&StackName=…`, SigV4 for service `cloudformation`)
 * and answers it (XML `<DescribeStacksResponse>` with Stacks/member/Outputs/member; an unknown
 * stack is 400 `<ErrorResponse>` Sender ValidationError "Stack with id X does not exist", as the
 * real service says it). Only node builtins are used (plus the shared SigV4 checker).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { verifySigV4 } from './firehose-loopback.ts';
import { listenLoopback, readBody } from './receiver-kit.ts';

const CFN_CREDENTIALS = { accessKeyId: 'AKIDCFNLOOPBACK', secretAccessKey: 'cfn-loopback-secret-key' } as const;
const CFN_REGION = 'us-east-1';
const CFN_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

interface CfnLoopback {
  endpoint: string;
  region: typeof CFN_REGION;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Stack outputs by stack name. */
  stacks: Map<string, Record<string, string>>;
  /** Form parameters of every request. */
  requests: Record<string, string>[];
  close(): Promise<void>;
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/** `credentials`: the caller's (default CFN_CREDENTIALS; a test driving SSM too passes the SSM loopback's). */
const startCloudFormationLoopback = async (
  stacks: Record<string, Record<string, string>> = {},
  credentials: { accessKeyId: string; secretAccessKey: string } = CFN_CREDENTIALS,
): Promise<CfnLoopback> => {
  const loopback = { region: CFN_REGION, credentials, stacks: new Map(Object.entries(stacks)), requests: [] as Record<string, string>[] } as CfnLoopback;
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const params = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    loopback.requests.push(params);
    const requestId = randomUUID();
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(xml);
    };
    const fail = (status: number, code: string, message: string) =>
      reply(status, `<ErrorResponse xmlns="${CFN_XMLNS}">\n  <Error>\n    <Type>Sender</Type>\n    <Code>${code}</Code>\n    <Message>${escapeXml(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`);
    const auth = verifySigV4({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body: raw }, { ...credentials, region: CFN_REGION, service: 'cloudformation' });
    if (!auth.ok) return fail(auth.status, auth.type === 'UnrecognizedClientException' ? 'InvalidClientTokenId' : 'SignatureDoesNotMatch', auth.message);
    if (params.Action !== 'DescribeStacks' || params.Version !== '2010-05-15') return fail(400, 'InvalidAction', `Could not find operation ${params.Action ?? ''} for version ${params.Version ?? ''}`);
    const name = params.StackName ?? '';
    const outputs = loopback.stacks.get(name);
    if (outputs === undefined) return fail(400, 'ValidationError', `Stack with id ${name} does not exist`);
    const members = Object.entries(outputs)
      .map(([key, value]) => `          <member>\n            <OutputKey>${escapeXml(key)}</OutputKey>\n            <OutputValue>${escapeXml(value)}</OutputValue>\n          </member>`)
      .join('\n');
    reply(
      200,
      `<DescribeStacksResponse xmlns="${CFN_XMLNS}">
  <DescribeStacksResult>
    <Stacks>
      <member>
        <StackName>${escapeXml(name)}</StackName>
        <StackId>arn:aws:cloudformation:${CFN_REGION}:123456789012:stack/${escapeXml(name)}/${randomUUID()}</StackId>
        <CreationTime>2026-01-01T00:00:00.000Z</CreationTime>
        <StackStatus>UPDATE_COMPLETE</StackStatus>
        <Outputs>
${members}
        </Outputs>
      </member>
    </Stacks>
  </DescribeStacksResult>
  <ResponseMetadata>
    <RequestId>${requestId}</RequestId>
  </ResponseMetadata>
</DescribeStacksResponse>
`,
    );
  });
  const { origin, close } = await listenLoopback(server);
  loopback.endpoint = origin;
  loopback.close = close;
  return loopback;
};

export { startCloudFormationLoopback };
export type { CfnLoopback };
