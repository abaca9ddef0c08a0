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

/**
 * The one rule for optional fields: GuardDuty writes JSON `null` for an optional member it
 * has no value for (`service.evidence`, `kubernetesWorkloadDetails`, `platform`, ...), so
 * every optional field accepts `null` as well as a missing key, and the router reads the
 * `null` as absent (schemas/guard.ts: an optional, nullable field; schemas/finding-view.ts:
 * the view routing and rendering use). Required fields stay non-null.
 */
const absent = <T extends z.ZodMiniType>(inner: T) => z.optional(z.nullable(inner));

const str = z.string();
const optStr = absent(z.string());
const optBool = absent(z.boolean());
const optNum = absent(z.number());
/** Modelled as `timestamp` without a format: epoch seconds (or ms) on the wire, sometimes ISO strings. */
const Timestamp = z.union([z.string(), z.number()]);
const optTimestamp = absent(Timestamp);

const Tag = z.looseObject({ key: optStr, value: absent(z.string()) });
const Tags = absent(z.array(Tag));

const RemoteIpDetails = z.looseObject({
  ipAddressV4: optStr,
  ipAddressV6: optStr,
  city: absent(z.looseObject({ cityName: optStr })),
  country: absent(z.looseObject({ countryCode: optStr, countryName: optStr })),
  geoLocation: absent(z.looseObject({ lat: optNum, lon: optNum })),
  organization: absent(
    z.looseObject({ asn: absent(z.union([z.string(), z.number()])), asnOrg: optStr, isp: optStr, org: optStr }),
  ),
});

const PortDetails = absent(z.looseObject({ port: optNum, portName: optStr }));

const InstanceDetails = z.looseObject({
  instanceId: optStr,
  instanceType: optStr,
  instanceState: optStr,
  availabilityZone: optStr,
  imageId: optStr,
  launchTime: optTimestamp,
  platform: absent(z.string()),
  iamInstanceProfile: absent(z.looseObject({ arn: optStr, id: optStr })),
  networkInterfaces: absent(
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
  s3ObjectDetails: absent(z.array(z.looseObject({ objectArn: optStr, key: optStr }))),
});

const EksClusterDetails = z.looseObject({ name: optStr, arn: optStr, vpcId: optStr, status: optStr, tags: Tags, createdAt: optTimestamp });
const KubernetesDetails = z.looseObject({
  kubernetesUserDetails: absent(z.looseObject({ username: optStr, uid: optStr })),
  kubernetesWorkloadDetails: absent(z.looseObject({ name: optStr, type: optStr, namespace: optStr })),
});
const EcsClusterDetails = z.looseObject({
  name: optStr,
  arn: optStr,
  status: optStr,
  tags: Tags,
  taskDetails: absent(z.looseObject({ arn: optStr, definitionArn: optStr, createdAt: optTimestamp, startedAt: optTimestamp })),
});
const ContainerDetails = z.looseObject({ id: optStr, name: optStr, image: optStr, containerRuntime: optStr });
const LambdaDetails = z.looseObject({ functionArn: optStr, functionName: optStr, lastModifiedAt: optTimestamp, role: optStr, tags: Tags });
const RdsDbInstanceDetails = z.looseObject({ dbInstanceIdentifier: optStr, dbInstanceArn: optStr, engine: optStr, dbClusterIdentifier: optStr, tags: Tags });
const RdsLimitlessDbDetails = z.looseObject({ dbShardGroupIdentifier: optStr, dbShardGroupArn: optStr, engine: optStr, dbClusterIdentifier: optStr, tags: Tags });
const RdsDbUserDetails = z.looseObject({ user: optStr, application: optStr, database: optStr });
const EbsVolumeDetails = z.looseObject({
  scannedVolumeDetails: absent(z.array(z.looseObject({ volumeArn: optStr }))),
  skippedVolumeDetails: absent(z.array(z.looseObject({ volumeArn: optStr }))),
});

const ResourceSchema = z.looseObject({
  resourceType: optStr,
  instanceDetails: absent(InstanceDetails),
  accessKeyDetails: absent(AccessKeyDetails),
  s3BucketDetails: absent(z.array(S3BucketDetail)),
  eksClusterDetails: absent(EksClusterDetails),
  kubernetesDetails: absent(KubernetesDetails),
  ecsClusterDetails: absent(EcsClusterDetails),
  containerDetails: absent(ContainerDetails),
  lambdaDetails: absent(LambdaDetails),
  rdsDbInstanceDetails: absent(RdsDbInstanceDetails),
  rdsLimitlessDbDetails: absent(RdsLimitlessDbDetails),
  rdsDbUserDetails: absent(RdsDbUserDetails),
  ebsVolumeDetails: absent(EbsVolumeDetails),
  ebsSnapshotDetails: absent(z.looseObject({ snapshotArn: optStr })),
  ec2ImageDetails: absent(z.looseObject({ imageArn: optStr })),
  recoveryPointDetails: absent(z.looseObject({ recoveryPointArn: optStr, backupVaultName: optStr })),
  bedrockGuardrailDetails: absent(z.looseObject({ guardrailAction: optStr })),
  modelDetails: absent(z.array(z.looseObject({ modelId: optStr }))),
});

const ActionSchema = z.looseObject({
  actionType: optStr,
  networkConnectionAction: absent(
    z.looseObject({
      blocked: optBool,
      connectionDirection: optStr,
      protocol: optStr,
      localPortDetails: PortDetails,
      remotePortDetails: PortDetails,
      remoteIpDetails: absent(RemoteIpDetails),
    }),
  ),
  portProbeAction: absent(
    z.looseObject({
      blocked: optBool,
      portProbeDetails: absent(
        z.array(z.looseObject({ localPortDetails: PortDetails, remoteIpDetails: absent(RemoteIpDetails) })),
      ),
    }),
  ),
  dnsRequestAction: absent(z.looseObject({ domain: optStr, protocol: optStr, blocked: optBool })),
  awsApiCallAction: absent(
    z.looseObject({
      api: optStr,
      serviceName: optStr,
      callerType: optStr,
      errorCode: optStr,
      userAgent: optStr,
      remoteIpDetails: absent(RemoteIpDetails),
      remoteAccountDetails: absent(z.looseObject({ accountId: optStr, affiliated: optBool })),
    }),
  ),
  kubernetesApiCallAction: absent(
    z.looseObject({
      requestUri: optStr,
      verb: optStr,
      sourceIPs: absent(z.array(z.string())),
      userAgent: optStr,
      remoteIpDetails: absent(RemoteIpDetails),
      statusCode: optNum,
    }),
  ),
  rdsLoginAttemptAction: absent(
    z.looseObject({
      remoteIpDetails: absent(RemoteIpDetails),
      LoginAttributes: absent(
        z.array(z.looseObject({ user: optStr, application: optStr, failedLoginAttempts: optNum, successfulLoginAttempts: optNum })),
      ),
    }),
  ),
});

const ServiceSchema = z.looseObject({
  serviceName: optStr,
  detectorId: optStr,
  action: absent(ActionSchema),
  archived: optBool,
  count: optNum,
  eventFirstSeen: optTimestamp,
  eventLastSeen: optTimestamp,
  resourceRole: optStr,
  featureName: optStr,
  /** Free-form in EventBridge (`{ sample: true, ... }`); `{ value, type }` in the GetFindings API shape. */
  additionalInfo: absent(z.record(z.string(), z.unknown())),
  evidence: absent(z.looseObject({})),
  detection: absent(z.looseObject({})),
  runtimeDetails: absent(z.looseObject({})),
  ebsVolumeScanDetails: absent(z.looseObject({})),
  malwareScanDetails: absent(z.looseObject({})),
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
  service: absent(ServiceSchema),
  severity: z.number().check(z.minimum(0), z.maximum(10)),
  confidence: optNum,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  title: optStr,
  description: optStr,
  associatedAttackSequenceArn: optStr,
});

/** A type as the router reads it: `null` in an optional field is absent (see `absent`). */
type NullIsAbsent<T> = T extends readonly (infer E)[]
  ? NullIsAbsent<E>[]
  : T extends object
    ? { [K in keyof T]: NullIsAbsent<Exclude<T[K], null>> }
    : T;

/** The finding as GuardDuty sent it, `null`s included (what zod returns). */
type GuardDutyFindingWire = z.infer<typeof GuardDutyFindingSchema>;
/** The finding as routing and rendering read it (schemas/finding-view.ts). */
type GuardDutyFinding = NullIsAbsent<GuardDutyFindingWire>;
type Resource = NullIsAbsent<z.infer<typeof ResourceSchema>>;
type RemoteIp = NullIsAbsent<z.infer<typeof RemoteIpDetails>>;

export { GuardDutyFindingSchema };
export type { GuardDutyFinding, Resource, RemoteIp };
