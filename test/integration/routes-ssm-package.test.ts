// `osls package --param routesSsmPath=…` (SSM mode, issue 21) in a temporary copy of the repo: the route role
// reads exactly its one parameter and nothing else in SSM, no function may publish, the route function gets the
// path, the cache time and the bundled routes' hash, the stack outputs what `config status` reads, the
// ConfigRejected alarm exists (only in this mode), the unzipped route bundle initializes in SSM mode, and
// cfn-lint finds no error (skipped with one line without cfn-lint, as in serverless-package.test.ts).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Json = any;
const repoRoot = resolve(import.meta.dirname, '..', '..');
const ROUTES_FILE = 'routes.example.yml';
const SSM_PATH = '/findings-router/dev/routes';
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.serverless', 'coverage', 'test-artifacts', 'out']);
let workDir = '';
let template: { Resources: Record<string, Json>; Outputs: Record<string, Json>; Conditions: Record<string, Json> };

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'findings-router-ssm-package-'));
  cpSync(repoRoot, workDir, { recursive: true, filter: (src) => dirname(src) !== repoRoot || !SKIP_DIRS.has(basename(src)) });
  symlinkSync(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_REGION: 'us-east-1' };
  delete env.ROUTES_FILE;
  delete env.ACCOUNTS_FILE;
  const osls = spawnSync(
    process.execPath,
    [join(workDir, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'dev', '--region', 'us-east-1', '--param', `routes=${ROUTES_FILE}`, '--param', `routesSsmPath=${SSM_PATH}`],
    { cwd: workDir, env, encoding: 'utf8', timeout: 150_000 },
  );
  if (osls.status !== 0) throw new Error(`osls package failed:\n${osls.stdout}${osls.stderr}`);
  template = JSON.parse(readFileSync(join(workDir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'));
}, 180_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const statementsOf = (roleId: string): Json[] => template.Resources[roleId].Properties.Policies.flatMap((p: Json) => [p.PolicyDocument.Statement].flat());
const actionsOf = (statement: Json): string[] => [statement.Action].flat();
const sha256 = (file: string) => createHash('sha256').update(readFileSync(join(repoRoot, file))).digest('hex');

describe('serverless package with routesSsmPath (SSM mode)', () => {
  it('gives the route role exactly ssm:GetParameter on its one parameter, and no role ssm:PutParameter', () => {
    // Act
    const route = statementsOf('RouteRole');
    const ssmStatements = route.filter((s) => s['Fn::If'] !== undefined || actionsOf(s).some((a) => a.startsWith('ssm:') || a.startsWith('kms:')));
    // Assess
    expect(template.Conditions.RoutesFromSsm).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [SSM_PATH, ''] }] });
    expect(ssmStatements).toEqual([
      {
        'Fn::If': [
          'RoutesFromSsm',
          { Sid: 'RoutesFromSsm', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${SSM_PATH}` } },
          { Ref: 'AWS::NoValue' },
        ],
      },
    ]);
    const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id);
    const putters = roles.filter((id) => JSON.stringify(statementsOf(id)).includes('ssm:PutParameter'));
    expect(putters).toEqual([]);
  });

  it('tells the route function the path, the cache time and the bundled hash, and outputs what config status reads', () => {
    // Act
    const variables = template.Resources.RouteLambdaFunction.Properties.Environment.Variables;
    // Assess
    expect(variables).toMatchObject({ ROUTES_SSM_PATH: SSM_PATH, ROUTES_SSM_MAX_AGE_SECONDS: '60', ROUTES_HASH: `sha256:${sha256(ROUTES_FILE)}` });
    expect(template.Outputs.BundledRoutesHash).toEqual({ Value: `sha256:${sha256(ROUTES_FILE)}` });
    expect(template.Outputs.RoutesSsmPath).toEqual({ Condition: 'RoutesFromSsm', Value: SSM_PATH });
  });

  it('alarms on the ConfigRejected metric the route stage emits', () => {
    // Act
    const alarm = template.Resources.RouteConfigRejectedAlarm;
    // Assess
    expect(alarm).toMatchObject({ Type: 'AWS::CloudWatch::Alarm', Condition: 'RoutesFromSsm' });
    expect(alarm.Properties).toMatchObject({ Namespace: 'FindingsRouter', MetricName: 'ConfigRejected', Dimensions: [{ Name: 'service', Value: 'findings-router' }], Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('builds a route bundle that initializes in SSM mode (its SSM reader is a chunk in the artifact)', () => {
    // Prepare: the route bundle the package step built (dist/route, what route.zip holds), with SSM mode's env
    const taskRoot = workDir;
    const env = {
      PATH: process.env.PATH ?? '',
      LAMBDA_TASK_ROOT: taskRoot,
      ROUTES_FILE: 'dist/route/routes.json',
      ACCOUNTS_FILE: 'dist/route/accounts.json',
      ROUTES_SSM_PATH: SSM_PATH,
      ROUTES_SSM_MAX_AGE_SECONDS: '60',
      QUARANTINE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/q',
      DELIVERY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/d',
      DELIVERY_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq',
      STATE_TABLE: 'state',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    };
    const script = "const m = await import(process.argv[1]); if (typeof m.handler !== 'function') process.exit(3);";
    // Act
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, join(taskRoot, 'dist', 'route', 'index.mjs')], { cwd: taskRoot, env, encoding: 'utf8', timeout: 30_000 });
    // Assess
    expect(child.status, child.stderr.split('\n').map((l) => l.slice(0, 300)).slice(-10).join('\n')).toBe(0);
  });
});

const cfnLintPresent = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
const skipLint = !cfnLintPresent && process.env.FINDINGS_ROUTER_REQUIRE_SYSTEM_PACKAGES !== '1';
if (skipLint) console.warn('cfn-lint (SSM mode): skipped, needs cfn-lint (pip install cfn-lint); CI has it and never skips');

describe.skipIf(skipLint)('cfn-lint, SSM mode', () => {
  it('finds no error in the template', () => {
    // Act
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', join(workDir, '.serverless', 'cloudformation-template-update-stack.json')], { encoding: 'utf8' });
    // Assess: exit code bit 2 = errors
    expect((lint.status ?? 0) & 2 ? lint.stdout : '').toBe('');
  });
});
