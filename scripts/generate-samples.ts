/**
 * Generates one realistic, deterministic sample EventBridge event per GuardDuty finding
 * type listed in shared/guardduty/finding-types.tsv and writes them to
 * test/events/samples/<slug>.json (or the directory given as the first argument).
 *
 *   npm run samples            # or: npx node scripts/generate-samples.ts [outDir]
 *
 * Everything is derived from sha256 hashes of the finding type: no Math.random, no clock.
 * test/unit/samples/corpus.test.ts re-runs buildSample and compares byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type Row = {
  type: string;
  resource_type: string;
  default_severity: string;
  data_source_or_feature: string;
  status: string;
};

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

// A copy of ../shared/guardduty/finding-types.tsv, kept in the repo so a clone is self-contained.
const TSV_URL = new URL('../test/events/finding-types.tsv', import.meta.url);
const DEFAULT_OUT_DIR = fileURLToPath(new URL('../test/events/samples/', import.meta.url));
const COLUMNS = ['type', 'resource_type', 'default_severity', 'data_source_or_feature', 'status'] as const;

const ACCOUNTS = ['111111111111', '222222222222', '333333333333', '444444444444', '555555555555'];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
/** 2026-01-01T00:00:00Z in epoch milliseconds. */
const YEAR_START_MS = 1767225600000;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------
// Deterministic helpers
// ---------------------------------------------------------------------------------------

const sha256 = (input: string): string => createHash('sha256').update(input).digest('hex');

/** A per-type random source: `hex(salt)` is stable for (type, salt). */
const seeded = (type: string) => {
  const hex = (salt: string): string => (salt === '' ? sha256(type) : sha256(`${type}\u0000${salt}`));
  const int = (salt: string): number => Number.parseInt(hex(salt).slice(0, 12), 16);
  const range = (salt: string, min: number, max: number): number => min + (int(salt) % (max - min + 1));
  const pick = <T>(salt: string, values: readonly T[]): T => values[int(salt) % values.length] as T;
  return { hex, int, range, pick };
};
type Seed = ReturnType<typeof seeded>;

const uuidFrom = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Number.parseInt(hex[16] ?? '0', 16) % 4]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;

const iso = (ms: number): string => new Date(ms).toISOString();
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Epoch seconds with a fractional part, as GuardDuty sends some timestamps (documented quirk). */
const epochSeconds = (ms: number): number => Math.floor(ms / 1000) + (1 + (ms % 999)) / 1000;

// ---------------------------------------------------------------------------------------
// TSV
// ---------------------------------------------------------------------------------------

const parseTsv = (text: string): Row[] => {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = (lines.shift() ?? '').split('\t');
  if (COLUMNS.some((column, i) => header[i] !== column)) {
    throw new Error(`finding-types.tsv: unexpected header ${JSON.stringify(header)}; expected ${COLUMNS.join(', ')}`);
  }
  return lines.map((line, i) => {
    const cells = line.split('\t');
    if (cells.length < COLUMNS.length) throw new Error(`finding-types.tsv line ${i + 2}: expected ${COLUMNS.length} columns`);
    const [type = '', resource_type = '', default_severity = '', data_source_or_feature = '', status = ''] = cells.map((c) => c.trim());
    return { type, resource_type, default_severity, data_source_or_feature, status };
  });
};

const readRows = (url: URL = TSV_URL): Row[] => {
  const path = fileURLToPath(url);
  if (!existsSync(path)) {
    throw new Error(`generate-samples: finding-types table not found at ${path} (expected shared/guardduty/finding-types.tsv next to this checkout)`);
  }
  return parseTsv(readFileSync(path, 'utf8'));
};

// ---------------------------------------------------------------------------------------
// Naming
// ---------------------------------------------------------------------------------------

const slugFor = (type: string): string =>
  type
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** "CryptoCurrency:EC2/BitcoinTool.B!DNS" → "BitcoinTool.B" → "Bitcoin Tool.B". */
const threatName = (type: string): string => {
  const purpose = type.split('/').slice(1).join('/') || type;
  return purpose
    .split('!')[0]!
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
};

// ---------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------

/** Strips the trailing `?` and parentheticals; resolves `A|B|C` alternatives by hash. */
const resolveResourceType = (row: Row, seed: Seed): string => {
  const raw = row.resource_type.trim();
  const cleaned = raw.replace(/\?+$/, '').replace(/\([^)]*\)/g, '').trim();
  if (cleaned !== '') {
    const options = cleaned.split('|').map((s) => s.trim()).filter(Boolean);
    return seed.pick('resourceType', options);
  }
  // Only a parenthetical: infer from it, else fall back to the CloudTrail principal.
  if (/recovery ?point/i.test(raw)) return 'RecoveryPoint';
  if (/snapshot/i.test(raw)) return 'EBSSnapshot';
  if (/AMI|image/i.test(raw)) return 'EC2Image';
  return 'AccessKey';
};

const baseSeverity = (band: string): number => {
  if (/per signal/i.test(band)) return 5;
  const first = /^(Low|Medium|High|Critical)\b(?!-)/i.exec(band)?.[1]?.toLowerCase();
  return first === 'low' ? 2 : first === 'high' ? 8 : first === 'critical' ? 9 : 5;
};

const severityFor = (row: Row, seed: Seed): number => {
  if (row.type.startsWith('AttackSequence:')) return 9;
  const base = baseSeverity(row.default_severity);
  if (seed.int('fractional') % 8 !== 0) return base;
  return Math.round((base + seed.range('fraction', 1, 6) / 10) * 10) / 10;
};

type Action =
  | 'NETWORK_CONNECTION'
  | 'PORT_PROBE'
  | 'DNS_REQUEST'
  | 'AWS_API_CALL'
  | 'KUBERNETES_API_CALL'
  | 'RDS_LOGIN_ATTEMPT'
  | 'RUNTIME'
  | 'MALWARE_EBS'
  | 'MALWARE_SCAN'
  | 'ATTACK_SEQUENCE';

const classify = (row: Row): Action => {
  const source = row.data_source_or_feature;
  if (row.type.startsWith('AttackSequence:')) return 'ATTACK_SEQUENCE';
  if (/Malware Protection for EC2/i.test(source)) return 'MALWARE_EBS';
  if (/Malware Protection/i.test(source)) return 'MALWARE_SCAN';
  if (/Runtime Monitoring/i.test(source)) return 'RUNTIME';
  if (/^DNS logs/i.test(source) || row.type.endsWith('!DNS')) return 'DNS_REQUEST';
  if (/VPC flow logs|Network Activity/i.test(source)) return /PortProbe/.test(row.type) ? 'PORT_PROBE' : 'NETWORK_CONNECTION';
  if (/EKS audit logs/i.test(source)) return 'KUBERNETES_API_CALL';
  if (/RDS login/i.test(source)) return 'RDS_LOGIN_ATTEMPT';
  return 'AWS_API_CALL';
};

const featureNameFor = (row: Row): string => {
  const source = row.data_source_or_feature;
  const rules: [RegExp, string][] = [
    [/^Extended Threat Detection/i, 'ExtendedThreatDetection'],
    [/Custom Detection Rules/i, 'CustomDetectionRules'],
    [/Malware Protection for EC2/i, 'EbsMalwareProtection'],
    [/Malware Protection for S3/i, 'S3MalwareProtection'],
    [/Malware Protection for Backup/i, 'BackupMalwareProtection'],
    [/Runtime Monitoring/i, 'RuntimeMonitoring'],
    [/^AI Protection/i, 'AiProtection'],
    [/Lambda Network/i, 'LambdaNetworkLogs'],
    [/RDS login/i, 'RdsLoginEvents'],
    [/EKS audit logs/i, 'EksAuditLogs'],
    [/^VPC flow logs/i, 'FlowLogs'],
    [/^DNS logs/i, 'DnsLogs'],
    [/^CloudTrail data events for S3/i, 'S3DataEvents'],
    [/CloudTrail/i, 'CloudTrail'],
  ];
  return rules.find(([pattern]) => pattern.test(source))?.[1] ?? 'CloudTrail';
};

const isActorType = (type: string): boolean =>
  /C&C|CryptoCurrency|BitcoinTool|Outbound|DenialOfService|Portscan|PortSweep|SpamBot|DGADomain|Blackhole|DropPoint|Phishing|DriveBy|TorClient|TorRelay|ReverseShell/i.test(type);

// ---------------------------------------------------------------------------------------
// Shared building blocks
// ---------------------------------------------------------------------------------------

const GEO: { city: string; code: string; country: string; lat: number; lon: number }[] = [
  { city: 'Frankfurt am Main', code: 'DE', country: 'Germany', lat: 50.1109, lon: 8.6821 },
  { city: 'Amsterdam', code: 'NL', country: 'Netherlands', lat: 52.3676, lon: 4.9041 },
  { city: 'Singapore', code: 'SG', country: 'Singapore', lat: 1.3521, lon: 103.8198 },
  { city: 'Sao Paulo', code: 'BR', country: 'Brazil', lat: -23.5505, lon: -46.6333 },
  { city: 'Ashburn', code: 'US', country: 'United States', lat: 39.0438, lon: -77.4874 },
  { city: 'Seoul', code: 'KR', country: 'South Korea', lat: 37.5665, lon: 126.978 },
  { city: 'Bucharest', code: 'RO', country: 'Romania', lat: 44.4268, lon: 26.1025 },
];
const ORGS = ['Example Hosting Ltd', 'Documentation Transit Co', 'Sample Cloud Networks', 'Test Net Broadband'];

const remoteIpDetails = (seed: Seed, salt = 'remote'): Obj => {
  const geo = seed.pick(`${salt}:geo`, GEO);
  const org = seed.pick(`${salt}:org`, ORGS);
  const asn = 64496 + seed.range(`${salt}:asn`, 0, 15);
  return {
    ipAddressV4: `${seed.pick(`${salt}:net`, ['198.51.100', '203.0.113'])}.${seed.range(`${salt}:host`, 1, 254)}`,
    city: { cityName: geo.city },
    country: { countryCode: geo.code, countryName: geo.country },
    geoLocation: { lat: geo.lat, lon: geo.lon },
    // Documented quirk: `asn` is usually a string but sometimes a number.
    organization: { asn: seed.int(`${salt}:asnKind`) % 7 === 0 ? asn : String(asn), asnOrg: org, isp: org, org },
  };
};

const tags = (seed: Seed, salt: string): Obj[] => [
  { key: 'env', value: seed.pick(`${salt}:env`, ['prod', 'dev']) },
  { key: 'team', value: seed.pick(`${salt}:team`, ['platform', 'payments', 'data', 'identity', 'search']) },
];

type Context = {
  seed: Seed;
  type: string;
  region: string;
  accountId: string;
  createdMs: number;
  vpcId: string;
  subnetId: string;
  securityGroupId: string;
  privateIp: string;
  name: string;
};

// ---------------------------------------------------------------------------------------
// Resource blocks
// ---------------------------------------------------------------------------------------

const accessKeyDetails = ({ seed }: Context): Obj => {
  const userType = seed.pick('userType', ['IAMUser', 'AssumedRole', 'IAMUser', 'AssumedRole', 'Root']);
  const userName = userType === 'Root' ? 'root' : userType === 'AssumedRole' ? seed.pick('role', ['ci-deployer', 'DataPipelineRole', 'AdminRole']) : seed.pick('user', ['alice', 'bob', 'build-bot', 'analytics-svc']);
  return {
    accessKeyId: `ASIA${seed.hex('accessKey').slice(0, 16).toUpperCase()}`,
    principalId: `AIDA${seed.hex('principal').slice(0, 17).toUpperCase()}`,
    userName,
    userType,
  };
};

const instanceDetails = (ctx: Context): Obj => {
  const { seed, region, accountId, createdMs } = ctx;
  const instanceId = `i-0${seed.hex('instance').slice(0, 16)}`;
  return {
    instanceId,
    instanceType: seed.pick('instanceType', ['t3.medium', 'm5.large', 'c6i.xlarge', 'm7g.large', 'r6i.2xlarge']),
    instanceState: 'running',
    availabilityZone: `${region}${seed.pick('az', ['a', 'b', 'c'])}`,
    imageId: `ami-0${seed.hex('ami').slice(0, 16)}`,
    imageDescription: seed.pick('imageDesc', ['Amazon Linux 2023 AMI', 'Ubuntu 24.04 LTS', 'Windows Server 2022 Base']),
    launchTime: iso(createdMs - seed.range('launch', 1, 200) * DAY_MS),
    platform: seed.int('platform') % 3 === 0 ? null : seed.pick('platformName', ['Linux/UNIX', 'windows']),
    networkInterfaces: [
      {
        networkInterfaceId: `eni-0${seed.hex('eni').slice(0, 16)}`,
        privateDnsName: `ip-${ctx.privateIp.replaceAll('.', '-')}.${region}.compute.internal`,
        privateIpAddress: ctx.privateIp,
        publicIp: `203.0.113.${seed.range('publicIp', 1, 254)}`,
        subnetId: ctx.subnetId,
        vpcId: ctx.vpcId,
        securityGroups: [{ groupId: ctx.securityGroupId, groupName: seed.pick('sgName', ['web-sg', 'default', 'bastion-sg', 'app-sg']) }],
      },
    ],
    iamInstanceProfile: {
      arn: `arn:aws:iam::${accountId}:instance-profile/${ctx.name}-profile`,
      id: `AIPA${seed.hex('profile').slice(0, 17).toUpperCase()}`,
    },
    productCodes: [],
    tags: [...tags(seed, 'instance'), { key: 'Name', value: ctx.name }],
  };
};

const s3BucketDetails = (ctx: Context, withObject: boolean): Obj[] => {
  const { seed, createdMs } = ctx;
  const name = `${ctx.name}-${seed.hex('bucket').slice(0, 8)}`;
  const bucket: Obj = {
    arn: `arn:aws:s3:::${name}`,
    name,
    type: 'Destination',
    // Documented quirk: epoch seconds as a number with a fraction.
    createdAt: epochSeconds(createdMs - seed.range('bucketAge', 30, 900) * DAY_MS),
    owner: { id: seed.hex('owner') },
    tags: tags(seed, 'bucket'),
    defaultServerSideEncryption: { encryptionType: 'AES256' },
    publicAccess: {
      effectivePermission: 'NOT_PUBLIC',
      permissionConfiguration: {
        bucketLevelPermissions: {
          accessControlList: { allowsPublicReadAccess: false, allowsPublicWriteAccess: false },
          bucketPolicy: { allowsPublicReadAccess: false, allowsPublicWriteAccess: false },
          blockPublicAccess: { ignorePublicAcls: true, restrictPublicBuckets: true, blockPublicAcls: true, blockPublicPolicy: true },
        },
      },
    },
  };
  if (withObject) {
    const key = `uploads/${seed.pick('objectKey', ['invoice.pdf.exe', 'report.docm', 'payload.zip', 'setup.msi'])}`;
    bucket['s3ObjectDetails'] = [
      {
        objectArn: `arn:aws:s3:::${name}/${key}`,
        key,
        eTag: seed.hex('etag').slice(0, 32),
        hash: seed.hex('objectHash'),
        versionId: seed.hex('version').slice(0, 32),
      },
    ];
  }
  return [bucket];
};

const eksClusterDetails = (ctx: Context): Obj => ({
  name: `${ctx.name}-eks`,
  arn: `arn:aws:eks:${ctx.region}:${ctx.accountId}:cluster/${ctx.name}-eks`,
  vpcId: ctx.vpcId,
  status: 'ACTIVE',
  tags: tags(ctx.seed, 'eks'),
  createdAt: epochSeconds(ctx.createdMs - ctx.seed.range('eksAge', 10, 400) * DAY_MS),
});

const kubernetesDetails = ({ seed }: Context): Obj => {
  const workload = seed.pick('workload', ['api-gateway', 'payments-worker', 'nginx-ingress', 'batch-runner']);
  return {
    kubernetesUserDetails: {
      username: seed.pick('k8sUser', ['system:serviceaccount:default:builder', 'arn:aws:sts::123456789012:assumed-role/eks-admin/session', 'system:anonymous']),
      uid: uuidFrom(seed.hex('k8sUid')),
      groups: ['system:authenticated'],
    },
    kubernetesWorkloadDetails: {
      name: `${workload}-${seed.hex('pod').slice(0, 5)}`,
      type: 'pods',
      uid: uuidFrom(seed.hex('podUid')),
      namespace: seed.pick('namespace', ['default', 'kube-system', 'payments', 'ci']),
      hostNetwork: false,
      containers: [{ name: workload, image: `public.ecr.aws/example/${workload}:1.${seed.range('imgv', 0, 9)}` }],
    },
  };
};

const containerImage = (seed: Seed): string => seed.pick('containerImage', ['public.ecr.aws/nginx/nginx:1.27', 'public.ecr.aws/docker/library/python:3.12', 'public.ecr.aws/docker/library/alpine:3.20']);

const ecsClusterDetails = (ctx: Context): Obj => {
  const { seed, region, accountId, createdMs } = ctx;
  const cluster = `${ctx.name}-ecs`;
  const taskId = seed.hex('task').slice(0, 32);
  const family = seed.pick('family', ['web', 'worker', 'cron']);
  const version = seed.range('taskVersion', 1, 40);
  const started = createdMs - seed.range('taskAge', 1, 72) * 3_600_000;
  return {
    name: cluster,
    arn: `arn:aws:ecs:${region}:${accountId}:cluster/${cluster}`,
    status: 'ACTIVE',
    activeServicesCount: seed.range('services', 1, 8),
    registeredContainerInstancesCount: 0,
    runningTasksCount: seed.range('tasks', 1, 30),
    tags: tags(seed, 'ecs'),
    taskDetails: {
      arn: `arn:aws:ecs:${region}:${accountId}:task/${cluster}/${taskId}`,
      definitionArn: `arn:aws:ecs:${region}:${accountId}:task-definition/${family}:${version}`,
      version: String(version),
      createdAt: epochSeconds(started - 60_000),
      startedAt: epochSeconds(started),
      launchType: 'FARGATE',
      containers: [{ name: family, image: containerImage(seed) }],
    },
  };
};

const containerDetails = ({ seed }: Context): Obj => ({
  id: seed.hex('container'),
  name: seed.pick('containerName', ['web', 'worker', 'sidecar', 'app']),
  image: containerImage(seed),
  containerRuntime: 'containerd',
  securityContext: { privileged: seed.int('privileged') % 4 === 0 },
});

const lambdaDetails = (ctx: Context): Obj => {
  const { seed, region, accountId } = ctx;
  const functionName = `${ctx.name}-${seed.pick('fn', ['handler', 'ingest', 'thumbnailer', 'webhook'])}`;
  return {
    functionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    functionName,
    description: 'Generated sample function',
    functionVersion: '$LATEST',
    lastModifiedAt: epochSeconds(ctx.createdMs - seed.range('lambdaAge', 1, 120) * DAY_MS),
    revisionId: uuidFrom(seed.hex('revision')),
    role: `arn:aws:iam::${accountId}:role/${functionName}-role`,
    vpcConfig: { subnetIds: [ctx.subnetId], vpcId: ctx.vpcId, securityGroups: [{ groupId: ctx.securityGroupId, groupName: 'lambda-sg' }] },
    tags: tags(seed, 'lambda'),
  };
};

const rdsDbUserDetails = ({ seed }: Context): Obj => ({
  user: seed.pick('dbUser', ['postgres', 'app_user', 'admin', 'reporting']),
  application: seed.pick('dbApp', ['psql', 'pgAdmin 4', 'python-psycopg', 'DBeaver']),
  database: seed.pick('database', ['orders', 'postgres', 'customers']),
  ssl: 'true',
  authMethod: 'PASSWORD',
});

const rdsDbInstanceDetails = (ctx: Context): Obj => {
  const { seed, region, accountId } = ctx;
  const cluster = `${ctx.name}-aurora`;
  const instance = `${cluster}-instance-${seed.range('dbInstance', 1, 3)}`;
  return {
    dbInstanceIdentifier: instance,
    engine: 'aurora-postgresql',
    engineVersion: seed.pick('engineVersion', ['15.4', '16.2', '16.6']),
    dbClusterIdentifier: cluster,
    dbInstanceArn: `arn:aws:rds:${region}:${accountId}:db:${instance}`,
    dbiResourceId: `db-${seed.hex('dbi').slice(0, 26).toUpperCase()}`,
    tags: tags(seed, 'rds'),
  };
};

const rdsLimitlessDbDetails = (ctx: Context): Obj => {
  const { seed, region, accountId } = ctx;
  const shardGroup = `${ctx.name}-limitless`;
  return {
    dbShardGroupIdentifier: shardGroup,
    dbShardGroupResourceId: `shardgrp-${seed.hex('shard').slice(0, 32)}`,
    dbShardGroupArn: `arn:aws:rds:${region}:${accountId}:shard-group:${shardGroup}`,
    engine: 'aurora-postgresql',
    engineVersion: '16.6-limitless',
    dbClusterIdentifier: `${ctx.name}-aurora`,
    tags: tags(seed, 'rds'),
  };
};

const volumeArn = (ctx: Context): string => `arn:aws:ec2:${ctx.region}:${ctx.accountId}:volume/vol-0${ctx.seed.hex('volume').slice(0, 16)}`;

const ebsVolumeDetails = (ctx: Context): Obj => ({
  scannedVolumeDetails: [
    {
      volumeArn: volumeArn(ctx),
      volumeType: 'gp3',
      deviceName: '/dev/xvda',
      volumeSizeInGB: ctx.seed.pick('volumeSize', [8, 20, 50, 100]),
      encryptionType: 'CMK',
      snapshotArn: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:snapshot/snap-0${ctx.seed.hex('scanSnapshot').slice(0, 16)}`,
      kmsKeyArn: null,
    },
  ],
  skippedVolumeDetails: [],
});

type Resource = { resource: Obj; label: string };

const buildResource = (resourceType: string, ctx: Context, action: Action): Resource => {
  const resource: Obj = { resourceType };
  const { seed, region, accountId } = ctx;
  switch (resourceType) {
    case 'Instance': {
      const details = instanceDetails(ctx);
      resource['instanceDetails'] = details;
      if (action === 'MALWARE_EBS') resource['ebsVolumeDetails'] = ebsVolumeDetails(ctx);
      return { resource, label: `EC2 instance ${String(details['instanceId'])}` };
    }
    case 'AccessKey': {
      const details = accessKeyDetails(ctx);
      resource['accessKeyDetails'] = details;
      return { resource, label: `${String(details['userType'])} ${String(details['userName'])} (access key ${String(details['accessKeyId'])})` };
    }
    case 'S3Bucket':
    case 'S3Object': {
      const buckets = s3BucketDetails(ctx, resourceType === 'S3Object');
      resource['s3BucketDetails'] = buckets;
      resource['accessKeyDetails'] = accessKeyDetails(ctx);
      const bucket = buckets[0] as Obj;
      const object = (bucket['s3ObjectDetails'] as Obj[] | undefined)?.[0];
      return { resource, label: object ? `S3 object ${String(object['key'])} in bucket ${String(bucket['name'])}` : `S3 bucket ${String(bucket['name'])}` };
    }
    case 'EKSCluster': {
      const details = eksClusterDetails(ctx);
      resource['eksClusterDetails'] = details;
      resource['kubernetesDetails'] = kubernetesDetails(ctx);
      if (action === 'MALWARE_EBS') resource['ebsVolumeDetails'] = ebsVolumeDetails(ctx);
      return { resource, label: `EKS cluster ${String(details['name'])}` };
    }
    case 'ECSCluster': {
      const details = ecsClusterDetails(ctx);
      resource['ecsClusterDetails'] = details;
      if (action === 'MALWARE_EBS') resource['ebsVolumeDetails'] = ebsVolumeDetails(ctx);
      return { resource, label: `ECS cluster ${String(details['name'])}` };
    }
    case 'Container': {
      const details = containerDetails(ctx);
      resource['containerDetails'] = details;
      resource['eksClusterDetails'] = eksClusterDetails(ctx);
      if (action === 'MALWARE_EBS') resource['ebsVolumeDetails'] = ebsVolumeDetails(ctx);
      return { resource, label: `container ${String(details['name'])} (${String(details['image'])})` };
    }
    case 'Lambda': {
      const details = lambdaDetails(ctx);
      resource['lambdaDetails'] = details;
      return { resource, label: `Lambda function ${String(details['functionName'])}` };
    }
    case 'RDSDBInstance': {
      const details = rdsDbInstanceDetails(ctx);
      resource['rdsDbInstanceDetails'] = details;
      resource['rdsDbUserDetails'] = rdsDbUserDetails(ctx);
      return { resource, label: `RDS DB instance ${String(details['dbInstanceIdentifier'])}` };
    }
    case 'RDSLimitlessDB': {
      const details = rdsLimitlessDbDetails(ctx);
      resource['rdsLimitlessDbDetails'] = details;
      resource['rdsDbUserDetails'] = rdsDbUserDetails(ctx);
      return { resource, label: `Aurora Limitless shard group ${String(details['dbShardGroupIdentifier'])}` };
    }
    case 'EBSSnapshot': {
      const snapshotArn = `arn:aws:ec2:${region}:${accountId}:snapshot/snap-0${seed.hex('snapshot').slice(0, 16)}`;
      resource['ebsSnapshotDetails'] = { snapshotArn };
      return { resource, label: `EBS snapshot ${snapshotArn.split('/').pop() ?? ''}` };
    }
    case 'EC2Image': {
      const imageArn = `arn:aws:ec2:${region}::image/ami-0${seed.hex('image').slice(0, 16)}`;
      resource['ec2ImageDetails'] = { imageArn };
      return { resource, label: `EC2 AMI ${imageArn.split('/').pop() ?? ''}` };
    }
    case 'RecoveryPoint': {
      const backupVaultName = `${ctx.name}-vault`;
      const recoveryPointArn = `arn:aws:backup:${region}:${accountId}:recovery-point:${uuidFrom(seed.hex('recoveryPoint'))}`;
      resource['recoveryPointDetails'] = { recoveryPointArn, backupVaultName };
      return { resource, label: `backup recovery point in vault ${backupVaultName}` };
    }
    default:
      return { resource, label: `${resourceType} resource` };
  }
};

// ---------------------------------------------------------------------------------------
// Actions and service-level details
// ---------------------------------------------------------------------------------------

const PORTS: [number, string][] = [
  [22, 'SSH'],
  [80, 'HTTP'],
  [443, 'HTTPS'],
  [3389, 'RDP'],
  [5432, 'POSTGRESQL'],
  [6379, 'REDIS'],
  [8080, 'HTTP'],
];

const portDetails = (seed: Seed, salt: string): Obj => {
  const [port, portName] = seed.pick(salt, PORTS);
  return { port, portName };
};

const apiCallFor = (type: string, seed: Seed, s3Data: boolean): { api: string; serviceName: string } => {
  const rules: [RegExp, string, string][] = [
    [/ModelInvocation|CostHarvesting|PromptInjection/, 'InvokeModel', 'bedrock.amazonaws.com'],
    [/SageMaker/, 'CreatePresignedNotebookInstanceUrl', 'sagemaker.amazonaws.com'],
    [/SES\//, 'UpdateAccountSendingEnabled', 'ses.amazonaws.com'],
    [/Organizations\//, 'LeaveOrganization', 'organizations.amazonaws.com'],
    [/Route53Resolver\//, 'DeleteResolverQueryLogConfig', 'route53resolver.amazonaws.com'],
    [/RolesAnywhere\//, 'CreateTrustAnchor', 'rolesanywhere.amazonaws.com'],
    [/RDS\//, 'ModifyDBCluster', 'rds.amazonaws.com'],
    [/Lambda\//, 'UpdateFunctionConfiguration', 'lambda.amazonaws.com'],
    [/^Stealth:.*CloudTrailLoggingDisabled/, 'StopLogging', 'cloudtrail.amazonaws.com'],
    [/^Stealth:.*S3ServerAccessLoggingDisabled/, 'PutBucketLogging', 's3.amazonaws.com'],
    [/PasswordPolicyChange/, 'UpdateAccountPasswordPolicy', 'iam.amazonaws.com'],
    [/^Policy:S3|BlockPublicAccess|Permissions|Public/, 'PutBucketPublicAccessBlock', 's3.amazonaws.com'],
    [/^Exfiltration:S3|^Discovery:S3/, s3Data ? 'GetObject' : 'ListObjects', 's3.amazonaws.com'],
    [/^Impact:S3/, 'DeleteObject', 's3.amazonaws.com'],
    [/ConsoleLogin|ValidAccounts|^InitialAccess/, 'ConsoleLogin', 'signin.amazonaws.com'],
    [/^CredentialAccess/, 'GetSecretValue', 'secretsmanager.amazonaws.com'],
    [/^Persistence/, 'CreateAccessKey', 'iam.amazonaws.com'],
    [/^PrivilegeEscalation/, 'AttachUserPolicy', 'iam.amazonaws.com'],
    [/^DefenseImpairment|^DefenseEvasion|^Stealth/, 'DeleteDetector', 'guardduty.amazonaws.com'],
    [/EC2\//, 'RunInstances', 'ec2.amazonaws.com'],
  ];
  const hit = rules.find(([pattern]) => pattern.test(type));
  if (hit) return { api: hit[1], serviceName: hit[2] };
  if (s3Data) return seed.pick('api', [{ api: 'GetObject', serviceName: 's3.amazonaws.com' }, { api: 'ListObjects', serviceName: 's3.amazonaws.com' }]);
  return seed.pick('api', [
    { api: 'ListBuckets', serviceName: 's3.amazonaws.com' },
    { api: 'DescribeInstances', serviceName: 'ec2.amazonaws.com' },
    { api: 'GetCallerIdentity', serviceName: 'sts.amazonaws.com' },
    { api: 'ListUsers', serviceName: 'iam.amazonaws.com' },
  ]);
};

const USER_AGENTS = [
  'aws-cli/2.17.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64',
  'Boto3/1.34.100 md/Botocore#1.34.100 ua/2.0 os/linux#5.10 lang/python#3.12.3',
  'aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22.4',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
];

const kubernetesCallFor = (type: string, seed: Seed): { requestUri: string; verb: string } => {
  const rules: [RegExp, string, string][] = [
    [/Exec|ExecInKubeSystemPod/, '/api/v1/namespaces/kube-system/pods/coredns-7d9f/exec?command=sh&container=coredns&stdin=true&tty=true', 'create'],
    [/Secret|Credential/, '/api/v1/namespaces/default/secrets', 'list'],
    [/ClusterRole|RoleBinding|PrivilegeEscalation/, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', 'create'],
    [/WorkloadDeployed|Container|Pod/, '/api/v1/namespaces/default/pods', 'create'],
    [/Discovery|Permission/, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 'create'],
  ];
  const hit = rules.find(([pattern]) => pattern.test(type));
  if (hit) return { requestUri: hit[1], verb: hit[2] };
  return seed.pick('k8sCall', [
    { requestUri: '/api/v1/namespaces/default/pods', verb: 'list' },
    { requestUri: '/api/v1/nodes', verb: 'get' },
    { requestUri: '/apis/apps/v1/namespaces/default/deployments', verb: 'create' },
  ]);
};

const DOMAINS = ['c2.malicious.example', 'pool.miner.example', 'dga-xkq2f9.example', 'blackhole.example.net', 'drop.example.org', 'login-verify.example.com'];

const buildAction = (kind: Action, ctx: Context, row: Row, actor: boolean): Obj | undefined => {
  const { seed, type } = ctx;
  switch (kind) {
    case 'NETWORK_CONNECTION': {
      const outbound = actor || /Tor|MaliciousIPCaller|Lambda/.test(type);
      return {
        actionType: 'NETWORK_CONNECTION',
        networkConnectionAction: {
          blocked: false,
          connectionDirection: outbound ? 'OUTBOUND' : 'INBOUND',
          localPortDetails: outbound ? { port: seed.range('ephemeral', 32768, 60999), portName: 'Unknown' } : portDetails(seed, 'localPort'),
          remotePortDetails: outbound ? portDetails(seed, 'remotePort') : { port: seed.range('ephemeral', 32768, 60999), portName: 'Unknown' },
          protocol: /Udp/.test(type) ? 'UDP' : 'TCP',
          localIpDetails: { ipAddressV4: ctx.privateIp },
          remoteIpDetails: remoteIpDetails(seed),
        },
      };
    }
    case 'PORT_PROBE':
      return {
        actionType: 'PORT_PROBE',
        portProbeAction: {
          blocked: false,
          portProbeDetails: [0, 1].slice(0, seed.range('probes', 1, 2)).map((i) => ({
            localPortDetails: portDetails(seed, `probePort${i}`),
            localIpDetails: { ipAddressV4: ctx.privateIp },
            remoteIpDetails: remoteIpDetails(seed, `probe${i}`),
          })),
        },
      };
    case 'DNS_REQUEST':
      return {
        actionType: 'DNS_REQUEST',
        dnsRequestAction: { domain: seed.pick('domain', DOMAINS), protocol: 'UDP', blocked: false },
      };
    case 'AWS_API_CALL': {
      const s3Data = /data events for S3/i.test(row.data_source_or_feature) && !/management events or/i.test(row.data_source_or_feature);
      const { api, serviceName } = apiCallFor(type, seed, s3Data);
      const call: Obj = { api, serviceName, callerType: 'Remote IP' };
      if (seed.int('errorCode') % 6 === 0) call['errorCode'] = 'AccessDenied';
      call['userAgent'] = seed.pick('userAgent', USER_AGENTS);
      call['remoteIpDetails'] = remoteIpDetails(seed);
      call['affectedResources'] = serviceName === 's3.amazonaws.com' ? { 'AWS::S3::Bucket': `${ctx.name}-${seed.hex('bucket').slice(0, 8)}` } : {};
      return { actionType: 'AWS_API_CALL', awsApiCallAction: call };
    }
    case 'KUBERNETES_API_CALL': {
      const remote = remoteIpDetails(seed);
      return {
        actionType: 'KUBERNETES_API_CALL',
        kubernetesApiCallAction: {
          ...kubernetesCallFor(type, seed),
          sourceIPs: [String(remote['ipAddressV4'])],
          userAgent: seed.pick('kubectl', ['kubectl/v1.30.2 (linux/amd64) kubernetes/39683505', 'python-requests/2.32.3', 'Go-http-client/1.1']),
          remoteIpDetails: remote,
          statusCode: 200,
        },
      };
    }
    case 'RDS_LOGIN_ATTEMPT': {
      const success = /Successful/i.test(type);
      const user = rdsDbUserDetails(ctx);
      return {
        actionType: 'RDS_LOGIN_ATTEMPT',
        rdsLoginAttemptAction: {
          remoteIpDetails: remoteIpDetails(seed),
          // Capital L: documented quirk of the RDS login attempt action.
          LoginAttributes: [
            {
              user: user['user'] ?? null,
              application: user['application'] ?? null,
              failedLoginAttempts: seed.range('failed', success ? 0 : 20, success ? 5 : 400),
              successfulLoginAttempts: success ? seed.range('succeeded', 1, 3) : 0,
            },
          ],
        },
      };
    }
    default:
      return undefined;
  }
};

const runtimeDetails = (ctx: Context): Obj => {
  const { seed, type, createdMs } = ctx;
  const [name, executablePath] = seed.pick('process', [
    ['xmrig', '/tmp/.x/xmrig'],
    ['python3', '/usr/bin/python3.12'],
    ['bash', '/usr/bin/bash'],
    ['curl', '/usr/bin/curl'],
    ['kworkerds', '/var/tmp/kworkerds'],
  ] as const);
  const userId = seed.pick('uid', [0, 1000, 33]);
  const user = userId === 0 ? 'root' : userId === 33 ? 'www-data' : 'ec2-user';
  const processUuid = uuidFrom(seed.hex('processUuid'));
  const parentUuid = uuidFrom(seed.hex('parentUuid'));
  const startTime = iso(createdMs - seed.range('procAge', 5, 3600) * 1000);
  const context: Obj = /Container|Mount|Escape/i.test(type)
    ? { mountSource: '/', mountTarget: '/host', fileSystemType: 'ext4', flags: 'MS_BIND' }
    : /ReverseShell|C&C|Bitcoin|Tor|Blackhole|DropPoint|DGA|Phishing|DriveBy|Malicious/i.test(type)
      ? { addressFamily: 'AF_INET', ianaProtocolNumber: 6, commandLineExample: `${executablePath} --connect` }
      : { modifyingProcess: { name: 'bash', executablePath: '/usr/bin/bash', pid: seed.range('modPid', 100, 9000) }, scriptPath: '/tmp/run.sh' };
  return {
    process: {
      name,
      executablePath,
      executableSha256: seed.hex('executable'),
      pid: seed.range('pid', 1000, 65000),
      startTime,
      uuid: processUuid,
      parentUuid,
      user,
      userId,
      euid: userId,
      lineage: [
        { pid: seed.range('ppid', 100, 999), uuid: parentUuid, executablePath: '/usr/bin/bash', euid: userId, parentUuid: uuidFrom(seed.hex('grandparent')), startTime, userId, name: 'bash' },
        { pid: 1, uuid: uuidFrom(seed.hex('init')), executablePath: '/usr/lib/systemd/systemd', euid: 0, startTime: iso(createdMs - 30 * DAY_MS), userId: 0, name: 'systemd' },
      ],
    },
    context,
  };
};

const threatSpec = (seed: Seed, type: string): { threatName: string; filePath: string; fileName: string } => {
  const threatName = seed.pick('threat', ['EICAR-Test-File (not a virus)', 'Trojan.Linux.Mirai', 'Win32.Emotet.Gen', 'Linux.Miner.XMRig']);
  const fileName = seed.pick('fileName', ['eicar.com', 'update.sh', 'svchost.exe', 'kworker']);
  const dir = /Container|Kubernetes|ECS/.test(type) ? '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/12/fs/tmp' : '/tmp';
  return { threatName, fileName, filePath: `${dir}/${fileName}` };
};

const ebsVolumeScanDetails = (ctx: Context, findingId: string, createdMs: number): Obj => {
  const { seed, type } = ctx;
  const threat = threatSpec(seed, type);
  const suspicious = /SuspiciousFile/.test(type);
  return {
    scanId: seed.hex('scanId').slice(0, 32),
    scanStartedAt: createdMs - seed.range('scanDuration', 60, 900) * 1000,
    scanCompletedAt: createdMs,
    triggerFindingId: seed.hex('trigger').slice(0, 32),
    sources: ['Bitdefender', 'Amazon'],
    scanDetections: {
      scannedItemCount: { totalGb: seed.range('totalGb', 2, 80), files: seed.range('files', 1000, 90000), volumes: 1 },
      threatsDetectedItemCount: { files: 1 },
      highestSeverityThreatDetails: { severity: suspicious ? 'MEDIUM' : 'HIGH', threatName: threat.threatName, count: 1 },
      threatDetectedByName: {
        itemCount: 1,
        uniqueThreatNameCount: 1,
        shortened: false,
        threatNames: [
          {
            name: threat.threatName,
            severity: suspicious ? 'MEDIUM' : 'HIGH',
            itemCount: 1,
            filePaths: [{ filePath: threat.filePath, volumeArn: volumeArn(ctx), hash: seed.hex('fileHash'), fileName: threat.fileName }],
          },
        ],
      },
    },
    scanType: seed.pick('scanType', ['GUARDDUTY_INITIATED', 'ON_DEMAND']),
    findingId,
  };
};

const malwareScanDetails = (ctx: Context): Obj => {
  const { seed, type } = ctx;
  const threat = threatSpec(seed, type);
  return {
    threats: [
      {
        name: threat.threatName,
        source: seed.pick('threatSource', ['Bitdefender', 'Amazon']),
        itemPaths: [{ nestedItemPath: threat.filePath, hash: seed.hex('fileHash') }],
      },
    ],
    scanId: seed.hex('scanId').slice(0, 32),
    scanType: /RecoveryPoint|Snapshot|AMI/.test(type) ? 'ON_DEMAND' : 'GUARDDUTY_INITIATED',
  };
};

const TACTICS: Record<string, string[]> = {
  EC2: ['DISCOVERY', 'EXECUTION', 'COMMAND_AND_CONTROL', 'IMPACT'],
  ECS: ['EXECUTION', 'PERSISTENCE', 'IMPACT'],
  EKS: ['INITIAL_ACCESS', 'PRIVILEGE_ESCALATION', 'CREDENTIAL_ACCESS', 'IMPACT'],
  IAM: ['DISCOVERY', 'DEFENSE_EVASION', 'PERSISTENCE', 'PRIVILEGE_ESCALATION'],
  S3: ['DISCOVERY', 'DEFENSE_EVASION', 'EXFILTRATION', 'IMPACT'],
};
const SIGNAL_TYPES: Record<string, string[]> = {
  EC2: ['Discovery:IAMUser/AnomalousBehavior', 'Execution:Runtime/NewBinaryExecuted', 'Backdoor:EC2/C&CActivity.B'],
  ECS: ['Execution:Runtime/NewBinaryExecuted', 'CryptoCurrency:Runtime/BitcoinTool.B', 'Impact:Runtime/CryptoMinerExecuted'],
  EKS: ['Policy:Kubernetes/AnonymousAccessGranted', 'PrivilegeEscalation:Kubernetes/PrivilegedContainer', 'CredentialAccess:Kubernetes/SuccessfulAnonymousAccess'],
  IAM: ['Discovery:IAMUser/AnomalousBehavior', 'Stealth:IAMUser/CloudTrailLoggingDisabled', 'Persistence:IAMUser/AnomalousBehavior'],
  S3: ['Discovery:S3/AnomalousBehavior', 'Stealth:S3/ServerAccessLoggingDisabled', 'Exfiltration:S3/AnomalousBehavior'],
};

const attackSequence = (ctx: Context, resourceType: string, label: string, firstSeen: number, lastSeen: number): Obj => {
  const { seed, type, region, accountId } = ctx;
  const family = (type.split(':')[1] ?? 'EC2').split('/')[0] ?? 'EC2';
  const remote = remoteIpDetails(seed, 'endpoint');
  const geo = remote['geoLocation'] as Obj;
  const org = remote['organization'] as Obj;
  const actorUid = `arn:aws:sts::${accountId}:assumed-role/${ctx.name}-role/session-${seed.hex('session').slice(0, 8)}`;
  const signalTypes = SIGNAL_TYPES[family] ?? SIGNAL_TYPES['EC2']!;
  const span = Math.max(lastSeen - firstSeen, signalTypes.length);
  return {
    sequence: {
      uid: `arn:aws:guardduty:${region}:${accountId}:sequence/${seed.hex('sequence').slice(0, 32)}`,
      description: `A sequence of ${signalTypes.length} related signals indicates a possible compromise of ${label}.`,
      actors: [{ id: actorUid, session: { uid: seed.hex('sessionUid').slice(0, 20), mfaStatus: 'DISABLED', createdTime: firstSeen, issuer: `arn:aws:iam::${accountId}:role/${ctx.name}-role` } }],
      resources: [
        {
          uid: `${resourceType}:${ctx.name}`,
          name: ctx.name,
          accountId,
          resourceType,
          region,
          service: family,
          cloudPartition: 'aws',
          tags: tags(seed, 'sequence'),
        },
      ],
      endpoints: [
        {
          id: String(remote['ipAddressV4']),
          ip: String(remote['ipAddressV4']),
          location: { city: (remote['city'] as Obj)['cityName'] ?? null, country: (remote['country'] as Obj)['countryName'] ?? null, lat: geo['lat'] ?? null, lon: geo['lon'] ?? null },
          autonomousSystem: { name: org['asnOrg'] ?? null, number: Number(org['asn']) },
          connection: { direction: 'OUTBOUND' },
        },
      ],
      signals: signalTypes.map((signalType, i) => {
        const first = firstSeen + Math.floor((span * i) / signalTypes.length);
        const last = firstSeen + Math.floor((span * (i + 1)) / signalTypes.length);
        return {
          uid: `arn:aws:guardduty:${region}:${accountId}:detector/${DETECTOR_ID}/finding/${sha256(`${type}\u0000signal${i}`).slice(0, 32)}`,
          type: 'FINDING',
          name: signalType,
          createdAt: first,
          updatedAt: last,
          firstSeenAt: first,
          lastSeenAt: last,
          severity: 5 + i,
          count: seed.range(`signalCount${i}`, 1, 12),
          resourceIds: [`${resourceType}:${ctx.name}`],
          actorIds: [actorUid],
          endpointIds: [String(remote['ipAddressV4'])],
        };
      }),
      sequenceIndicators: [
        { key: 'ATTACK_TACTIC', values: TACTICS[family] ?? TACTICS['EC2']! },
        { key: 'HIGH_RISK_API', values: ['s3:DeleteObject', 'iam:CreateAccessKey', 'cloudtrail:StopLogging'].slice(0, seed.range('apis', 1, 3)) },
      ],
    },
  };
};

// ---------------------------------------------------------------------------------------
// The sample
// ---------------------------------------------------------------------------------------

const DETECTOR_ID = sha256('detector').slice(0, 32);
const NAMES = ['orders', 'billing', 'analytics', 'web', 'inventory', 'auth', 'media', 'reports'];

const buildSample = (row: Row): Obj => {
  const { type } = row;
  const seed = seeded(type);
  const id = seed.hex('').slice(0, 32);
  const accountId = ACCOUNTS[seed.int('account') % ACCOUNTS.length]!;
  const region = REGIONS[seed.int('region') % REGIONS.length]!;
  const createdMs = YEAR_START_MS + (seed.int('created') % (330 * DAY_MS));
  const updatedMs = createdMs + (seed.int('updated') % (3 * DAY_MS));
  const firstSeenMs = createdMs - (seed.int('firstSeen') % DAY_MS);
  const lastSeenMs = firstSeenMs + (seed.int('lastSeen') % (updatedMs - firstSeenMs + 1));

  const ctx: Context = {
    seed,
    type,
    region,
    accountId,
    createdMs,
    vpcId: `vpc-0${seed.hex('vpc').slice(0, 16)}`,
    subnetId: `subnet-0${seed.hex('subnet').slice(0, 16)}`,
    securityGroupId: `sg-0${seed.hex('sg').slice(0, 16)}`,
    privateIp: `10.0.${seed.range('ip3', 0, 255)}.${seed.range('ip4', 4, 254)}`,
    name: `${seed.pick('name', NAMES)}-${seed.pick('env', ['prod', 'dev'])}`,
  };

  const resourceType = resolveResourceType(row, seed);
  const kind = classify(row);
  const actor = isActorType(type);
  const { resource, label } = buildResource(resourceType, ctx, kind);

  const service: Obj = {
    serviceName: 'guardduty',
    detectorId: DETECTOR_ID,
  };
  // Runtime Monitoring DNS findings carry the DNS request as well as runtimeDetails.
  const actionKind: Action = kind === 'RUNTIME' && type.endsWith('!DNS') ? 'DNS_REQUEST' : kind;
  const action = buildAction(actionKind, ctx, row, actor);
  if (action) service['action'] = action;
  Object.assign(service, {
    archived: seed.int('archived') % 20 === 0,
    count: seed.range('count', 1, 20),
    eventFirstSeen: iso(firstSeenMs),
    eventLastSeen: iso(lastSeenMs),
    resourceRole: actor ? 'ACTOR' : 'TARGET',
    additionalInfo: { sample: true, type: 'default' },
    featureName: featureNameFor(row),
  });
  if (kind === 'RUNTIME') service['runtimeDetails'] = runtimeDetails(ctx);
  if (kind === 'MALWARE_EBS') service['ebsVolumeScanDetails'] = ebsVolumeScanDetails(ctx, id, createdMs);
  if (kind === 'MALWARE_SCAN') service['malwareScanDetails'] = malwareScanDetails(ctx);
  if (kind === 'ATTACK_SEQUENCE') service['detection'] = attackSequence(ctx, resourceType, label, firstSeenMs, lastSeenMs);

  const threat = threatName(type);
  const detail: Obj = {
    schemaVersion: '2.0',
    accountId,
    region,
    partition: 'aws',
    id,
    arn: `arn:aws:guardduty:${region}:${accountId}:detector/${DETECTOR_ID}/finding/${id}`,
    type,
    resource,
    service,
    severity: severityFor(row, seed),
    createdAt: iso(createdMs),
    updatedAt: iso(updatedMs),
    title: `${threat} detected involving ${label}.`,
    description: `GuardDuty reported ${type} for ${label} in account ${accountId} (${region}). This is a generated sample finding.`,
  };

  return {
    version: '0',
    id: uuidFrom(seed.hex('event')),
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: '999999999999',
    time: isoSeconds(updatedMs),
    region,
    resources: [],
    detail,
  };
};

const serialize = (event: unknown): string => `${JSON.stringify(event, null, 2)}\n`;

/** Builds every sample, keyed by file name; throws on a slug collision. */
const buildCorpus = (rows: readonly Row[]): Map<string, string> => {
  const files = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const row of rows) {
    const slug = slugFor(row.type);
    if (slug === '') throw new Error(`generate-samples: empty slug for type ${JSON.stringify(row.type)}`);
    const previous = owners.get(slug);
    if (previous !== undefined) throw new Error(`generate-samples: slug "${slug}" is shared by ${previous} and ${row.type}`);
    owners.set(slug, row.type);
    files.set(`${slug}.json`, serialize(buildSample(row)));
  }
  return files;
};

const main = (argv: readonly string[]): void => {
  const outDir = argv[0] ? resolve(argv[0]) : DEFAULT_OUT_DIR;
  const rows = readRows();
  const files = buildCorpus(rows);
  mkdirSync(outDir, { recursive: true });
  let removed = 0;
  for (const file of readdirSync(outDir)) {
    if (file.endsWith('.json') && !files.has(file)) {
      rmSync(join(outDir, file));
      removed++;
    }
  }
  for (const [file, text] of files) writeFileSync(join(outDir, file), text);
  console.log(`generate-samples: wrote ${files.size} samples to ${outDir}${removed ? `, removed ${removed} stale` : ''}`);
};

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}

export { buildSample, buildCorpus, slugFor, parseTsv, readRows, serialize, resolveResourceType, classify, TSV_URL };
export type { Row };
