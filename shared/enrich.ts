import type { GuardDutyFinding, Resource } from '../schemas/finding.ts';
import type { EnrichedFinding } from '../schemas/enriched.ts';
import type { AccountDirectory } from './accounts.ts';
import { severityLabel } from './severity.ts';
import { parseFindingType } from './finding-type.ts';
import { consoleLink } from './console-link.ts';

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
      sample: finding.service?.additionalInfo?.sample === true,
      archived: finding.service?.archived === true,
      count: finding.service?.count ?? 1,
      consoleUrl: consoleLink(finding),
      ...remoteParty(finding),
    },
  };
};

/** One line naming the affected resource, whatever the resource type. */
const summarizeResource = (resource: Resource): string => {
  const i = resource.instanceDetails;
  if (i?.instanceId) return `Instance ${i.instanceId}${i.instanceType ? ` (${i.instanceType})` : ''}`;
  const k = resource.accessKeyDetails;
  if (k?.accessKeyId || k?.userName) return `AccessKey ${k.accessKeyId ?? ''}${k.userName ? ` of ${k.userType ?? 'user'} ${k.userName}` : ''}`.trim();
  const buckets = resource.s3BucketDetails?.map((b) => b.name).filter(Boolean);
  if (buckets && buckets.length > 0) return `S3Bucket ${buckets.join(', ')}`;
  if (resource.eksClusterDetails?.name) {
    const w = resource.kubernetesDetails?.kubernetesWorkloadDetails;
    return `EKSCluster ${resource.eksClusterDetails.name}${w?.name ? ` workload ${w.namespace ?? 'default'}/${w.name}` : ''}`;
  }
  if (resource.ecsClusterDetails?.name) return `ECSCluster ${resource.ecsClusterDetails.name}`;
  if (resource.containerDetails?.name || resource.containerDetails?.image) {
    return `Container ${resource.containerDetails.name ?? ''} ${resource.containerDetails.image ?? ''}`.trim();
  }
  if (resource.lambdaDetails?.functionName) return `Lambda ${resource.lambdaDetails.functionName}`;
  if (resource.rdsDbInstanceDetails?.dbInstanceIdentifier) return `RDSDBInstance ${resource.rdsDbInstanceDetails.dbInstanceIdentifier}`;
  if (resource.rdsLimitlessDbDetails?.dbShardGroupIdentifier) return `RDSLimitlessDB ${resource.rdsLimitlessDbDetails.dbShardGroupIdentifier}`;
  const volumes = resource.ebsVolumeDetails?.scannedVolumeDetails?.map((v) => v.volumeArn).filter(Boolean);
  if (volumes && volumes.length > 0) return `EBS volumes ${volumes.join(', ')}`;
  if (resource.ebsSnapshotDetails?.snapshotArn) return `EBS snapshot ${resource.ebsSnapshotDetails.snapshotArn}`;
  if (resource.ec2ImageDetails?.imageArn) return `EC2 image ${resource.ec2ImageDetails.imageArn}`;
  if (resource.recoveryPointDetails?.recoveryPointArn) return `Recovery point ${resource.recoveryPointDetails.recoveryPointArn}`;
  const models = resource.modelDetails?.map((m) => m.modelId).filter(Boolean);
  if (models && models.length > 0) return `Model ${models.join(', ')}`;
  return resource.resourceType ?? 'Unknown resource';
};

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
  const tags: Record<string, string> = {};
  for (const list of lists) {
    for (const tag of list ?? []) {
      if (tag.key !== undefined && tags[tag.key] === undefined) tags[tag.key] = tag.value ?? '';
    }
  }
  return tags;
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
