import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCloudFormationLoopback, type CfnLoopback } from '../helpers/cloudformation-loopback.ts';
import { startSsmLoopback, SSM_CREDENTIALS, type SsmLoopback } from '../helpers/ssm-loopback.ts';

/**
 * `config publish`, `rollback` and `status` as an operator runs them: the real bin under the
 * pinned node, the real SSM and CloudFormation clients against loopbacks speaking their wire
 * protocols (SSM JSON 1.1, CloudFormation query/XML).
 */
const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const PATH = '/findings-router/prod/routes';
let ssm: SsmLoopback;
let cfn: CfnLoopback;
let cwd: string;

beforeAll(async () => {
  ssm = await startSsmLoopback();
  cfn = await startCloudFormationLoopback({}, SSM_CREDENTIALS);
});
afterAll(async () => {
  await ssm?.close();
  await cfn?.close();
});
beforeEach(() => {
  ssm.parameters.clear();
  ssm.calls.length = 0;
  cfn.stacks.clear();
  cwd = mkdtempSync(join(tmpdir(), 'config-ssm-cli-'));
});

const run = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: cwd,
        AWS_CONFIG_FILE: join(cwd, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'none'),
        AWS_ENDPOINT_URL_SSM: ssm.endpoint,
        AWS_ENDPOINT_URL_CLOUDFORMATION: cfn.endpoint,
        AWS_ACCESS_KEY_ID: SSM_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: SSM_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
        AWS_MAX_ATTEMPTS: '1',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

const routes = (target: string, padding = 0) =>
  `targets:\n  ${target}: { type: console }\ndefault: { targets: [${target}] }\n${'# padding to grow the document ......................................\n'.repeat(padding)}`;
const write = (name: string, text: string) => {
  writeFileSync(join(cwd, name), text);
  return name;
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const stored = () => JSON.parse(ssm.current(PATH)!.Value);
const operations = () => ssm.calls.map((c) => c.operation);

describe('Command: config publish', () => {
  it('stores the checked file as a String parameter with its sha256, and names the previous version', async () => {
    // Prepare
    const first = write('routes.yml', routes('chat'));
    // Act
    const published = await run(['config', 'publish', '--routes', first, '--ssm', PATH]);
    // Assess
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toContain(`is version 1 of ${PATH}`);
    expect(ssm.current(PATH)).toMatchObject({ Type: 'String', Tier: 'Standard', Version: 1 });
    expect(stored()).toMatchObject({ format: 'findings-router-routes/1', sha256: sha256(routes('chat')), source: 'routes.yml', yaml: routes('chat') });

    // Act: a second file, then the same one again
    write('routes.yml', routes('soc'));
    const second = await run(['config', 'publish', '--routes', 'routes.yml', '--ssm', PATH]);
    const again = await run(['config', 'publish', '--routes', 'routes.yml', '--ssm', PATH]);
    // Assess
    expect(second.stdout).toContain(`previous: version 1 (sha256:${sha256(routes('chat'))})`);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to publish');
    expect(ssm.current(PATH)!.Version).toBe(2);
  });

  it('refuses an invalid file with the same file:line:column lines as config check, and publishes nothing', async () => {
    // Prepare
    const file = write('bad.yml', 'targets:\n  chat: { type: console }\ndefault: { targets: [nope] }\n');
    // Act
    const check = await run(['config', 'check', '--routes', file]);
    const publish = await run(['config', 'publish', '--routes', file, '--ssm', PATH]);
    // Assess
    expect(publish.code).toBe(1);
    const problems = (text: string) => text.split('\n').filter((line) => line.startsWith('bad.yml:'));
    expect(problems(check.stderr).length).toBeGreaterThan(0);
    expect(problems(publish.stderr)).toEqual(problems(check.stderr));
    expect(publish.stderr).toContain(`nothing published to ${PATH}`);
    expect(publish.stderr).not.toContain('    at ');
    expect(operations()).not.toContain('PutParameter');
  });

  it('uses the advanced tier over 4 KB and refuses a document over 8 KB without calling SSM', async () => {
    // Prepare
    write('large.yml', routes('chat', 60));
    write('huge.yml', routes('chat', 120));
    // Act
    const large = await run(['config', 'publish', '--routes', 'large.yml', '--ssm', PATH]);
    const huge = await run(['config', 'publish', '--routes', 'huge.yml', '--ssm', PATH]);
    // Assess
    expect(large.code, large.stderr).toBe(0);
    expect(ssm.current(PATH)).toMatchObject({ Tier: 'Advanced', Version: 1 });
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/huge\.yml is \d+ bytes as a routes document; an SSM parameter holds at most 8192 \(advanced tier\)/);
    expect(ssm.calls.filter((c) => c.operation === 'PutParameter')).toHaveLength(1);
  });
});

describe('Command: config rollback', () => {
  it('puts the previous version back as the newest, and refuses to restore one that fails the checks', async () => {
    // Prepare
    write('a.yml', routes('chat'));
    write('b.yml', routes('soc'));
    await run(['config', 'publish', '--routes', 'a.yml', '--ssm', PATH]);
    await run(['config', 'publish', '--routes', 'b.yml', '--ssm', PATH]);
    // Act
    const rollback = await run(['config', 'rollback', '--ssm', PATH]);
    // Assess
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(ssm.current(PATH)!.Version).toBe(3);
    expect(ssm.current(PATH)!.Value).toBe(ssm.parameters.get(PATH)![0]!.Value);
    expect(rollback.stdout).toContain(`${PATH} version 3 is version 1's routes`);
    expect(stored().sha256).toBe(sha256(routes('chat')));

    // Prepare: someone edits the parameter by hand, then publishes over it
    ssm.edit(PATH, stored().yaml);
    write('c.yml', routes('pager'));
    await run(['config', 'publish', '--routes', 'c.yml', '--ssm', PATH]);
    // Act
    const refused = await run(['config', 'rollback', '--ssm', PATH]);
    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`ssm:${PATH}@4:1:1: not a routes document written by config publish`);
    expect(refused.stderr).toContain('version 4 fails config check; not restored');
    expect(ssm.current(PATH)!.Version).toBe(5);
  });

  it('reads every page of the history (more than 50 versions) to find the previous one', async () => {
    // Prepare
    for (let i = 0; i < 55; i++) ssm.edit(PATH, `filler ${i}`);
    write('a.yml', routes('chat'));
    write('b.yml', routes('soc'));
    await run(['config', 'publish', '--routes', 'a.yml', '--ssm', PATH]);
    await run(['config', 'publish', '--routes', 'b.yml', '--ssm', PATH]);
    // Act
    const rollback = await run(['config', 'rollback', '--ssm', PATH]);
    // Assess
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(ssm.calls.filter((c) => c.operation === 'GetParameterHistory')).toHaveLength(2);
    expect(stored().sha256).toBe(sha256(routes('chat')));
  });

  it('says in one line that nothing was published at the path', async () => {
    // Act
    const result = await run(['config', 'rollback', '--ssm', PATH]);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`findings-router config rollback: ${PATH}: no such parameter (nothing was published there)`);
  });
});

describe('Command: config status', () => {
  it('shows the bundled and published hashes from the stack outputs and SSM, and which one the working tree matches', async () => {
    // Prepare
    write('routes.prod.yml', routes('soc'));
    cfn.stacks.set('findings-router-prod', { BundledRoutesHash: `sha256:${sha256(routes('chat'))}`, RoutesSsmPath: PATH, FindingsBusName: 'bus' });
    await run(['config', 'publish', '--routes', 'routes.prod.yml', '--ssm', PATH]);
    // Act
    const status = await run(['config', 'status', '--stage', 'prod', '--routes', 'routes.prod.yml']);
    // Assess
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`bundled    sha256:${sha256(routes('chat'))}`);
    expect(status.stdout).toContain(`published  sha256:${sha256(routes('soc'))} (routes.prod.yml`);
    expect(status.stdout).toContain('running    published');
    expect(status.stdout).toContain(`working    routes.prod.yml sha256:${sha256(routes('soc'))}: matches published`);
    expect(cfn.requests[0]).toMatchObject({ Action: 'DescribeStacks', StackName: 'findings-router-prod' });
  });

  it('shows a hand-edited published document as refused, with its problem', async () => {
    // Prepare
    write('routes.yml', routes('chat'));
    cfn.stacks.set('findings-router-prod', { BundledRoutesHash: sha256(routes('chat')), RoutesSsmPath: PATH });
    await run(['config', 'publish', '--routes', 'routes.yml', '--ssm', PATH]);
    ssm.edit(PATH, JSON.stringify({ ...stored(), yaml: routes('edited') }));
    // Act
    const status = await run(['config', 'status', '--stage', 'prod', '--routes', 'routes.yml']);
    // Assess
    expect(status.stdout).toContain('REFUSED by the route stage');
    expect(status.stdout).toContain('edited outside config publish?');
    expect(status.stdout).toContain('running    bundled');
    expect(status.stdout).toContain('matches bundled');
  });

  it('names a stack that does not exist in one line', async () => {
    // Act
    const status = await run(['config', 'status', '--stage', 'qa']);
    // Assess
    expect(status.code).toBe(2);
    expect(status.stderr.trim()).toBe('findings-router config status: stack findings-router-qa does not exist in this account and region (--stack NAME, --region REGION)');
  });
});
