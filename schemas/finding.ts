import * as z from 'zod/mini';

/**
 * Zod schemas for the GuardDuty finding as EventBridge delivers it in `detail`.
 *
 * Every object is a loose object: unknown keys pass through untouched, so a SIEM
 * receives what GuardDuty sent. Only the fields the router reads are typed, and each
 * one tolerates the documented quirks (epoch-number timestamps, `asn` as number or
 * string, `platform: null`, the capital-L `LoginAttributes`).
 *
 * @see ../shared/guardduty/format.md §2
 */

const str = z.string();
const optStr = z.optional(z.string());
const optBool = z.optional(z.boolean());
const optNum = z.optional(z.number());
/** Modelled as `timestamp` without a format: epoch seconds (or ms) on the wire, sometimes ISO strings. */
const Timestamp = z.union([z.string(), z.number()]);
const optTimestamp = z.optional(Timestamp);

const Tag = z.looseObject({ key: optStr, value: z.optional(z.nullable(z.string())) });
const Tags = z.optional(z.array(Tag));

const RemoteIpDetails = z.looseObject({
  ipAddressV4: optStr,
  ipAddressV6: optStr,
  city: z.optional(z.looseObject({ cityName: optStr })),
  country: z.optional(z.looseObject({ countryCode: optStr, countryName: optStr })),
  geoLocation: z.optional(z.looseObject({ lat: optNum, lon: optNum })),
  organization: z.optional(
    z.looseObject({ asn: z.optional(z.union([z.string(), z.number()])), asnOrg: optStr, isp: optStr, org: optStr }),
  ),
});

const PortDetails = z.optional(z.looseObject({ port: optNum, portName: optStr }));

const InstanceDetails = z.looseObject({
  instanceId: optStr,
  instanceType: optStr,
  instanceState: optStr,
  availabilityZone: optStr,
  imageId: optStr,
  launchTime: optTimestamp,
  platform: z.optional(z.nullable(z.string())),
  iamInstanceProfile: z.optional(z.looseObject({ arn: optStr, id: optStr })),
  networkInterfaces: z.optional(
    z.array(
      z.looseObject({ privateIpAddress: optStr, publicIp: optStr, vpcId: optStr, subnetId: optStr }),
    ),
  ),
  tags: Tags,
});

const AccessKeyDetails = z.looseObject({ accessKeyId: optStr, principalId: optStr, userName: optStr, userType: optStr });

const S3BucketDetail = z.looseObject({
  arn: optStr,
  name: optStr,
  type: optStr,
  createdAt: optTimestamp,
  tags: Tags,
  s3ObjectDetails: z.optional(z.array(z.looseObject({ objectArn: optStr, key: optStr }))),
});

const EksClusterDetails = z.looseObject({ name: optStr, arn: optStr, vpcId: optStr, status: optStr, tags: Tags, createdAt: optTimestamp });
const KubernetesDetails = z.looseObject({
  kubernetesUserDetails: z.optional(z.looseObject({ username: optStr, uid: optStr })),
  kubernetesWorkloadDetails: z.optional(z.looseObject({ name: optStr, type: optStr, namespace: optStr })),
});
const EcsClusterDetails = z.looseObject({
  name: optStr,
  arn: optStr,
  status: optStr,
  tags: Tags,
  taskDetails: z.optional(z.looseObject({ arn: optStr, definitionArn: optStr, createdAt: optTimestamp, startedAt: optTimestamp })),
});
const ContainerDetails = z.looseObject({ id: optStr, name: optStr, image: optStr, containerRuntime: optStr });
const LambdaDetails = z.looseObject({ functionArn: optStr, functionName: optStr, lastModifiedAt: optTimestamp, role: optStr, tags: Tags });
const RdsDbInstanceDetails = z.looseObject({ dbInstanceIdentifier: optStr, dbInstanceArn: optStr, engine: optStr, dbClusterIdentifier: optStr, tags: Tags });
const RdsLimitlessDbDetails = z.looseObject({ dbShardGroupIdentifier: optStr, dbShardGroupArn: optStr, engine: optStr, dbClusterIdentifier: optStr, tags: Tags });
const RdsDbUserDetails = z.looseObject({ user: optStr, application: optStr, database: optStr });
const EbsVolumeDetails = z.looseObject({
  scannedVolumeDetails: z.optional(z.array(z.looseObject({ volumeArn: optStr }))),
  skippedVolumeDetails: z.optional(z.array(z.looseObject({ volumeArn: optStr }))),
});

const ResourceSchema = z.looseObject({
  resourceType: optStr,
  instanceDetails: z.optional(InstanceDetails),
  accessKeyDetails: z.optional(AccessKeyDetails),
  s3BucketDetails: z.optional(z.array(S3BucketDetail)),
  eksClusterDetails: z.optional(EksClusterDetails),
  kubernetesDetails: z.optional(KubernetesDetails),
  ecsClusterDetails: z.optional(EcsClusterDetails),
  containerDetails: z.optional(ContainerDetails),
  lambdaDetails: z.optional(LambdaDetails),
  rdsDbInstanceDetails: z.optional(RdsDbInstanceDetails),
  rdsLimitlessDbDetails: z.optional(RdsLimitlessDbDetails),
  rdsDbUserDetails: z.optional(RdsDbUserDetails),
  ebsVolumeDetails: z.optional(EbsVolumeDetails),
  ebsSnapshotDetails: z.optional(z.looseObject({ snapshotArn: optStr })),
  ec2ImageDetails: z.optional(z.looseObject({ imageArn: optStr })),
  recoveryPointDetails: z.optional(z.looseObject({ recoveryPointArn: optStr, backupVaultName: optStr })),
  bedrockGuardrailDetails: z.optional(z.looseObject({ guardrailAction: optStr })),
  modelDetails: z.optional(z.array(z.looseObject({ modelId: optStr }))),
});

const ActionSchema = z.looseObject({
  actionType: optStr,
  networkConnectionAction: z.optional(
    z.looseObject({
      blocked: optBool,
      connectionDirection: optStr,
      protocol: optStr,
      localPortDetails: PortDetails,
      remotePortDetails: PortDetails,
      remoteIpDetails: z.optional(RemoteIpDetails),
    }),
  ),
  portProbeAction: z.optional(
    z.looseObject({
      blocked: optBool,
      portProbeDetails: z.optional(
        z.array(z.looseObject({ localPortDetails: PortDetails, remoteIpDetails: z.optional(RemoteIpDetails) })),
      ),
    }),
  ),
  dnsRequestAction: z.optional(z.looseObject({ domain: optStr, protocol: optStr, blocked: optBool })),
  awsApiCallAction: z.optional(
    z.looseObject({
      api: optStr,
      serviceName: optStr,
      callerType: optStr,
      errorCode: optStr,
      userAgent: optStr,
      remoteIpDetails: z.optional(RemoteIpDetails),
      remoteAccountDetails: z.optional(z.looseObject({ accountId: optStr, affiliated: optBool })),
    }),
  ),
  kubernetesApiCallAction: z.optional(
    z.looseObject({
      requestUri: optStr,
      verb: optStr,
      sourceIPs: z.optional(z.array(z.string())),
      userAgent: optStr,
      remoteIpDetails: z.optional(RemoteIpDetails),
      statusCode: optNum,
    }),
  ),
  rdsLoginAttemptAction: z.optional(
    z.looseObject({
      remoteIpDetails: z.optional(RemoteIpDetails),
      LoginAttributes: z.optional(
        z.array(z.looseObject({ user: optStr, application: optStr, failedLoginAttempts: optNum, successfulLoginAttempts: optNum })),
      ),
    }),
  ),
});

const ServiceSchema = z.looseObject({
  serviceName: optStr,
  detectorId: optStr,
  action: z.optional(ActionSchema),
  archived: optBool,
  count: optNum,
  eventFirstSeen: optTimestamp,
  eventLastSeen: optTimestamp,
  resourceRole: optStr,
  featureName: optStr,
  /** Free-form in EventBridge (`{ sample: true, ... }`); `{ value, type }` in the GetFindings API shape. */
  additionalInfo: z.optional(z.record(z.string(), z.unknown())),
  evidence: z.optional(z.looseObject({})),
  detection: z.optional(z.looseObject({})),
  runtimeDetails: z.optional(z.looseObject({})),
  ebsVolumeScanDetails: z.optional(z.looseObject({})),
  malwareScanDetails: z.optional(z.looseObject({})),
});

/** The finding (`detail`), with the fields the AWS model marks required. */
const GuardDutyFindingSchema = z.looseObject({
  schemaVersion: str,
  accountId: z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit account id')),
  region: str.check(z.minLength(1)),
  partition: optStr,
  id: str.check(z.minLength(1), z.maxLength(300)),
  arn: str.check(z.minLength(1)),
  type: str.check(z.minLength(1), z.maxLength(100)),
  resource: ResourceSchema,
  service: z.optional(ServiceSchema),
  severity: z.number().check(z.minimum(0), z.maximum(10)),
  confidence: optNum,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  title: optStr,
  description: optStr,
  associatedAttackSequenceArn: optStr,
});

type GuardDutyFinding = z.infer<typeof GuardDutyFindingSchema>;
type Resource = z.infer<typeof ResourceSchema>;
type RemoteIp = z.infer<typeof RemoteIpDetails>;

export { GuardDutyFindingSchema, ResourceSchema, ServiceSchema, ActionSchema, RemoteIpDetails };
export type { GuardDutyFinding, Resource, RemoteIp };
