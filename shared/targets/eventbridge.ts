import * as z from 'zod/mini';
import { ENRICHED_DETAIL_TYPE, ENRICHED_SOURCE } from '../../schemas/envelope.ts';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { JsonFormatSchema, type JsonFormat } from '../formats/json-formats.ts';
import { buildDetail } from './eventbridge-detail.ts';
import { isoTimestamp } from './siem-json.ts';
import { checkDestination } from './http.ts';
import { defineTarget } from './define.ts';
import type { FindingSendJob, IamStatement, TargetDefinition, TargetSpec } from './types.ts';

/**
 * Amazon EventBridge `PutEvents`: one event per finding update onto another bus (a SOAR's,
 * a central security account's, one in another region), for rules, Step Functions
 * playbooks and other automation. `detail` is the finding in the chosen JSON format,
 * `resources` the finding ARN, `time` the finding's updatedAt; an entry that would exceed
 * the 256 KB entry limit is reduced and marked `truncated: true` (eventbridge-detail.ts).
 *
 * EventBridge has no de-duplication: the router sends each (target, finding id, updatedAt)
 * once, but a crash between EventBridge's answer and the router's idempotency record sends
 * it again. Every event carries `resources[0]` (finding ARN) and `time` (updatedAt) in the
 * envelope, whatever the format, so consumers can de-duplicate on that pair.
 *
 * PutEvents to a bus that does not exist answers success (aws/aws-sdk#186): only the form
 * of the bus name is checked (here), so a typo in it loses events silently.
 */

const PARTITION = '(?:aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc)';
const REGION_PATTERN = '[a-z]{2}(?:-[a-z]+)+-\\d+';
/** Event bus names: 1 to 256 of `/ . - _ A-Z a-z 0-9` (partner buses contain `/`). */
const BUS_NAME_PATTERN = '[/.\\-_A-Za-z0-9]{1,256}';
const BUS_ARN_PATTERN = `arn:(${PARTITION}):events:(${REGION_PATTERN}):(\\d{12}):event-bus/(${BUS_NAME_PATTERN})`;
const BUS_ARN = new RegExp(`^${BUS_ARN_PATTERN}$`);
const BUS = new RegExp(`^(?:${BUS_NAME_PATTERN}|${BUS_ARN_PATTERN})$`);
/** Role paths and names without `$` (the ARN goes into a template's Fn::Sub unchanged). */
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);
const REGION = new RegExp(`^${REGION_PATTERN}$`);
/** Printable, one line: Source and DetailType are matched by rules, and read in consoles. */
const PRINTABLE = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]+$/;
/** "Maximum length of 2048" per Resources entry. */
const MAX_RESOURCE_CHARS = 2048;

const EventBridgeConfigSchema = z
  .strictObject({
    type: z.literal('eventbridge'),
    /** Name (in the caller's account, the role's with roleArn, and region) or ARN (any account and region) of the bus. */
    eventBus: z
      .string()
      .check(z.regex(BUS, 'expected an event bus name (1-256 of / . - _ A-Z a-z 0-9) or arn:aws:events:<region>:<12-digit account>:event-bus/<name>')),
    /** For a bus given by name; defaults to the function's region (AWS_REGION). A bus ARN names its own region. */
    region: z.optional(z.string().check(z.regex(REGION, 'expected an AWS region such as eu-west-1'))),
    /** The event's `source`. */
    source: z.optional(
      z.string().check(
        z.minLength(1),
        z.maxLength(256),
        z.regex(PRINTABLE, 'expected one line of printable characters'),
        z.refine((source) => !source.startsWith('aws.'), { message: 'sources starting with "aws." are reserved for AWS services' }),
      ),
    ),
    /** The event's `detail-type`. */
    detailType: z.optional(z.string().check(z.minLength(1), z.maxLength(128), z.regex(PRINTABLE, 'expected one line of printable characters'))),
    /** `enriched` (default): `{ finding, enrichment }`; `raw`: the finding as GuardDuty sent it; `ocsf`: OCSF 1.1.0. */
    format: z.optional(JsonFormatSchema),
    /** A role (usually in the bus's account) to assume for PutEvents. */
    roleArn: z.optional(z.string().check(z.regex(ROLE_ARN, 'expected arn:aws:iam::<12-digit account>:role/<name>'))),
    /** The external id the role's trust policy requires, if any. */
    externalId: z.optional(z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'expected 2-1224 of A-Z a-z 0-9 + = , . @ : / - _'))),
    /** Another EventBridge endpoint (VPC endpoint, tests); plain http and private addresses need allowPrivateNetwork. */
    endpoint: z.optional(z.string().check(z.url(), z.refine((url) => /^https?:\/\//i.test(url), { message: 'expected an http(s) URL' }))),
    allowPrivateNetwork: z.optional(z.boolean()),
  })
  .check(
    z.refine((config) => config.region === undefined || (arnRegion(config.eventBus) ?? config.region) === config.region, {
      message: 'region must be the bus ARN region (PutEvents reaches a bus only in its own region)',
      path: ['region'],
    }),
    z.refine((config) => config.externalId === undefined || config.roleArn !== undefined, {
      message: 'externalId is only used with roleArn',
      path: ['externalId'],
    }),
  );
type EventBridgeConfig = z.infer<typeof EventBridgeConfigSchema>;

/** The region of a bus given by ARN; undefined for a bus name. */
const arnRegion = (bus: string): string | undefined => BUS_ARN.exec(bus)?.[2];

/** The region PutEvents must be called in: the ARN's, else the setting, else the function's. */
const busRegion = (config: Pick<EventBridgeConfig, 'eventBus' | 'region'>): string | undefined =>
  arnRegion(config.eventBus) ?? config.region ?? (process.env.AWS_REGION || undefined);

/** The entry exactly as PutEvents receives it (Time as ISO text here, a timestamp on the wire). */
interface EventBridgeEntry {
  EventBusName: string;
  Source: string;
  DetailType: string;
  Time?: string;
  Resources: string[];
  Detail: string;
}

/** The finding ARN, when it is one EventBridge accepts in Resources. */
const findingResources = (enriched: EnrichedFinding): string[] => {
  const { arn } = enriched.finding;
  return arn.startsWith('arn:') && arn.length <= MAX_RESOURCE_CHARS && PRINTABLE.test(arn) ? [arn] : [];
};

/** The PutEvents entry for one finding update. Pure. */
const buildEntry = (enriched: EnrichedFinding, config: Pick<EventBridgeConfig, 'eventBus' | 'source' | 'detailType' | 'format'>): EventBridgeEntry => {
  const source = config.source ?? ENRICHED_SOURCE;
  const detailType = config.detailType ?? ENRICHED_DETAIL_TYPE;
  const resources = findingResources(enriched);
  const time = isoTimestamp(enriched.finding.updatedAt);
  const { detail } = buildDetail(enriched, (config.format ?? 'enriched') satisfies JsonFormat, { source, detailType, resources, hasTime: time !== undefined });
  return {
    EventBusName: config.eventBus,
    Source: source,
    DetailType: detailType,
    ...(time === undefined ? {} : { Time: time }),
    Resources: resources,
    Detail: detail,
  };
};

/**
 * Least privilege for these settings: `events:PutEvents` on the one bus, or, with a role to
 * assume, only `sts:AssumeRole` on that role (PutEvents is then made with the role's
 * credentials, and the role's own policy in its account grants it).
 */
const eventBridgeIamStatements = (config: EventBridgeConfig): IamStatement[] => {
  if (config.roleArn !== undefined) return [{ Action: ['sts:AssumeRole'], Resource: [config.roleArn] }];
  const arn = arnRegion(config.eventBus)
    ? config.eventBus
    : `arn:\${AWS::Partition}:events:${config.region ?? '${AWS::Region}'}:\${AWS::AccountId}:event-bus/${config.eventBus}`;
  return [{ Action: ['events:PutEvents'], Resource: [arn] }];
};

const eventBridgeSpec: TargetSpec<EventBridgeConfig> = {
  type: 'eventbridge',
  category: 'siem',
  updates: 'every-update',
  digest: false,
  local: false,
  configSchema: EventBridgeConfigSchema,
};

const eventBridgeTarget: TargetDefinition<EventBridgeConfig> = /* @__PURE__ */ defineTarget(eventBridgeSpec, {
  // The SDK cannot read an empty answer as PutEvents': unconfirmed, so sent again.
  statusExceptions: { 204: 'retryable' },
  example: { type: 'eventbridge', eventBus: 'security-automation', region: 'us-east-1' },
  summary: 'Amazon EventBridge PutEvents onto another bus (any account or region): detail in raw, enriched or OCSF JSON, resources = finding ARN.',
  iamStatements: eventBridgeIamStatements,
  create: (name, config) => {
    // The send path (SDK, STS, error classification) loads on first send: a lazily loaded
    // chunk in the Lambda bundles, so a cold start that only renders pays nothing for it.
    let sender: Promise<(job: FindingSendJob) => Promise<void>> | undefined;
    return {
      name,
      render: (enriched) => ({ body: JSON.stringify(buildEntry(enriched, config)), contentType: 'application/json', extension: 'json' }),
      send: async (job) => {
        const send = await (sender ??= import('./eventbridge-send.ts').then(({ eventBridgeSender }) => eventBridgeSender(name, config, { buildEntry, busRegion, checkDestination })));
        return send(job);
      },
    };
  },
});

export { eventBridgeTarget, eventBridgeSpec, EventBridgeConfigSchema, buildEntry, busRegion, eventBridgeIamStatements };
export type { EventBridgeConfig, EventBridgeEntry };
