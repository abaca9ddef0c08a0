import { isIP } from 'node:net';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { RemoteIp, Resource } from '../../schemas/finding.ts';
import type { SeverityLabel } from '../severity.ts';
import { timestampMs as findingTimestampMs } from '../targets/siem-json.ts';
import { truncate } from '../text.ts';

/**
 * An enriched GuardDuty finding as an OCSF 1.1.0 Detection Finding (class 2004, category 2
 * Findings). Pure: the same finding always gives the same document.
 *
 * Mapping (OCSF 1.1.0 base event, `finding` and `detection_finding`, cloud profile):
 * - activity_id 1 Create for the first occurrence (`service.count` ≤ 1), 2 Update after;
 *   type_uid = class_uid × 100 + activity_id.
 * - severity_id 2 Low, 3 Medium, 4 High, 5 Critical from the GuardDuty band (OCSF: 0 Unknown,
 *   1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal, 99 Other).
 * - status_id 1 New, or 3 Suppressed when GuardDuty archived the finding.
 * - time = updatedAt (this version of the finding), start/end_time = event first/last seen.
 * - Timestamps are epoch milliseconds (OCSF timestamp_t), whatever form GuardDuty sent (epoch
 *   seconds, milliseconds or ISO string), read as the ECS rendering reads them (siem-json.ts).
 * - Every string fits OCSF string_t (at most 65,535 UTF-8 bytes): a longer one (a description,
 *   a title, a tag) is cut with the truncation marker. No attribute of this class uses a
 *   narrower type (ip_t 40, resource_uid_t 64 are not used; IPs are validated, ≤ 39 characters).
 *
 * @see https://schema.ocsf.io/1.1.0/classes/detection_finding
 */
const OCSF_VERSION = '1.1.0';
const CLASS_UID = 2004;
const CATEGORY_UID = 2;

const SEVERITY_IDS: Record<SeverityLabel, { id: 2 | 3 | 4 | 5; name: string }> = {
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
};

interface OcsfResource {
  type: string;
  uid?: string;
  name?: string;
  region?: string;
  cloud_partition?: string;
  labels?: string[];
}

interface OcsfObservable {
  name: string;
  type: string;
  type_id: number;
  value: string;
}

interface OcsfDetectionFinding {
  activity_id: 1 | 2;
  activity_name: 'Create' | 'Update';
  category_uid: typeof CATEGORY_UID;
  category_name: 'Findings';
  class_uid: typeof CLASS_UID;
  class_name: 'Detection Finding';
  type_uid: number;
  type_name: string;
  severity_id: 2 | 3 | 4 | 5;
  severity: string;
  status_id: 1 | 3;
  status: 'New' | 'Suppressed';
  time: number;
  start_time?: number;
  end_time?: number;
  count: number;
  message: string;
  finding_info: {
    uid: string;
    title: string;
    desc?: string;
    types: string[];
    created_time?: number;
    modified_time?: number;
    first_seen_time?: number;
    last_seen_time?: number;
    src_url: string;
  };
  cloud: {
    provider: 'AWS';
    region: string;
    account: { uid: string; name?: string; type: 'AWS Account'; type_id: 10 };
  };
  resources: OcsfResource[];
  observables?: OcsfObservable[];
  metadata: {
    version: typeof OCSF_VERSION;
    product: { name: 'GuardDuty'; vendor_name: 'AWS' };
    profiles: ['cloud'];
  };
  unmapped: {
    finding_id: string;
    severity_score: number;
    severity_label: SeverityLabel;
    resource_summary: string;
    sample: boolean;
    archived: boolean;
    account_ou?: string;
    feature_name?: string;
  };
}

/**
 * A GuardDuty timestamp (ISO string, or epoch seconds or milliseconds as a number) in epoch
 * milliseconds; undefined when absent, unparseable or before 1970.
 */
const timestampMs = (value: string | number | undefined): number | undefined => {
  const ms = findingTimestampMs(value);
  return ms === undefined || ms < 0 ? undefined : Math.round(ms);
};

/** OCSF string_t: "UTF-8 encoded byte sequence", max_len 65535 (OCSF dictionary, types). */
const OCSF_STRING_MAX_BYTES = 65_535;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** `text` cut (with the truncation marker) to the most UTF-16 units whose UTF-8 form fits `maxBytes`. */
const truncateUtf8 = (text: string, maxBytes: number): string => {
  if (utf8Bytes(text) <= maxBytes) return text;
  let low = 0;
  let high = Math.min(text.length, maxBytes);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (utf8Bytes(truncate(text, mid)) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  return truncate(text, low);
};

/** Every string in `value` within OCSF string_t's limit (keys are ours, never long). */
const limitStrings = <T>(value: T): T => {
  if (typeof value === 'string') return truncateUtf8(value, OCSF_STRING_MAX_BYTES) as T;
  if (Array.isArray(value)) return value.map(limitStrings) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, limitStrings(item)])) as T;
  }
  return value;
};

const defined = <T extends object>(object: T): T =>
  Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== '')) as T;

type Tags = readonly { key?: string | undefined; value?: string | null | undefined }[] | undefined;

/** `key:value` labels from one resource's own tags. */
const labelsOf = (tags: Tags): string[] | undefined => {
  const labels = (tags ?? []).filter((tag) => tag.key !== undefined).map((tag) => `${tag.key}:${tag.value ?? ''}`);
  return labels.length > 0 ? labels : undefined;
};

/** One OCSF resource per affected AWS resource, with the most specific identifier GuardDuty gives and its own tags. */
const ocsfResources = (resource: Resource, region: string, partition: string | undefined): OcsfResource[] => {
  const results: OcsfResource[] = [];
  const add = (type: string, uid: string | undefined, name: string | undefined, tags?: Tags): void => {
    results.push(defined({ type, uid, name, region, cloud_partition: partition, labels: labelsOf(tags) }));
  };
  const i = resource.instanceDetails;
  if (i?.instanceId) add('AwsEc2Instance', i.instanceId, i.instanceId, i.tags);
  const k = resource.accessKeyDetails;
  if (k?.accessKeyId || k?.userName) add('AwsIamAccessKey', k.accessKeyId, k.userName);
  for (const bucket of resource.s3BucketDetails ?? []) add('AwsS3Bucket', bucket.arn ?? bucket.name, bucket.name, bucket.tags);
  const eks = resource.eksClusterDetails;
  if (eks?.name || eks?.arn) add('AwsEksCluster', eks.arn ?? eks.name, eks.name, eks.tags);
  const ecs = resource.ecsClusterDetails;
  if (ecs?.name || ecs?.arn) add('AwsEcsCluster', ecs.arn ?? ecs.name, ecs.name, ecs.tags);
  const container = resource.containerDetails;
  if (container?.id || container?.name) add('Container', container.id, container.name ?? container.image);
  const l = resource.lambdaDetails;
  if (l?.functionArn || l?.functionName) add('AwsLambdaFunction', l.functionArn ?? l.functionName, l.functionName, l.tags);
  const r = resource.rdsDbInstanceDetails;
  if (r?.dbInstanceArn || r?.dbInstanceIdentifier) add('AwsRdsDbInstance', r.dbInstanceArn ?? r.dbInstanceIdentifier, r.dbInstanceIdentifier, r.tags);
  const s = resource.rdsLimitlessDbDetails;
  if (s?.dbShardGroupArn || s?.dbShardGroupIdentifier) add('AwsRdsDbShardGroup', s.dbShardGroupArn ?? s.dbShardGroupIdentifier, s.dbShardGroupIdentifier, s.tags);
  for (const volume of resource.ebsVolumeDetails?.scannedVolumeDetails ?? []) {
    if (volume.volumeArn) add('AwsEc2Volume', volume.volumeArn, undefined);
  }
  if (resource.ebsSnapshotDetails?.snapshotArn) add('AwsEc2Snapshot', resource.ebsSnapshotDetails.snapshotArn, undefined);
  if (resource.ec2ImageDetails?.imageArn) add('AwsEc2Image', resource.ec2ImageDetails.imageArn, undefined);
  const point = resource.recoveryPointDetails;
  if (point?.recoveryPointArn) add('AwsBackupRecoveryPoint', point.recoveryPointArn, point.backupVaultName);
  for (const model of resource.modelDetails ?? []) {
    if (model.modelId) add('AwsBedrockModel', model.modelId, model.modelId);
  }
  if (results.length === 0) add(resource.resourceType ?? 'Unknown', undefined, undefined);
  return results;
};

/** Every remote IP address GuardDuty reports on the action, deduplicated, in order. */
const remoteIps = (enriched: EnrichedFinding): string[] => {
  const action = enriched.finding.service?.action;
  const details: (RemoteIp | undefined)[] = [
    action?.networkConnectionAction?.remoteIpDetails,
    action?.awsApiCallAction?.remoteIpDetails,
    action?.kubernetesApiCallAction?.remoteIpDetails,
    action?.rdsLoginAttemptAction?.remoteIpDetails,
    ...(action?.portProbeAction?.portProbeDetails ?? []).map((probe) => probe.remoteIpDetails),
  ];
  const ips = details.flatMap((d) => [d?.ipAddressV4, d?.ipAddressV6]).filter((ip): ip is string => ip !== undefined && isIP(ip) !== 0);
  return [...new Set(ips)];
};

const toOcsf = (enriched: EnrichedFinding): OcsfDetectionFinding => limitStrings(buildOcsf(enriched));

const buildOcsf = (enriched: EnrichedFinding): OcsfDetectionFinding => {
  const { finding, enrichment: e } = enriched;
  const activity = e.count <= 1 ? ({ id: 1, name: 'Create' } as const) : ({ id: 2, name: 'Update' } as const);
  const severity = SEVERITY_IDS[e.severityLabel];
  const created = timestampMs(finding.createdAt);
  const updated = timestampMs(finding.updatedAt);
  const firstSeen = timestampMs(finding.service?.eventFirstSeen);
  const lastSeen = timestampMs(finding.service?.eventLastSeen);
  const title = finding.title || finding.type;
  const observables = remoteIps(enriched).map((value) => ({ name: 'remote_ip', type: 'IP Address', type_id: 2, value }));
  return {
    activity_id: activity.id,
    activity_name: activity.name,
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    class_uid: CLASS_UID,
    class_name: 'Detection Finding',
    type_uid: CLASS_UID * 100 + activity.id,
    type_name: `Detection Finding: ${activity.name}`,
    severity_id: severity.id,
    severity: severity.name,
    status_id: e.archived ? 3 : 1,
    status: e.archived ? 'Suppressed' : 'New',
    time: updated ?? created ?? 0,
    ...defined({ start_time: firstSeen, end_time: lastSeen }),
    count: e.count,
    message: title,
    finding_info: defined({
      uid: finding.arn,
      title,
      desc: finding.description,
      types: [finding.type],
      created_time: created,
      modified_time: updated,
      first_seen_time: firstSeen,
      last_seen_time: lastSeen,
      src_url: e.consoleUrl,
    }),
    cloud: {
      provider: 'AWS',
      region: finding.region,
      account: defined({ uid: finding.accountId, name: e.account.name, type: 'AWS Account' as const, type_id: 10 as const }),
    },
    resources: ocsfResources(finding.resource, finding.region, finding.partition),
    ...(observables.length > 0 ? { observables } : {}),
    metadata: { version: OCSF_VERSION, product: { name: 'GuardDuty', vendor_name: 'AWS' }, profiles: ['cloud'] },
    unmapped: defined({
      finding_id: finding.id,
      severity_score: finding.severity,
      severity_label: e.severityLabel,
      resource_summary: e.resourceSummary,
      sample: e.sample,
      archived: e.archived,
      account_ou: e.account.ou,
      feature_name: finding.service?.featureName,
    }),
  };
};

export { toOcsf, timestampMs, OCSF_STRING_MAX_BYTES };
