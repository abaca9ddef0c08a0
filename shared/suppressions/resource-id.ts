import type { Resource } from '../../schemas/finding.ts';

/**
 * The one identifier a runtime suppression keys on, per resource type, or undefined when the
 * finding names none. Chosen to stay the same across the findings an analyst means by
 * "similar": the instance id (not its name tag, which anyone can edit); for an access key the
 * principal (`userType/userName`), not the key id, because temporary keys (ASIA…) change every
 * session and a suppression keyed on one would never match the next finding; an ARN where
 * GuardDuty gives one (it carries account and region, so the same name elsewhere does not match);
 * the first bucket or volume when the finding lists several (the one GuardDuty puts first is
 * the subject of the finding).
 */
const RESOURCE_IDS: Readonly<Record<string, (resource: Resource) => string | undefined>> = {
  Instance: (r) => r.instanceDetails?.instanceId,
  AccessKey: (r) => {
    const k = r.accessKeyDetails;
    if (k?.userName) return `${k.userType ?? 'user'}/${k.userName}`;
    return k?.principalId ?? undefined;
  },
  S3Bucket: (r) => r.s3BucketDetails?.[0]?.arn ?? r.s3BucketDetails?.[0]?.name,
  S3Object: (r) => r.s3BucketDetails?.[0]?.arn ?? r.s3BucketDetails?.[0]?.name,
  EKSCluster: (r) => r.eksClusterDetails?.arn ?? r.eksClusterDetails?.name,
  ECSCluster: (r) => r.ecsClusterDetails?.arn ?? r.ecsClusterDetails?.name,
  Container: (r) => r.containerDetails?.image ?? r.containerDetails?.name,
  Lambda: (r) => r.lambdaDetails?.functionArn ?? r.lambdaDetails?.functionName,
  RDSDBInstance: (r) => r.rdsDbInstanceDetails?.dbInstanceArn ?? r.rdsDbInstanceDetails?.dbInstanceIdentifier,
  RDSLimitlessDB: (r) => r.rdsLimitlessDbDetails?.dbShardGroupArn ?? r.rdsLimitlessDbDetails?.dbShardGroupIdentifier,
  EBSVolume: (r) => r.ebsVolumeDetails?.scannedVolumeDetails?.[0]?.volumeArn,
  EBSSnapshot: (r) => r.ebsSnapshotDetails?.snapshotArn,
  EC2Image: (r) => r.ec2ImageDetails?.imageArn,
  RecoveryPoint: (r) => r.recoveryPointDetails?.recoveryPointArn,
  Model: (r) => r.modelDetails?.[0]?.modelId,
};

const resourceIdOf = (resource: Resource): string | undefined => {
  const type = resource.resourceType;
  // Own keys only: a resource type of `constructor` names no identifier.
  if (type === undefined || !Object.hasOwn(RESOURCE_IDS, type)) return undefined;
  const id = RESOURCE_IDS[type]!(resource);
  return id === undefined || id === '' ? undefined : id;
};

export { resourceIdOf };
