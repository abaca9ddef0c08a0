import type { GuardDutyFinding, Resource } from '../schemas/finding.ts';
import type { EnrichedFinding } from '../schemas/enriched.ts';
import type { AccountDirectory } from './accounts/directory.ts';
import { severityLabel } from './severity.ts';
import { parseFindingType } from './finding-type.ts';
import { consoleLink } from './console-link.ts';
import { dataRecord } from './data-record.ts';
import { isSampleFinding } from './input/sample-flag.ts';

/** Adds who owns the account, the severity label, the type parts and a console link. */
const enrichFinding = async (finding: GuardDutyFinding, accounts: AccountDirectory): Promise<EnrichedFinding> => {
  const account = await accounts.lookup(finding.accountId);
  return {
    finding,
    enrichment: {
      account,
      severityLabel: severityLabel(finding.severity),
      typeParts: parseFindingType(finding.type),
      resourceType: finding.resource.resourceType ?? 'Unknown',
      resourceSummary: summarizeResource(finding.resource),
      resourceTags: resourceTags(finding.resource),
      sample: isSampleFinding(finding.service?.additionalInfo),
      archived: finding.service?.archived === true,
      count: finding.service?.count ?? 1,
      consoleUrl: consoleLink(finding),
      ...remoteParty(finding),
    },
  };
};

/**
 * One line naming the affected resource, whatever the resource type. The block matching
 * `resourceType` wins: sample findings often carry unrelated extra blocks.
 */
const summarizeResource = (resource: Resource): string => {
  const preferred = RESOURCE_DESCRIBERS.find(([type]) => type === resource.resourceType)?.[1](resource);
  if (preferred) return preferred;
  for (const [, describe] of RESOURCE_DESCRIBERS) {
    const text = describe(resource);
    if (text) return text;
  }
  return resource.resourceType ?? 'Unknown resource';
};

/** One describer per resource type, made once (the router runs this on every finding). */
const RESOURCE_DESCRIBERS: readonly (readonly [string, (resource: Resource) => string | undefined])[] = [
  ['Instance', (resource) => {
    const i = resource.instanceDetails;
    return i?.instanceId ? `Instance ${i.instanceId}${i.instanceType ? ` (${i.instanceType})` : ''}` : undefined;
  }],
  ['AccessKey', (resource) => {
    const k = resource.accessKeyDetails;
    if (!k?.accessKeyId && !k?.userName) return undefined;
    return `AccessKey ${k.accessKeyId ?? ''}${k.userName ? ` of ${k.userType ?? 'user'} ${k.userName}` : ''}`.replace(/\s+/g, ' ').trim();
  }],
  ['S3Bucket', (resource) => {
    const buckets = resource.s3BucketDetails?.map((b) => b.name).filter(Boolean);
    return buckets && buckets.length > 0 ? `S3Bucket ${buckets.join(', ')}` : undefined;
  }],
  ['S3Object', (resource) => {
    const objects = resource.s3BucketDetails?.flatMap((b) => (b.s3ObjectDetails ?? []).map((o) => `${b.name ?? ''}/${o.key ?? ''}`));
    return objects && objects.length > 0 ? `S3Object ${objects.join(', ')}` : undefined;
  }],
  ['EKSCluster', (resource) => {
    if (!resource.eksClusterDetails?.name) return undefined;
    const w = resource.kubernetesDetails?.kubernetesWorkloadDetails;
    return `EKSCluster ${resource.eksClusterDetails.name}${w?.name ? ` workload ${w.namespace ?? 'default'}/${w.name}` : ''}`;
  }],
  ['ECSCluster', (resource) => (resource.ecsClusterDetails?.name ? `ECSCluster ${resource.ecsClusterDetails.name}` : undefined)],
  ['Container', (resource) => {
    const c = resource.containerDetails;
    return c?.name || c?.image ? `Container ${c.name ?? ''} ${c.image ?? ''}`.trim() : undefined;
  }],
  ['Lambda', (resource) => (resource.lambdaDetails?.functionName ? `Lambda ${resource.lambdaDetails.functionName}` : undefined)],
  ['RDSDBInstance', (resource) => (resource.rdsDbInstanceDetails?.dbInstanceIdentifier ? `RDSDBInstance ${resource.rdsDbInstanceDetails.dbInstanceIdentifier}` : undefined)],
  ['RDSLimitlessDB', (resource) => (resource.rdsLimitlessDbDetails?.dbShardGroupIdentifier ? `RDSLimitlessDB ${resource.rdsLimitlessDbDetails.dbShardGroupIdentifier}` : undefined)],
  ['EBSVolume', (resource) => {
    const volumes = resource.ebsVolumeDetails?.scannedVolumeDetails?.map((v) => v.volumeArn).filter(Boolean);
    return volumes && volumes.length > 0 ? `EBS volumes ${volumes.join(', ')}` : undefined;
  }],
  ['EBSSnapshot', (resource) => (resource.ebsSnapshotDetails?.snapshotArn ? `EBS snapshot ${resource.ebsSnapshotDetails.snapshotArn}` : undefined)],
  ['EC2Image', (resource) => (resource.ec2ImageDetails?.imageArn ? `EC2 image ${resource.ec2ImageDetails.imageArn}` : undefined)],
  ['RecoveryPoint', (resource) => (resource.recoveryPointDetails?.recoveryPointArn ? `Recovery point ${resource.recoveryPointDetails.recoveryPointArn}` : undefined)],
  ['Model', (resource) => {
    const models = resource.modelDetails?.map((m) => m.modelId).filter(Boolean);
    return models && models.length > 0 ? `Model ${models.join(', ')}` : undefined;
  }],
];

/** Tags on the affected resource, from whichever detail block carries them. */
const resourceTags = (resource: Resource): Record<string, string> => {
  const lists = [
    resource.instanceDetails?.tags,
    ...(resource.s3BucketDetails ?? []).map((b) => b.tags),
    resource.eksClusterDetails?.tags,
    resource.ecsClusterDetails?.tags,
    resource.lambdaDetails?.tags,
    resource.rdsDbInstanceDetails?.tags,
    resource.rdsLimitlessDbDetails?.tags,
  ];
  // Keys are finding data: a data record keeps `constructor` and `__proto__` ordinary keys. The first of a key wins.
  const seen = new Map<string, string>();
  for (const list of lists) {
    for (const tag of list ?? []) {
      if (tag.key !== undefined && !seen.has(tag.key)) seen.set(tag.key, tag.value ?? '');
    }
  }
  return dataRecord(seen);
};

/** The first remote IP details found in whichever action variant the finding carries. */
const remoteParty = (finding: GuardDutyFinding): { remote?: EnrichedFinding['enrichment']['remote'] } => {
  const action = finding.service?.action;
  const details =
    action?.networkConnectionAction?.remoteIpDetails ??
    action?.awsApiCallAction?.remoteIpDetails ??
    action?.kubernetesApiCallAction?.remoteIpDetails ??
    action?.rdsLoginAttemptAction?.remoteIpDetails ??
    action?.portProbeAction?.portProbeDetails?.[0]?.remoteIpDetails;
  if (details === undefined) return {};
  const remote = {
    ...(details.ipAddressV4 ?? details.ipAddressV6 ? { ip: (details.ipAddressV4 ?? details.ipAddressV6)! } : {}),
    ...(details.country?.countryCode ? { countryCode: details.country.countryCode } : {}),
    ...(details.country?.countryName ? { countryName: details.country.countryName } : {}),
    ...(details.organization?.asnOrg ? { asnOrg: details.organization.asnOrg } : {}),
  };
  return Object.keys(remote).length === 0 ? {} : { remote };
};

export { enrichFinding, summarizeResource, resourceTags };
