// Packages the stack offline (osls package, in a temporary copy of the repository) with the
// administrator's detector ARNs given, and checks the actions function's least privilege on the
// synthesized template: GuardDuty finding actions on those detector ARNs only, never "*";
// ListDetectors only when no ARN is given; DynamoDB limited to the actions# keys.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Json = any;

const repoRoot = resolve(import.meta.dirname, '..', '..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.serverless', 'coverage', 'test-artifacts', 'out']);
const DETECTORS = ['arn:aws:guardduty:us-east-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0', 'arn:aws:guardduty:eu-west-1:123456789012:detector/98fe76dc543b2a109fe8d7c6b5a43210'];
const FINDING_ACTIONS = ['guardduty:ArchiveFindings', 'guardduty:GetFindings', 'guardduty:UpdateFindingsFeedback'];

let workDir = '';
let template: { Resources: Record<string, Json>; Conditions: Json; Outputs: Json };

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const statements = (): Json[] => (template.Resources.ActionsRole.Properties.Policies as Json[]).flatMap((p) => asArray(p.PolicyDocument.Statement));
/** The statement, whether it stands alone or inside an `Fn::If` (the true branch). */
const unwrap = (s: Json): Json => (s['Fn::If'] ? s['Fn::If'][1] : s);
const granting = (action: string): Json[] => statements().map(unwrap).filter((s) => s.Effect === 'Allow' && asArray<string>(s.Action).includes(action));

/** A Resource as CloudFormation resolves it with the template's parameters given: `Fn::Split` over `Fn::If` on the lookup condition. */
const resolveResource = (resource: Json, lookup: boolean): string[] => {
  if (typeof resource === 'string') return [resource];
  if (resource['Fn::Split']) {
    const [separator, inner] = resource['Fn::Split'];
    return resolveResource(inner, lookup).flatMap((text) => text.split(separator));
  }
  if (resource['Fn::If']) return resolveResource(resource['Fn::If'][lookup ? 1 : 2], lookup);
  if (resource['Fn::Sub']) return [resource['Fn::Sub']];
  return [JSON.stringify(resource)];
};

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'findings-router-actions-package-'));
  cpSync(repoRoot, workDir, { recursive: true, filter: (src) => dirname(src) !== repoRoot || !SKIP_DIRS.has(basename(src)) });
  symlinkSync(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_REGION: 'us-east-1' };
  delete env.ROUTES_FILE;
  delete env.ACCOUNTS_FILE;
  const packaged = spawnSync(
    process.execPath,
    [join(workDir, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'dev', '--region', 'us-east-1', '--param', 'routes=routes.example.yml', '--param', `actionsDetectorArns=${DETECTORS.join(',')}`],
    { cwd: workDir, env, encoding: 'utf8', timeout: 170_000 },
  );
  if (packaged.status !== 0) throw new Error(`osls package failed:\n${packaged.stdout}${packaged.stderr}`);
  template = JSON.parse(readFileSync(join(workDir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'));
}, 180_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('serverless package: the actions function (issue 19)', () => {
  it('grants ArchiveFindings, GetFindings and UpdateFindingsFeedback on the given detector ARNs only, never on "*"', () => {
    for (const action of FINDING_ACTIONS) {
      const [statement, ...others] = granting(action);
      expect(others).toEqual([]);
      expect(resolveResource(statement.Resource, false)).toEqual(DETECTORS);
      expect(JSON.stringify(statement.Resource)).not.toContain('"*"');
    }
    // The lookup branch (no ARNs given) is this account's detectors, still not "*".
    expect(resolveResource(granting('guardduty:ArchiveFindings')[0].Resource, true)).toEqual(['arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*']);
  });

  it('grants ListDetectors (which AWS grants only on "*") only when no detector ARN is given', () => {
    const [listDetectors] = statements().filter((s) => JSON.stringify(s).includes('guardduty:ListDetectors'));
    expect(listDetectors['Fn::If'][0]).toBe('ActionsDetectorLookup');
    expect(listDetectors['Fn::If'][2]).toEqual({ Ref: 'AWS::NoValue' });
    expect(template.Conditions.ActionsDetectorLookup).toEqual({ 'Fn::Equals': [DETECTORS.join(','), ''] });
  });

  it('limits the DynamoDB grant on the shared idempotency table to keys under actions#', () => {
    const [keys] = granting('dynamodb:UpdateItem');
    expect(keys.Resource).toEqual({ 'Fn::GetAtt': ['IdempotencyTable', 'Arn'] });
    expect(keys.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['actions#*'] } });
    // The only read: sync-back's lookups in FindingStateTable; nothing reads the idempotency table.
    expect(granting('dynamodb:GetItem').map((g) => g.Resource)).toEqual([{ 'Fn::GetAtt': ['FindingStateTable', 'Arn'] }]);
  });

  it('serves the function from a Function URL whose address is a stack output, and consumes its own queue with a DLQ', () => {
    expect(template.Resources.ActionsLambdaFunctionUrl.Properties.AuthType).toBe('NONE');
    expect(template.Outputs.ActionsFunctionUrl.Value).toEqual({ 'Fn::GetAtt': ['ActionsLambdaFunctionUrl', 'FunctionUrl'] });
    expect(template.Resources.ActionsQueue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': ['ActionsDLQ', 'Arn'] });
    const mapping = Object.values(template.Resources).find((r: Json) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.EventSourceArn).includes('ActionsQueue')) as Json;
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('alarms when a press lands in ActionsDLQ and on the function errors', () => {
    const alarms = Object.values(template.Resources).filter((r: Json) => r.Type === 'AWS::CloudWatch::Alarm').map((r: Json) => r.Properties);
    const dlq = alarms.find((a: Json) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(a.Dimensions).includes('ActionsDLQ'));
    expect(dlq).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarms.filter((a: Json) => a.MetricName === 'Errors' && JSON.stringify(a.Dimensions).includes('ActionsLambdaFunction'))).toHaveLength(1);
  });
});
