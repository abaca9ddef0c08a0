// Packages the service offline in one step (`osls package --param routes=...`: deploy/build-plugin.mjs builds
// and bundles) in a temporary copy of the repo and asserts the infrastructure invariants on the synthesized
// CloudFormation template (reliability checklist D-1, D-7, S-1, S-4, S-5, M-1, M-2), the deliver role's
// permissions generated from the routes file, and cfn-lint on it and on the regional forwarder.
// Runs in a temp copy so it never touches the checkout's dist/ or .serverless/.
import { createHash } from 'node:crypto';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Template JSON is loosely typed on purpose: the assertions are the schema.
type Json = any;
type Resource = { Type: string; Properties: Json; DependsOn?: unknown; Condition?: string };

const repoRoot = resolve(import.meta.dirname, '..', '..');
const FUNCTIONS = ['enrich', 'route', 'deliver'] as const;
/** The bundled config each function loads, by its environment variable: only those are set. */
const CONFIG_ENV: Record<(typeof FUNCTIONS)[number], string[]> = { enrich: ['ACCOUNTS_FILE'], route: ['ROUTES_FILE'], deliver: ['ROUTES_FILE'] };
/** Every target type that calls an AWS API (sns, firehose, elasticsearch with SigV4, eventbridge). */
const ROUTES_FILE = 'test/events/deploy/aws-targets.routes.yml';
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.serverless', 'coverage', 'test-artifacts', 'out']);
// Actions that AWS does not support resource-level permissions for (Resource "*" is required).
// GuardDuty's member reads support none either (service authorization reference; cfn-lint's policy data agrees).
const STAR_RESOURCE_ALLOWED = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'guardduty:GetMembers', 'guardduty:ListMembers']);

let workDir = '';
let packaged: SpawnSyncReturns<string>;
let refused: SpawnSyncReturns<string>;
let template: { Resources: Record<string, Resource>; Conditions?: Json };
const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const byType = (type: string): [string, Resource][] =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const resource = (logicalId: string): Resource => {
  const r = template.Resources[logicalId];
  if (!r) throw new Error(`resource ${logicalId} not in template`);
  return r;
};
const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const roleStatements = (roleId: string): Json[] =>
  (resource(roleId).Properties.Policies as Json[]).flatMap((p) => asArray(p.PolicyDocument.Statement));
const functionRoleId = (fn: string): string => resource(`${cap(fn)}LambdaFunction`).Properties.Role['Fn::GetAtt'][0];
const ruleFor = (source: string): Resource => {
  const rules = byType('AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern?.source?.includes(source));
  expect(rules).toHaveLength(1);
  return rules[0]![1];
};
const allowedActions = (statements: Json[], resourceMatch: unknown): string[] =>
  statements
    .filter((s) => s.Effect === 'Allow' && asArray(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify(resourceMatch)))
    .flatMap((s) => asArray<string>(s.Action));

/** Minimal ZIP extractor (stored/deflated entries), enough for the osls artifacts; returns the entry names. */
const unzip = (zipFile: string, dest: string): string[] => {
  const buf = readFileSync(zipFile);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let p = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < buf.readUInt16LE(eocd + 10); i++) {
    const [method, size, nameLen] = [buf.readUInt16LE(p + 10), buf.readUInt32LE(p + 20), buf.readUInt16LE(p + 28)];
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const local = buf.readUInt32LE(p + 42);
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    if (name.endsWith('/')) continue;
    if (name.startsWith('/') || name.split('/').includes('..')) throw new Error(`unsafe zip entry ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    mkdirSync(dirname(join(dest, name)), { recursive: true });
    writeFileSync(join(dest, name), method === 0 ? data : inflateRawSync(data));
    names.push(name);
  }
  return names.sort();
};

beforeAll(() => {
  // Prepare: copy the repo (sources + config, not build output) and reuse its node_modules.
  workDir = mkdtempSync(join(tmpdir(), 'findings-router-package-'));
  cpSync(repoRoot, workDir, { recursive: true, filter: (src) => dirname(src) !== repoRoot || !SKIP_DIRS.has(basename(src)) });
  symlinkSync(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_REGION: 'us-east-1' };
  delete env.ROUTES_FILE; // the stage's --param is the only way in
  delete env.ACCOUNTS_FILE;
  // Act: `osls package` alone, under the pinned node (process.execPath); first without the routes param.
  const osls = (args: string[]) =>
    spawnSync(process.execPath, [join(workDir, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'dev', '--region', 'us-east-1', ...args], {
      cwd: workDir,
      env,
      encoding: 'utf8',
      timeout: 150_000,
    });
  refused = osls([]);
  packaged = osls(['--param', `routes=${ROUTES_FILE}`, '--param', 'accounts=accounts.example.yml']);
  if (packaged.status !== 0) throw new Error(`osls package failed:\n${packaged.stdout}${packaged.stderr}`);
  template = JSON.parse(readFileSync(join(workDir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'));
}, 180_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const sha256Of = (file: string): string => createHash('sha256').update(readFileSync(join(repoRoot, file))).digest('hex');

describe('serverless package (offline, osls): one step', () => {
  it('refuses to package without a routes file for the stage, in one line and before building anything', () => {
    // Assess
    const output = `${refused.stdout}${refused.stderr}`;
    expect(refused.status).not.toBe(0);
    expect(output).toContain('findings-router build: no routes file: pass --param routes=<routes.yml> or set params.<stage>.routes in serverless.yml');
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toContain('routes.example.yml sha256:');
  });

  it('builds the bundles itself and prints which routes and accounts files it bundled, with their sha256', () => {
    // Assess
    const output = `${packaged.stdout}${packaged.stderr}`;
    expect(output).toContain(`routes   ${ROUTES_FILE} sha256:${sha256Of(ROUTES_FILE)}`);
    expect(output).toContain(`accounts accounts.example.yml sha256:${sha256Of('accounts.example.yml')}`);
    for (const fn of [...FUNCTIONS, 'watch-members']) {
      expect(existsSync(join(workDir, 'dist', fn, 'index.mjs')), fn).toBe(true);
      expect(readFileSync(join(workDir, 'dist', fn, 'routes.json'), 'utf8')).toContain('guardduty-archive-eu');
    }
  });
});

describe('serverless package (offline, osls)', () => {
  it('produces one self-contained artifact per function: bundle (entry and lazily loaded chunks), source maps and config only', () => {
    for (const fn of FUNCTIONS) {
      // Act
      const names = unzip(join(workDir, '.serverless', `${fn}.zip`), join(workDir, 'unzipped', fn));
      // Assess
      const chunks = names.filter((name) => /^dist\/[a-z-]+\/chunk-[A-Z0-9]+\.mjs(\.map)?$/.test(name));
      expect(names.filter((name) => !chunks.includes(name))).toEqual([`dist/${fn}/accounts.json`, `dist/${fn}/index.mjs`, `dist/${fn}/index.mjs.map`, `dist/${fn}/routes.json`]);
      for (const chunk of chunks.filter((name) => name.endsWith('.mjs'))) expect(names).toContain(`${chunk}.map`);
      const props = resource(`${cap(fn)}LambdaFunction`).Properties;
      expect(props.Handler).toBe(`dist/${fn}/index.handler`);
      expect(props.Code.S3Key).toMatch(new RegExp(`/${fn}\\.zip$`));
      // The config env vars point (relative to LAMBDA_TASK_ROOT) at files inside the artifact.
      for (const name of CONFIG_ENV[fn]) expect(names).toContain(props.Environment.Variables[name]);
    }
  });

  it('initializes every unzipped bundle like Lambda would (no node_modules, config found, handler exported)', () => {
    for (const fn of FUNCTIONS) {
      // Prepare: the function's env with CloudFormation references replaced by plausible values.
      const taskRoot = join(workDir, 'unzipped', fn);
      const fnEnv: Record<string, string> = {};
      for (const [name, value] of Object.entries(resource(`${cap(fn)}LambdaFunction`).Properties.Environment.Variables)) {
        fnEnv[name] = typeof value === 'string' ? value : name.endsWith('_URL') ? `https://sqs.us-east-1.amazonaws.com/000000000000/${name.toLowerCase()}` : `findings-router-test-${name.toLowerCase()}`;
      }
      const env = {
        PATH: process.env.PATH ?? '',
        ...fnEnv,
        LAMBDA_TASK_ROOT: taskRoot,
        AWS_LAMBDA_FUNCTION_NAME: `findings-router-dev-${fn}`,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9', // init must not need the network; fail fast if it tries
      };
      const script = "const m = await import(process.argv[1]); if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(3); }";
      // Act
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, join(taskRoot, 'dist', fn, 'index.mjs')], {
        cwd: taskRoot,
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
      // Assess (minified lines are long: show only the tail of stderr)
      const stderrTail = child.stderr.split('\n').map((l) => l.slice(0, 300)).slice(-15).join('\n');
      expect(child.status, `${fn} init failed:\n${stderrTail}`).toBe(0);
    }
  });

  it('configures every function: runtime, arch, memory, timeout, tracing, env, own role, log retention', () => {
    // Prepare
    const roles = new Set<string>();
    for (const fn of FUNCTIONS) {
      // Act
      const props = resource(`${cap(fn)}LambdaFunction`).Properties;
      // Assess
      expect(props.Runtime).toBe('nodejs24.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.MemorySize).toBe(256);
      expect(props.Timeout).toBe(fn === 'deliver' ? 30 : 10);
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      expect(Object.keys(props.Environment.Variables).filter((name) => /^(ROUTES|ACCOUNTS)_FILE$/.test(name))).toEqual(CONFIG_ENV[fn]);
      expect(props.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'findings-router',
        POWERTOOLS_METRICS_NAMESPACE: 'FindingsRouter',
        NODE_OPTIONS: '--enable-source-maps',
      });
      expect(resource(functionRoleId(fn)).Type).toBe('AWS::IAM::Role');
      roles.add(functionRoleId(fn));
      expect(resource(`${cap(fn)}LogGroup`).Properties.RetentionInDays).toBe(30);
    }
    expect(roles.size).toBe(FUNCTIONS.length);
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    const env = (fn: string) => resource(`${cap(fn)}LambdaFunction`).Properties.Environment.Variables;
    expect(env('enrich')).toMatchObject({ EVENT_BUS_NAME: { Ref: 'FindingsBus' }, QUARANTINE_QUEUE_URL: { Ref: 'QuarantineQueue' } });
    expect(env('route')).toMatchObject({ DELIVERY_QUEUE_URL: { Ref: 'DeliveryQueue' }, QUARANTINE_QUEUE_URL: { Ref: 'QuarantineQueue' } });
    expect(env('deliver')).toMatchObject({
      IDEMPOTENCY_TABLE: { Ref: 'IdempotencyTable' },
      STATE_TABLE: { Ref: 'FindingStateTable' },
      DELIVERY_QUEUE_URL: { Ref: 'DeliveryQueue' },
      DELIVERY_DLQ_URL: { Ref: 'DeliveryDLQ' },
    });
  });

  it('wires both EventBridge rules with pattern, retry policy and a DLQ (D-1)', () => {
    // Prepare
    const cases = [
      { source: 'aws.guardduty', detailType: 'GuardDuty Finding', fn: 'enrich', dlq: 'IngestDLQ', bus: undefined },
      { source: 'findings-router', detailType: 'GuardDuty Finding Enriched', fn: 'route', dlq: 'RouteDLQ', bus: { Ref: 'FindingsBus' } },
    ];
    for (const c of cases) {
      // Act
      const rule = ruleFor(c.source).Properties;
      // Assess
      expect(rule.EventBusName).toEqual(c.bus);
      expect(rule.EventPattern).toEqual({ source: [c.source], 'detail-type': [c.detailType] });
      expect(rule.Targets).toHaveLength(1);
      expect(rule.Targets[0].Arn).toEqual(getAttArn(`${cap(c.fn)}LambdaFunction`));
      expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 });
      expect(rule.Targets[0].DeadLetterConfig).toEqual({ Arn: getAttArn(c.dlq) });
    }
    expect(resource('FindingsBus').Type).toBe('AWS::Events::EventBus');
  });

  it('gives the membership watcher\'s schedule rule a retry policy and a DLQ like the others, and its async failures a destination', () => {
    // Act
    const schedules = byType('AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression !== undefined);
    // Assess
    expect(schedules).toHaveLength(1);
    const rule = schedules[0]![1].Properties;
    expect(rule.ScheduleExpression).toBe('rate(15 minutes)');
    expect(rule.Targets[0].Arn).toEqual(getAttArn('WatchMembersLambdaFunction'));
    expect(rule.Targets[0].DeadLetterConfig).toEqual({ Arn: getAttArn('WatchMembersDLQ') });
    expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 });
    const conf = resource('WatchMembersLambdaEvConf').Properties;
    expect(conf.MaximumRetryAttempts).toBe(0);
    expect(conf.DestinationConfig.OnFailure.Destination).toEqual(getAttArn('WatchMembersDLQ'));
    expect(allowedActions(roleStatements(functionRoleId('watchMembers')), getAttArn('WatchMembersDLQ'))).toEqual(['sqs:SendMessage']);
  });

  it('lets only the owning rule write to each EventBridge DLQ (queue policy with aws:SourceArn)', () => {
    // Prepare
    const cases = [
      { dlq: 'IngestDLQ', ruleName: ruleFor('aws.guardduty').Properties.Name, busPart: '' },
      { dlq: 'RouteDLQ', ruleName: ruleFor('findings-router').Properties.Name, busPart: '${FindingsBus}/' },
      { dlq: 'WatchMembersDLQ', ruleName: 'findings-router-dev-watch-members', busPart: '' },
    ];
    for (const c of cases) {
      // Act
      const policies = byType('AWS::SQS::QueuePolicy').filter(([, p]) =>
        p.Properties.Queues.some((q: Json) => q.Ref === c.dlq),
      );
      // Assess
      expect(policies).toHaveLength(1);
      const statements = asArray<Json>(policies[0]![1].Properties.PolicyDocument.Statement);
      const allow = statements.filter((s) => s.Effect === 'Allow');
      expect(allow).toHaveLength(1);
      expect(allow[0].Principal).toEqual({ Service: 'events.amazonaws.com' });
      expect(asArray(allow[0].Action)).toEqual(['sqs:SendMessage']);
      expect(allow[0].Resource).toEqual(getAttArn(c.dlq));
      expect(allow[0].Condition.ArnEquals['aws:SourceArn']).toEqual({
        'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${c.busPart}${c.ruleName}`,
      });
    }
  });

  it('restricts the Lambda invoke permissions to the rule ARNs (S-4)', () => {
    // Act
    const permissions = byType('AWS::Lambda::Permission');
    // Assess
    expect(permissions.length).toBeGreaterThanOrEqual(2);
    for (const [, p] of permissions) {
      // The actions Function URL (issue 19) is public by design (the Slack signature is its authentication):
      // its two permissions are for calls through the URL only.
      if (JSON.stringify(p.Properties.FunctionName) === JSON.stringify(getAttArn('ActionsLambdaFunction'))) {
        expect(p.Properties.FunctionUrlAuthType === 'NONE' || p.Properties.InvokedViaFunctionUrl === true).toBe(true);
        continue;
      }
      expect(p.Properties.Principal).toBe('events.amazonaws.com');
      expect(p.Properties.SourceArn).toBeDefined();
    }
  });

  it('sets async retry limits and an on-failure destination for the EventBridge-invoked functions (D-2)', () => {
    for (const [fn, dlq] of [['enrich', 'IngestDLQ'], ['route', 'RouteDLQ']] as const) {
      // Act
      const conf = resource(`${cap(fn)}LambdaEvConf`).Properties;
      // Assess
      expect(conf.MaximumRetryAttempts).toBe(2);
      expect(conf.DestinationConfig.OnFailure.Destination).toEqual(getAttArn(dlq));
      expect(allowedActions(roleStatements(functionRoleId(fn)), getAttArn(dlq))).toContain('sqs:SendMessage');
    }
  });

  it('consumes DeliveryQueue with partial batch responses and a redrive policy (D-7)', () => {
    // Act
    const mappings = byType('AWS::Lambda::EventSourceMapping');
    const queue = resource('DeliveryQueue').Properties;
    // Assess
    expect(mappings).toHaveLength(3); // delivery, digest, and the actions queue (issue 19)
    const esm = mappings.find(([, m]) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify(getAttArn('DeliveryQueue')))![1].Properties;
    expect(esm.EventSourceArn).toEqual(getAttArn('DeliveryQueue'));
    expect(esm.FunctionName).toEqual(getAttArn('DeliverLambdaFunction'));
    expect(esm.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(esm.BatchSize).toBe(10);
    expect(esm.MaximumBatchingWindowInSeconds).toBe(1);
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: getAttArn('DeliveryDLQ'), maxReceiveCount: 5 });
    // Flood control: the digest queue's batching window gathers a group into one batch.
    const digest = mappings.find(([, m]) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify(getAttArn('DigestQueue')))![1].Properties;
    expect(digest.FunctionName).toEqual(getAttArn('DeliverLambdaFunction'));
    expect(digest.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(digest.MaximumBatchingWindowInSeconds).toBe(300);
    expect(resource('DigestQueue').Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: getAttArn('DeliveryDLQ'), maxReceiveCount: 5 });
    // deliver dead-letters (with a reason) no later than SQS would redrive (without one).
    expect(Number(resource('DeliverLambdaFunction').Properties.Environment.Variables.MAX_RECEIVES)).toBe(5);
    // AWS: at least six times the function timeout plus the batching window, for each queue.
    const timeout = resource('DeliverLambdaFunction').Properties.Timeout;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout + esm.MaximumBatchingWindowInSeconds);
    expect(resource('DigestQueue').Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout + digest.MaximumBatchingWindowInSeconds);
  });

  it('encrypts every queue and keeps dead letters for 14 days', () => {
    // Act
    const queues = Object.fromEntries(byType('AWS::SQS::Queue'));
    // Assess
    expect(Object.keys(queues).sort()).toEqual(['ActionsDLQ', 'ActionsQueue', 'DeliveryDLQ', 'DeliveryQueue', 'DigestQueue', 'IngestDLQ', 'QuarantineQueue', 'RouteDLQ', 'WatchMembersDLQ']);
    for (const q of Object.values(queues)) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    for (const id of ['ActionsDLQ', 'DeliveryDLQ', 'IngestDLQ', 'RouteDLQ', 'QuarantineQueue', 'WatchMembersDLQ']) {
      expect(queues[id]!.Properties.MessageRetentionPeriod).toBe(1_209_600);
      // A stack removal or a replacement never deletes dead letters.
      expect(template.Resources[id], id).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('defines the DynamoDB tables (on-demand, PITR, TTL on the idempotency table)', () => {
    // Act
    const idem = resource('IdempotencyTable').Properties;
    const state = resource('FindingStateTable').Properties;
    // Assess
    expect(idem.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(idem.TimeToLiveSpecification).toEqual({ AttributeName: 'expiration', Enabled: true });
    expect(state.KeySchema).toEqual([{ AttributeName: 'findingKey', KeyType: 'HASH' }]);
    expect(state.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    for (const t of [idem, state]) {
      expect(t.BillingMode).toBe('PAY_PER_REQUEST');
      expect(t.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    for (const id of ['IdempotencyTable', 'FindingStateTable']) {
      expect(template.Resources[id], id).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    // Runtime suppressions: TTL a week after expiry, like the others on demand with PITR and kept on stack removal.
    const suppressions = resource('SuppressionsTable');
    expect(suppressions).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(suppressions.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAtEpoch', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(resource('RouteLambdaFunction').Properties.Environment.Variables.SUPPRESSIONS_TABLE).toEqual({ Ref: 'SuppressionsTable' });
  });

  it('grants least privilege: no wildcard actions, Resource "*" only where AWS requires it (S-5)', () => {
    // Prepare
    const statements = [
      ...byType('AWS::IAM::Role').flatMap(([id]) => roleStatements(id)),
      ...byType('AWS::IAM::Policy').flatMap(([, p]) => asArray<Json>(p.Properties.PolicyDocument.Statement)),
      ...byType('AWS::IAM::ManagedPolicy').flatMap(([, p]) => asArray<Json>(p.Properties.PolicyDocument.Statement)),
    ];
    // Act
    const starResources = statements.filter((s) => asArray(s.Resource).includes('*'));
    const wildcardActions = statements.flatMap((s) => asArray<string>(s.Action)).filter((a) => a.includes('*'));
    // Assess
    expect(statements.length).toBeGreaterThan(0);
    expect(wildcardActions).toEqual([]);
    for (const s of starResources) {
      for (const a of asArray<string>(s.Action)) expect(STAR_RESOURCE_ALLOWED.has(a), `${a} on Resource "*"`).toBe(true);
    }
    expect(statements.some((s) => s.NotAction || s.NotResource)).toBe(false);
  });

  it('scopes each role to the resources its function uses', () => {
    // Prepare
    const enrich = roleStatements(functionRoleId('enrich'));
    const route = roleStatements(functionRoleId('route'));
    const deliver = roleStatements(functionRoleId('deliver'));
    const ddbActions = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
    // Act
    const ddb = deliver.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('dynamodb:')));
    const kms = deliver.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('kms:')));
    const subResources = (prefix: string) =>
      deliver.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith(prefix))).flatMap((s) => asArray<Json>(s.Resource));
    // Assess
    expect(allowedActions(enrich, getAttArn('FindingsBus'))).toEqual(['events:PutEvents']);
    expect(allowedActions(enrich, getAttArn('QuarantineQueue'))).toEqual(['sqs:SendMessage']);
    expect(allowedActions(route, getAttArn('DeliveryQueue'))).toEqual(['sqs:SendMessage']);
    expect(allowedActions(route, getAttArn('QuarantineQueue'))).toEqual(['sqs:SendMessage']);
    expect(allowedActions(deliver, getAttArn('DeliveryQueue')).sort()).toEqual(
      ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
    );
    expect(allowedActions(deliver, getAttArn('DeliveryDLQ'))).toEqual(['sqs:SendMessage']);
    expect(ddb).toHaveLength(1);
    expect(asArray<string>(ddb[0].Action).sort()).toEqual(ddbActions);
    expect(asArray(ddb[0].Resource)).toEqual([getAttArn('IdempotencyTable'), getAttArn('FindingStateTable')]);
    expect(subResources('ssm:')).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/findings-router/*' },
    ]);
    expect(subResources('secretsmanager:')).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:findings-router/*' },
    ]);
    expect(kms).toHaveLength(1);
    expect(asArray(kms[0].Action)).toEqual(['kms:Decrypt']);
    expect(kms[0].Condition.StringEquals['kms:ViaService']).toEqual([
      { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
      { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' },
    ]);
    // enrich touches no data store or secret; route only moves the finding-state mark forward.
    for (const s of enrich) {
      for (const a of asArray<string>(s.Action)) expect(a).not.toMatch(/^(dynamodb|ssm|secretsmanager|kms):/);
    }
    for (const s of route) {
      for (const a of asArray<string>(s.Action)) expect(a).not.toMatch(/^(ssm|secretsmanager|kms):|^dynamodb:(?!(UpdateItem|GetItem|Scan)$)/);
    }
    const routeDynamo = route.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(routeDynamo.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': ['FindingStateTable', 'Arn'] }, { 'Fn::GetAtt': ['SuppressionsTable', 'Arn'] }]);
    // Runtime suppressions: the route stage only lists them (the actions function writes them).
    expect(allowedActions(route, getAttArn('SuppressionsTable'))).toEqual(['dynamodb:Scan']);
  });

  it('puts no secret values into environment variables (S-1)', () => {
    // Prepare
    const secretLike = [
      /hooks\.slack\.com/i,
      /\bxox[abposr]-/,
      /AKIA[0-9A-Z]{16}/,
      /:\/\/[^/\s:@]+:[^/\s@]+@/, // credentials in a URL
      /^[A-Za-z0-9+/=_-]{32,}$/, // long opaque token
      /-----BEGIN/,
      /\$\{(ssm|aws|secretsmanager):/i,
    ];
    for (const fn of FUNCTIONS) {
      // Act
      const vars = resource(`${cap(fn)}LambdaFunction`).Properties.Environment.Variables as Record<string, unknown>;
      // Assess
      for (const [name, value] of Object.entries(vars)) {
        if (typeof value !== 'string') {
          // Intrinsics only resolve to resource names/URLs (Ref / Fn::GetAtt), never to secret values.
          expect(Object.keys(value as object), `${fn}.${name}`).toHaveLength(1);
          expect(['Ref', 'Fn::GetAtt'], `${fn}.${name}`).toContain(Object.keys(value as object)[0]);
          continue;
        }
        for (const pattern of secretLike) expect(value, `${fn}.${name}`).not.toMatch(pattern);
        if (/SECRET|TOKEN|PASSWORD|WEBHOOK|API_KEY|ROUTING_KEY/i.test(name)) {
          // Only parameter names/paths are allowed for secret-ish variables.
          expect(value, `${fn}.${name}`).toMatch(/^\/?findings-router\//);
        }
      }
    }
  });

  it('alarms on DLQ depth, function errors and rule failures (M-1, M-2)', () => {
    // Prepare
    const alarms = byType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const find = (namespace: string, metric: string, dimensionValue: unknown) =>
      alarms.filter(
        (a) =>
          a.Namespace === namespace &&
          a.MetricName === metric &&
          a.Dimensions.some((d: Json) => JSON.stringify(d.Value) === JSON.stringify(dimensionValue)),
      );
    // Act + Assess
    for (const q of ['DeliveryDLQ', 'QuarantineQueue', 'IngestDLQ', 'RouteDLQ', 'WatchMembersDLQ']) {
      const [alarm] = find('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [q, 'QueueName'] });
      expect(alarm, q).toBeDefined();
      expect(alarm.Threshold).toBe(0);
      expect(alarm.ComparisonOperator).toBe('GreaterThanThreshold');
    }
    for (const fn of [...FUNCTIONS, 'watchMembers']) {
      expect(find('AWS/Lambda', 'Errors', { Ref: `${cap(fn)}LambdaFunction` }), fn).toHaveLength(1);
    }
    const ingestRule = ruleFor('aws.guardduty').Properties.Name;
    const routeRule = ruleFor('findings-router').Properties.Name;
    for (const ruleName of [ingestRule, routeRule, 'findings-router-dev-watch-members']) {
      for (const metric of ['FailedInvocations', 'InvocationsFailedToBeSentToDlq']) {
        const [alarm] = find('AWS/Events', metric, ruleName);
        expect(alarm, `${ruleName} ${metric}`).toBeDefined();
        expect(alarm.TreatMissingData).toBe('notBreaching');
      }
    }
    const [routeAlarm] = find('AWS/Events', 'FailedInvocations', routeRule);
    expect(routeAlarm.Dimensions).toContainEqual({ Name: 'EventBusName', Value: { Ref: 'FindingsBus' } });
    // Without --param alarmTopicArn the alarms have no actions at all (no condition, no empty ARN).
    expect(template.Conditions?.HasAlarmTopic).toBeUndefined();
    for (const a of alarms) {
      expect(a.AlarmActions).toBeUndefined();
      expect(a.OKActions).toBeUndefined();
    }
  });
});

describe('the deliver role follows the routes file', () => {
  it('grants exactly the topics, streams, domain, collection, bus and role its AWS targets name, and nothing for the others', () => {
    // Act
    const generated = roleStatements(functionRoleId('deliver')).filter((s) => String(s.Sid ?? '').startsWith('RoutesFileTargets'));
    // Assess: one statement per action set, resources sorted; pseudo parameters only where the file names none.
    const sub = (arn: string) => ({ 'Fn::Sub': arn });
    expect(generated).toEqual([
      { Sid: 'RoutesFileTargets1', Effect: 'Allow', Action: ['aoss:APIAccessAll'], Resource: [sub('arn:${AWS::Partition}:aoss:eu-west-1:${AWS::AccountId}:collection/0123456789abcdefghij')] },
      { Sid: 'RoutesFileTargets2', Effect: 'Allow', Action: ['es:ESHttpPost'], Resource: [sub('arn:${AWS::Partition}:es:eu-west-1:${AWS::AccountId}:domain/findings/_bulk')] },
      { Sid: 'RoutesFileTargets3', Effect: 'Allow', Action: ['events:PutEvents'], Resource: [sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/soar')] },
      {
        Sid: 'RoutesFileTargets4',
        Effect: 'Allow',
        Action: ['firehose:PutRecordBatch'],
        Resource: [
          sub('arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/guardduty-archive'),
          sub('arn:${AWS::Partition}:firehose:eu-west-1:${AWS::AccountId}:deliverystream/guardduty-archive-eu'),
        ],
      },
      { Sid: 'RoutesFileTargets5', Effect: 'Allow', Action: ['sns:Publish'], Resource: ['arn:aws:sns:eu-west-1:111111111111:guardduty-alerts'] },
      { Sid: 'RoutesFileTargets6', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::222222222222:role/findings-router-put-events'] },
    ]);
    // No other role and no other deliver statement grants any of these services.
    const targetActions = /^(sns|firehose|es|aoss|events|sts):/;
    for (const [id] of byType('AWS::IAM::Role')) {
      const others = roleStatements(id).filter((s) => !generated.includes(s) && asArray<string>(s.Action).some((a) => targetActions.test(a)));
      const expected = id === 'EnrichRole' || id === 'WatchMembersRole' ? ['events:PutEvents'] : [];
      expect(others.flatMap((s) => asArray<string>(s.Action)), id).toEqual(expected);
    }
  });
});

/**
 * cfn-lint is a pip tool (CI and these machines have it). Without it the lint is skipped with one
 * line, unless FINDINGS_ROUTER_REQUIRE_SYSTEM_PACKAGES=1 (.ci/run), where its absence fails.
 */
const cfnLintPresent = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
const skipLint = !cfnLintPresent && process.env.FINDINGS_ROUTER_REQUIRE_SYSTEM_PACKAGES !== '1';
if (skipLint) console.warn('cfn-lint tests: skipped, needs cfn-lint (pip install cfn-lint); CI has it and never skips');

describe.skipIf(skipLint)('cfn-lint', () => {
  /** cfn-lint's exit code is a bit set: 2 = errors, 4 = warnings, 8 = informational. */
  const lintErrors = (file: string): string => {
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', file], { encoding: 'utf8' });
    if (lint.error) throw lint.error;
    return (lint.status ?? 0) & 2 ? lint.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line)).join('\n') || lint.stdout : '';
  };

  it('finds no error in the router template', () => {
    expect(lintErrors(join(workDir, '.serverless', 'cloudformation-template-update-stack.json'))).toBe('');
  }, 120_000); // cfn-lint of the whole template took 44 s on a loaded 2-CPU machine

  it('finds no error in a production-like template (alarm topic, fixed detector, Organizations accounts, analytics on), whose alarms notify the topic', () => {
    // Prepare
    const topic = 'arn:aws:sns:us-east-1:123456789012:findings-router-alarms';
    const out = join(workDir, 'production-package');
    // Act
    const production = spawnSync(
      process.execPath,
      [
        join(workDir, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'prod', '--region', 'us-east-1',
        '--param', 'routes=routes.example.yml', '--param', 'accounts=accounts.example.yml', '--param', `alarmTopicArn=${topic}`, '--param', 'detectorId=12abc34d567e8fa901bc2d34eexample',
        '--param', 'expectedAccounts=organizations', '--param', 'analytics=true', '--package', out,
      ],
      { cwd: workDir, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_REGION: 'us-east-1' }, encoding: 'utf8', timeout: 150_000 },
    );
    // Assess
    expect(production.status, `${production.stdout}${production.stderr}`).toBe(0);
    const file = join(out, 'cloudformation-template-update-stack.json');
    const resources = Object.values(JSON.parse(readFileSync(file, 'utf8')).Resources as Record<string, Resource>);
    const alarms = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(15); // 5 queues, 4 functions, 3 rules x 2 metrics
    for (const a of alarms) {
      expect(a.Properties.AlarmActions, a.Properties.AlarmDescription).toEqual([topic]);
      expect(a.Properties.OKActions, a.Properties.AlarmDescription).toEqual([topic]);
    }
    expect(resources.some((r) => r.Type === 'AWS::KinesisFirehose::DeliveryStream')).toBe(true);
    expect(lintErrors(file)).toBe('');
  }, 180_000);

  it('finds no error in the regional forwarder template, with and without an alarm topic', () => {
    for (const topic of [[], ['--param', 'alarmTopicArn=arn:aws:sns:eu-west-1:123456789012:alerts']]) {
      // Act
      const out = join(workDir, 'forwarder-package', String(topic.length));
      const forwarder = spawnSync(
        process.execPath,
        [join(workDir, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--config', 'forwarder.yml', '--stage', 'dev', '--region', 'eu-west-1', '--param', 'homeRegion=us-east-1', ...topic, '--package', out],
        { cwd: join(workDir, 'deploy'), env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' }, encoding: 'utf8', timeout: 60_000 },
      );
      // Assess
      expect(forwarder.status, `${forwarder.stdout}${forwarder.stderr}`).toBe(0);
      const file = join(out, 'cloudformation-template-update-stack.json');
      const alarms = Object.values(JSON.parse(readFileSync(file, 'utf8')).Resources as Record<string, Resource>).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual(['ApproximateNumberOfMessagesVisible', 'FailedInvocations', 'InvocationsFailedToBeSentToDlq']);
      for (const a of alarms) expect(a.Properties.AlarmActions).toEqual(topic.length ? ['arn:aws:sns:eu-west-1:123456789012:alerts'] : undefined);
      expect(lintErrors(file)).toBe('');
    }
  });
});
