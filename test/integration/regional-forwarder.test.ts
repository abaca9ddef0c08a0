// Regional fan-in and the multi-account IAM, checked offline: scripts/deploy-regions.sh packages the
// forwarder stacks (osls package, no AWS), and `osls print` shows the router's resolved config.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Json = any;
const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '..', '..');
const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_REGION: 'us-east-1' };
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const HOME_BUS = { 'Fn::Sub': 'arn:${AWS::Partition}:events:us-east-1:${AWS::AccountId}:event-bus/default' };

let out = '';
let log = '';
let router: Json;

beforeAll(async () => {
  // Act (shared): package the forwarders for three regions, one of them the home region.
  out = mkdtempSync(join(tmpdir(), 'forwarder-package-'));
  const script = await run('bash', [join(repoRoot, 'scripts/deploy-regions.sh'), '--home', 'us-east-1', '--regions', 'us-east-1,eu-west-1,ap-southeast-2', '--stage', 'prod', '--skip-router', '--package-only', out], { env, timeout: 120_000 });
  log = script.stdout;
  const printed = await run(process.execPath, [join(repoRoot, 'node_modules/osls/bin/serverless.js'), 'print', '--format', 'json', '--stage', 'dev', '--region', 'us-east-1'], { cwd: repoRoot, env, timeout: 60_000 });
  router = JSON.parse(printed.stdout);
}, 180_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

const template = (region: string): { Resources: Record<string, Json>; Conditions: Json } =>
  JSON.parse(readFileSync(join(out, region, 'cloudformation-template-update-stack.json'), 'utf8'));

describe('regional fan-in (scripts/deploy-regions.sh)', () => {
  it('packages a forwarder for every region but the home region', () => {
    // Assess
    expect(log).toContain('forwarder: us-east-1 skipped (home region');
    expect(existsSync(join(out, 'us-east-1'))).toBe(false);
    expect(existsSync(join(out, 'eu-west-1'))).toBe(true);
    expect(existsSync(join(out, 'ap-southeast-2'))).toBe(true);
  });

  it('guards every forwarder resource with IsNotHomeRegion (no double delivery even if deployed at home)', () => {
    // Prepare
    const { Resources, Conditions } = template('eu-west-1');
    // Act
    const forwarder = Object.entries(Resources).filter(([id]) => id.startsWith('Forwarder'));
    // Assess
    expect(Conditions.IsNotHomeRegion).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] }] });
    expect(forwarder.map(([id]) => id).sort()).toEqual(['ForwarderDLQ', 'ForwarderDLQDepthAlarm', 'ForwarderDLQPolicy', 'ForwarderDlqFailuresAlarm', 'ForwarderFailedInvocationsAlarm', 'ForwarderRole', 'ForwarderRule']);
    for (const [id, r] of forwarder) expect(r.Condition, id).toBe('IsNotHomeRegion');
  });

  it('forwards GuardDuty findings from the default bus to the home default bus with a role, retry policy and DLQ', () => {
    // Prepare
    const { Resources } = template('ap-southeast-2');
    // Act
    const rule = Resources.ForwarderRule.Properties;
    // Assess
    expect(rule.EventBusName).toBeUndefined(); // the region's default bus
    expect(rule.EventPattern).toEqual({ source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] });
    expect(rule.Targets).toEqual([
      {
        Id: 'home-region-default-bus',
        Arn: HOME_BUS,
        RoleArn: { 'Fn::GetAtt': ['ForwarderRole', 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['ForwarderDLQ', 'Arn'] } },
      },
    ]);
    expect(Resources.ForwarderDLQ.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  it('gives the forwarder role events:PutEvents on the home bus only, assumable by this rule only', () => {
    // Prepare
    const { Resources } = template('eu-west-1');
    const ruleArn = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/findings-router-prod-forward' };
    // Act
    const role = Resources.ForwarderRole.Properties;
    const statements = role.Policies.flatMap((p: Json) => asArray(p.PolicyDocument.Statement));
    const dlqPolicy = Resources.ForwarderDLQPolicy.Properties.PolicyDocument.Statement[0];
    // Assess
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: HOME_BUS }]);
    expect(role.AssumeRolePolicyDocument.Statement[0]).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } } });
    expect(dlqPolicy).toMatchObject({ Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } } });
  });
});

describe('router config: membership watcher and account metadata (osls print)', () => {
  const statements = (roleId: string): Json[] => router.resources.Resources[roleId].Properties.Policies.flatMap((p: Json) => asArray(p.PolicyDocument.Statement));
  const actions = (list: Json[]) => list.filter((s) => s.Effect === 'Allow').flatMap((s) => asArray<string>(s.Action)).sort();
  const gated = (list: Json[]) => list.filter((s) => s['Fn::If']).map((s) => [s['Fn::If'][0], s['Fn::If'][1].Action, s['Fn::If'][1].Resource]);

  it('schedules watchMembers every 15 minutes with its own role and the state table', () => {
    // Act
    const fn = router.functions.watchMembers;
    // Assess
    expect(fn).toMatchObject({ handler: 'dist/watch-members/index.handler', role: 'WatchMembersRole' });
    expect(fn.events).toEqual([
      {
        eventBridge: {
          name: 'findings-router-dev-watch-members',
          schedule: 'rate(15 minutes)',
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAge: 900 },
          deadLetterQueueArn: { 'Fn::GetAtt': ['WatchMembersDLQ', 'Arn'] },
        },
      },
    ]);
    expect(fn.environment).toMatchObject({
      EVENT_BUS_NAME: { Ref: 'FindingsBus' },
      STATE_TABLE: { Ref: 'FindingStateTable' },
      EXPECTED_ACCOUNTS: 'accounts',
      MEMBERSHIP_SEVERITY: '5',
      ACCOUNT_SOURCES: 'organizations,guardduty',
    });
    expect(router.resources.Resources.ForwarderRule).toBeUndefined(); // deploy/forwarder.yml is not part of the router
  });

  it('grants watchMembers least privilege; "*" only for ListDetectors/ListAccounts, and only when a parameter needs them', () => {
    // Act
    const list = statements('WatchMembersRole');
    // Assess
    expect(actions(list)).toEqual([
      'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'events:PutEvents',
      'guardduty:GetMembers', 'guardduty:ListMembers', 'logs:CreateLogStream', 'logs:PutLogEvents',
      'organizations:DescribeAccount', 'organizations:DescribeOrganizationalUnit', 'organizations:ListParents', 'organizations:ListTagsForResource',
      'sqs:SendMessage', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
    ]);
    // GetMembers/ListMembers support no resource-level permissions (service authorization reference).
    expect(list.find((s) => asArray(s.Action).includes('guardduty:ListMembers')).Resource).toBe('*');
    expect(gated(list)).toEqual([
      ['NeedsDetectorLookup', 'guardduty:ListDetectors', '*'],
      ['ExpectsOrganizationAccounts', 'organizations:ListAccounts', '*'],
    ]);
    expect(list.find((s) => asArray(s.Action).includes('dynamodb:PutItem')).Resource).toEqual({ 'Fn::GetAtt': ['FindingStateTable', 'Arn'] });
    expect(list.find((s) => asArray(s.Action).includes('events:PutEvents')).Resource).toEqual({ 'Fn::GetAtt': ['FindingsBus', 'Arn'] });
  });

  it('gives enrich read-only Organizations and guardduty:GetMembers, nothing that writes', () => {
    // Act
    const list = statements('EnrichRole');
    // Assess
    const extra = actions(list).filter((a) => a.startsWith('organizations:') || a.startsWith('guardduty:'));
    expect(extra).toEqual(['guardduty:GetMembers', 'organizations:DescribeAccount', 'organizations:DescribeOrganizationalUnit', 'organizations:ListParents', 'organizations:ListTagsForResource']);
    expect(gated(list)).toEqual([['NeedsDetectorLookup', 'guardduty:ListDetectors', '*']]);
    expect(router.functions.enrich.environment).toMatchObject({ ACCOUNT_SOURCES: 'organizations,guardduty', GUARDDUTY_DETECTOR_ID: '' });
  });
});
