// `osls package --param analytics=true` (in a temporary copy of the repo, as serverless-package.test.ts does)
// produces the analytics stack of deploy/analytics.cjs: stream, bucket, key, Glue table, workgroup and named
// queries, each policy scoped to them; and cfn-lint finds no error in the template.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutSystemPackages } from '../helpers/system-packages.ts';

// Template JSON is loosely typed on purpose: the assertions are the schema.
type Json = any;
type Resource = { Type: string; Properties: Json; DeletionPolicy?: string };

const repoRoot = resolve(import.meta.dirname, '..', '..');
const ROUTES_FILE = 'test/events/deploy/analytics.routes.yml';
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.serverless', 'coverage', 'test-artifacts', 'out']);
const STREAM_NAME = 'findings-router-dev-findings';
const CRYPTO_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'];

let workDir = '';
let templateFile = '';
let template: { Resources: Record<string, Resource>; Outputs: Json };

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const resource = (logicalId: string): Resource => {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`resource ${logicalId} not in template`);
  return found;
};
const ofType = (type: string): [string, Resource][] => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const sub = (text: string) => ({ 'Fn::Sub': text });
/** Does an IAM action pattern (with * and ?) cover `action`? */
const covers = (pattern: string, action: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(action);
const policyStatements = (logicalId: string): Json[] => {
  const properties = resource(logicalId).Properties;
  const documents = properties.PolicyDocument ? [properties.PolicyDocument] : (properties.Policies as Json[]).map((policy) => policy.PolicyDocument);
  return documents.flatMap((document) => asArray(document.Statement));
};

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'findings-router-analytics-package-'));
  cpSync(repoRoot, workDir, { recursive: true, filter: (src) => dirname(src) !== repoRoot || !SKIP_DIRS.has(basename(src)) });
  symlinkSync(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  // The bundles' size budget is serverless-package.test.ts's concern; this test reads the template only.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_REGION: 'us-east-1',
    FINDINGS_ROUTER_SKIP_BUNDLE_BUDGET: '1',
  };
  delete env.ROUTES_FILE;
  delete env.ACCOUNTS_FILE;
  const packaged = spawnSync(
    process.execPath,
    [join(workDir, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'dev', '--region', 'us-east-1', '--param', `routes=${ROUTES_FILE}`, '--param', 'analytics=true'],
    { cwd: workDir, env, encoding: 'utf8', timeout: 150_000 },
  );
  if (packaged.status !== 0) throw new Error(`osls package failed:\n${packaged.stdout}${packaged.stderr}`);
  templateFile = join(workDir, '.serverless', 'cloudformation-template-update-stack.json');
  template = JSON.parse(readFileSync(templateFile, 'utf8'));
}, 180_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('osls package --param analytics=true', () => {
  it('adds the stream, bucket, key, Glue database and table, workgroup and one named query per deploy/queries file', () => {
    const expected: Record<string, string> = {
      AnalyticsDeliveryStream: 'AWS::KinesisFirehose::DeliveryStream',
      AnalyticsBucket: 'AWS::S3::Bucket',
      AnalyticsKey: 'AWS::KMS::Key',
      AnalyticsDatabase: 'AWS::Glue::Database',
      AnalyticsTable: 'AWS::Glue::Table',
      AnalyticsWorkGroup: 'AWS::Athena::WorkGroup',
    };
    for (const [id, type] of Object.entries(expected)) expect(resource(id).Type, id).toBe(type);
    for (const type of Object.values(expected).filter((type) => type !== 'AWS::S3::Bucket')) expect(ofType(type), type).toHaveLength(1);
    const queryFiles = readFileSync(join(repoRoot, 'deploy', 'queries', 'active-findings.sql'), 'utf8');
    const named = ofType('AWS::Athena::NamedQuery').map(([, r]) => r.Properties);
    expect(named.map((query) => query.Name).sort()).toEqual(['active-findings', 'findings-per-account', 'findings-per-day-by-severity', 'new-finding-types', 'top-finding-types-this-week', 'top-remote-ips']);
    expect(named.find((query) => query.Name === 'active-findings').QueryString).toBe(queryFiles);
    for (const query of named) expect(query).toMatchObject({ Database: { Ref: 'AnalyticsDatabase' }, WorkGroup: { Ref: 'AnalyticsWorkGroup' } });
  });

  it('delivers GZIP objects under a date prefix (errors apart) to the bucket, encrypted with the stack key, under its own role', () => {
    const stream = resource('AnalyticsDeliveryStream').Properties;
    expect(stream.DeliveryStreamName).toBe(STREAM_NAME);
    expect(stream.ExtendedS3DestinationConfiguration).toMatchObject({
      BucketARN: getAttArn('AnalyticsBucket'),
      RoleARN: getAttArn('AnalyticsFirehoseRole'),
      Prefix: 'findings/dt=!{timestamp:yyyy-MM-dd}/',
      ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
      CompressionFormat: 'GZIP',
      EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: getAttArn('AnalyticsKey') } },
    });
    expect(stream.ExtendedS3DestinationConfiguration.DynamicPartitioningConfiguration).toBeUndefined(); // billed extra: not used
  });

  it('keeps the bucket private, SSE-KMS under the rotating customer key, TLS only, with lifecycle expiry', () => {
    const bucket = resource('AnalyticsBucket');
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAttArn('AnalyticsKey') }, BucketKeyEnabled: true },
    ]);
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    const rules = bucket.Properties.LifecycleConfiguration.Rules as Json[];
    for (const prefix of ['findings/', 'errors/', 'athena-results/']) expect(rules.find((rule) => rule.Prefix === prefix)?.ExpirationInDays, prefix).toBeGreaterThan(0);
    const [deny, ...others] = policyStatements('AnalyticsBucketPolicy');
    expect(others).toEqual([]);
    expect(deny).toEqual({
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [getAttArn('AnalyticsBucket'), sub('${AnalyticsBucket.Arn}/*')],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const key = resource('AnalyticsKey').Properties;
    expect(key.EnableKeyRotation).toBe(true);
    const [admin, use, ...more] = asArray<Json>(key.KeyPolicy.Statement);
    expect(more).toEqual([]);
    // Administration never includes using the key; using it is only through S3, by this account's principals.
    expect(asArray<string>(admin.Action).filter((action) => CRYPTO_ACTIONS.some((crypto) => covers(action, crypto)))).toEqual([]);
    expect(asArray<string>(use.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(use.Condition.StringEquals).toEqual({ 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com'), 'kms:CallerAccount': sub('${AWS::AccountId}') });
  });

  it('gives the Firehose role S3 writes on its two prefixes and the key only through S3 for this bucket, nothing on "*"', () => {
    const role = resource('AnalyticsFirehoseRole').Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': sub('${AWS::AccountId}') } } },
    ]);
    const statements = policyStatements('AnalyticsFirehoseRole');
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(asArray(statement.Resource)).not.toContain('*');
      for (const action of asArray<string>(statement.Action)) expect(action).not.toContain('*');
    }
    const writes = statements.filter((s) => asArray<string>(s.Action).includes('s3:PutObject'));
    expect(writes).toHaveLength(1);
    expect(writes[0].Resource).toEqual([sub('${AnalyticsBucket.Arn}/findings/*'), sub('${AnalyticsBucket.Arn}/errors/*')]);
    expect(statements.flatMap((s) => asArray<string>(s.Action)).filter((action) => action.startsWith('s3:Get') && action !== 's3:GetBucketLocation')).toEqual([]);
    const kms = statements.filter((s) => asArray<string>(s.Action).some((action) => action.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]).toMatchObject({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: getAttArn('AnalyticsKey') });
    expect(kms[0].Condition.StringEquals).toEqual({ 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') });
    expect(kms[0].Condition.StringLike['kms:EncryptionContext:aws:s3:arn']).toEqual([getAttArn('AnalyticsBucket'), ...writes[0].Resource]);
  });

  it('lets the deliver role put records into this stream only (its own policy, and the routes file target naming the same stream)', () => {
    expect(resource('AnalyticsDeliverPolicy').Properties.Roles).toEqual([{ Ref: 'DeliverRole' }]);
    expect(policyStatements('AnalyticsDeliverPolicy')).toEqual([
      { Sid: 'PutFindingsIntoTheAnalyticsStream', Effect: 'Allow', Action: 'firehose:PutRecordBatch', Resource: getAttArn('AnalyticsDeliveryStream') },
    ]);
    const firehoseGrants = [...policyStatements('DeliverRole'), ...policyStatements('AnalyticsDeliverPolicy')].filter((s) =>
      asArray<string>(s.Action).some((action) => covers(action, 'firehose:PutRecordBatch')),
    );
    expect(firehoseGrants.flatMap((s) => asArray(s.Resource))).toEqual([
      sub(`arn:\${AWS::Partition}:firehose:\${AWS::Region}:\${AWS::AccountId}:deliverystream/${STREAM_NAME}`),
      getAttArn('AnalyticsDeliveryStream'),
    ]);
  });

  it('reads the bucket through a Glue table with partition projection (no crawler) and the JSON SerDe', () => {
    const table = resource('AnalyticsTable').Properties.TableInput;
    expect(table.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'storage.location.template': sub('s3://${AnalyticsBucket}/findings/dt=${!dt}/'),
    });
    expect(table.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
    expect(table.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(ofType('AWS::Glue::Crawler')).toEqual([]);
  });

  it('enforces encrypted Athena results (SSE-KMS, the stack key) and a scan limit in the workgroup', () => {
    const configuration = resource('AnalyticsWorkGroup').Properties.WorkGroupConfiguration;
    expect(configuration.EnforceWorkGroupConfiguration).toBe(true);
    expect(configuration.BytesScannedCutoffPerQuery).toBeGreaterThan(0);
    expect(configuration.ResultConfiguration).toEqual({
      OutputLocation: sub('s3://${AnalyticsBucket}/athena-results/'),
      EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: getAttArn('AnalyticsKey') },
    });
  });

  it('offers analysts a reader policy scoped to the workgroup, the table, the findings and results prefixes', () => {
    const statements = policyStatements('AnalyticsReaderPolicy');
    for (const statement of statements) {
      expect(asArray(statement.Resource)).not.toContain('*');
      for (const action of asArray<string>(statement.Action)) expect(action).not.toContain('*');
    }
    const objectActions = statements.filter((s) => asArray<string>(s.Action).includes('s3:PutObject'));
    expect(objectActions.flatMap((s) => asArray(s.Resource))).toEqual([sub('${AnalyticsBucket.Arn}/athena-results/*')]);
  });
});

describe.skipIf(skipWithoutSystemPackages('analytics cfn-lint', 'cfn-lint'))('cfn-lint on the template with analytics', () => {
  it('finds no error', () => {
    // cfn-lint's exit code is a bit set: 2 = errors, 4 = warnings, 8 = informational.
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', templateFile], { encoding: 'utf8' });
    if (lint.error) throw lint.error;
    expect((lint.status ?? 0) & 2 ? lint.stdout : '').toBe('');
  });
});
