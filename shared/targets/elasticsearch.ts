import { isIP } from 'node:net';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { idempotencyKey } from '../delivery/job.ts';
import { DeliveryError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { SecretRefSchema, type SecretResolver } from '../secrets.ts';
import type { HttpResponse } from './http.ts';
import { byteLength, fitJson, isoTimestamp, jsonLine, timestampMs } from './siem-json.ts';
import { defineTarget } from './define.ts';
import type { IamStatement, TargetDefinition, TargetSpec } from './types.ts';
import type { SigV4Signer } from '../aws/sigv4.ts';

/**
 * Elasticsearch / OpenSearch `_bulk` with one `create` action per finding update, whose
 * `_id` is the delivery idempotency key: a retried delivery of the same update answers
 * 409 `version_conflict_engine_exception`, which counts as delivered (never a second doc).
 * `_bulk` answers 200 even when the item failed, so the item status is what is checked:
 * 201 delivered, 409 already delivered, 429 / 5xx retryable, anything else permanent.
 * Documents map the finding to ECS fields and keep the original under `aws.guardduty`.
 * Times in the ECS fields are ISO-8601 UTC whatever form GuardDuty sent (epoch seconds,
 * milliseconds or ISO); `aws.guardduty` keeps them as sent (a flattened field in the index
 * template of shared/cli/siem/index-template.ts, so mixed types never conflict).
 */
const ECS_VERSION = '8.11.0';
const DEFAULT_INDEX = 'guardduty-{yyyy.MM.dd}';
/** The smallest HTTP payload limit of Amazon OpenSearch Service (10 MiB); Elasticsearch allows 100 MB. */
const DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const MAX_INDEX_BYTES = 255;
/** `{yyyy.MM.dd}`: a date from the finding's updatedAt (UTC); tokens yyyy, MM, dd, HH. */
const DATE_TOKEN = /\{((?:yyyy|MM|dd|HH|[.\-_])+)\}/g;

/** Elasticsearch index-name rules, checked on a rendered name. Undefined when valid. */
const indexNameProblem = (name: string): string | undefined => {
  if (name.length === 0) return 'must not be empty';
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/[\\/*?"<>| ,#:{}]/.test(name)) return 'must not contain \\ / * ? " < > | space , # : or braces (other than one {date} pattern)';
  if (/^[-_+]/.test(name)) return 'must not start with -, _ or +';
  if (name === '.' || name === '..') return 'must not be . or ..';
  if (byteLength(name) > MAX_INDEX_BYTES) return `must be at most ${MAX_INDEX_BYTES} bytes`;
  return undefined;
};

const pad = (n: number): string => String(n).padStart(2, '0');

/** The index for one finding: date tokens from updatedAt (UTC); `undated` when it is unparseable. */
const resolveIndex = (pattern: string, updatedAt: string | number | undefined): string => {
  const ms = timestampMs(updatedAt);
  const date = ms === undefined ? undefined : new Date(ms);
  const valid = date !== undefined && !Number.isNaN(date.getTime());
  return pattern.replace(DATE_TOKEN, (_, format: string) =>
    !valid
      ? 'undated'
      : format
          .replace('yyyy', String(date.getUTCFullYear()))
          .replace('MM', pad(date.getUTCMonth() + 1))
          .replace('dd', pad(date.getUTCDate()))
          .replace('HH', pad(date.getUTCHours())),
  );
};

const HttpUrl = z.string().check(
  z.url(),
  z.refine((url) => /^https?:\/\//i.test(url), { message: 'expected an http(s) URL' }),
  z.refine((url) => !/[?#]/.test(url), { message: 'expected the cluster base URL, without query or fragment' }),
);

const ElasticsearchConfigSchema = z
  .strictObject({
    type: z.literal('elasticsearch'),
    /** Cluster base URL, e.g. https://search-x.eu-west-1.es.amazonaws.com (`/_bulk` is appended). */
    url: HttpUrl,
    index: z.optional(
      z.string().check(
        z.refine((index) => indexNameProblem(resolveIndex(index, '2026-01-31T23:00:00Z')) === undefined, {
          message: 'expected an index name (lowercase, no \\ / * ? " < > | space , # :), optionally with a {yyyy.MM.dd} date pattern',
        }),
      ),
    ),
    format: z.optional(z.enum(['ecs', 'raw'])),
    basic: z.optional(z.strictObject({ username: SecretRefSchema, password: SecretRefSchema })),
    apiKey: z.optional(SecretRefSchema),
    sigv4: z.optional(
      z.strictObject({
        region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as eu-west-1')),
        service: z.enum(['es', 'aoss']),
      }),
    ),
    maxRequestBytes: z.optional(z.number().check(z.int(), z.minimum(4_096))),
    allowPrivateNetwork: z.optional(z.boolean()),
  })
  .check(
    z.refine((config) => [config.basic, config.apiKey, config.sigv4].filter((auth) => auth !== undefined).length <= 1, {
      message: 'choose one of basic, apiKey or sigv4',
    }),
  );
type ElasticsearchConfig = z.infer<typeof ElasticsearchConfigSchema>;

const compact = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;

const MALWARE_PURPOSES = new Set(['Backdoor', 'Trojan']);
/**
 * Malware Protection verdicts (Execution:EC2/MaliciousFile, Object:S3/MaliciousFile, …SuspiciousFile)
 * and Runtime Monitoring's MaliciousFileExecuted. Deliberately not every type containing
 * "Malicious": MaliciousIPCaller and MaliciousDomainRequest are reputation hits, not malware.
 */
const MALWARE_TYPE = /\/(?:Malicious|Suspicious)File/;

/** True for malware findings: Trojan/Backdoor purposes, malware-file verdicts and malware scans. */
const isMalwareFinding = (enriched: EnrichedFinding): boolean => {
  const { finding, enrichment } = enriched;
  return (
    MALWARE_PURPOSES.has(enrichment.typeParts.threatPurpose) ||
    MALWARE_TYPE.test(finding.type) ||
    finding.service?.ebsVolumeScanDetails !== undefined ||
    finding.service?.malwareScanDetails !== undefined
  );
};

/** ECS `event.category` values (allowed list) that describe the finding. */
const categories = (enriched: EnrichedFinding): string[] => {
  const { finding } = enriched;
  const out = ['intrusion_detection'];
  const action = finding.service?.action;
  if (action?.networkConnectionAction || action?.portProbeAction || action?.dnsRequestAction) out.push('network');
  if (isMalwareFinding(enriched)) out.push('malware');
  if (finding.resource.accessKeyDetails !== undefined || action?.awsApiCallAction !== undefined) out.push('iam');
  return out;
};

/** GuardDuty sends `organization.asn` as a string or a number; ECS `as.number` is a long. */
const asNumber = (asn: unknown): number | undefined => {
  const value = typeof asn === 'number' ? asn : typeof asn === 'string' && /^\d{1,10}$/.test(asn.trim()) ? Number(asn.trim()) : undefined;
  return value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
};

const finiteIn = (value: unknown, bound: number): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= bound ? value : undefined;

/** ECS `source.*` from the first remote party (the same one enrichment reports), with a geo_point when GuardDuty located it. */
const ecsSource = (enriched: EnrichedFinding): Record<string, unknown> | undefined => {
  const action = enriched.finding.service?.action;
  const details =
    action?.networkConnectionAction?.remoteIpDetails ??
    action?.awsApiCallAction?.remoteIpDetails ??
    action?.kubernetesApiCallAction?.remoteIpDetails ??
    action?.rdsLoginAttemptAction?.remoteIpDetails ??
    action?.portProbeAction?.portProbeDetails?.[0]?.remoteIpDetails;
  if (details === undefined) return undefined;
  const ip = details.ipAddressV4 ?? details.ipAddressV6;
  const lat = finiteIn(details.geoLocation?.lat, 90);
  const lon = finiteIn(details.geoLocation?.lon, 180);
  const geo = compact({
    location: lat === undefined || lon === undefined ? undefined : { lat, lon },
    country_iso_code: details.country?.countryCode || undefined,
    country_name: details.country?.countryName || undefined,
    city_name: details.city?.cityName || undefined,
  });
  const organization = details.organization?.asnOrg || undefined;
  const number = asNumber(details.organization?.asn);
  const as = compact({ number, organization: organization === undefined ? undefined : { name: organization } });
  const source = compact({
    ip: ip !== undefined && isIP(ip) !== 0 ? ip : undefined,
    geo: Object.keys(geo).length > 0 ? geo : undefined,
    as: Object.keys(as).length > 0 ? as : undefined,
  });
  return Object.keys(source).length > 0 ? source : undefined;
};

/**
 * An ECS date: ISO-8601 UTC with a four-digit year, or absent. toISOString writes years past
 * 9999 as `+010000-…`, which `strict_date_optional_time` refuses; such a time stays only in the
 * raw copy rather than failing the whole document.
 */
const ecsDate = (value: string | number | undefined): string | undefined => {
  const iso = isoTimestamp(value);
  return iso !== undefined && /^\d{4}-/.test(iso) ? iso : undefined;
};

/** The ECS document for one finding update; pure. */
const buildEcsDocument = (enriched: EnrichedFinding): Record<string, unknown> => {
  const { finding, enrichment: e } = enriched;
  const source = ecsSource(enriched);
  const remoteIp = source?.ip as string | undefined;
  const instanceId = finding.resource.instanceDetails?.instanceId;
  return compact({
    '@timestamp': ecsDate(finding.updatedAt),
    message: finding.title ?? finding.type,
    ecs: { version: ECS_VERSION },
    event: compact({
      kind: 'alert',
      module: 'guardduty',
      dataset: 'guardduty.finding',
      category: categories(enriched),
      type: ['info'],
      action: finding.service?.action?.actionType,
      id: finding.id,
      /** GuardDuty severity 0.0–10.0 scaled to the integer 0–100 that ECS `event.severity` (long) holds. */
      severity: Math.round(finding.severity * 10),
      reason: finding.description,
      created: ecsDate(finding.createdAt),
      start: ecsDate(finding.service?.eventFirstSeen),
      end: ecsDate(finding.service?.eventLastSeen),
      url: e.consoleUrl,
    }),
    rule: { name: finding.type, category: e.typeParts.threatPurpose },
    cloud: compact({
      provider: 'aws',
      account: compact({ id: finding.accountId, name: e.account.name }),
      region: finding.region,
      instance: instanceId === undefined ? undefined : { id: instanceId },
    }),
    observer: { vendor: 'AWS', product: 'GuardDuty', type: 'ids' },
    source,
    related: remoteIp === undefined ? undefined : { ip: [remoteIp] },
    labels: compact({ severity_label: e.severityLabel, occurrence: e.occurrence, resource: e.resourceSummary || undefined }),
    tags: e.sample ? ['guardduty-sample'] : undefined,
    aws: { guardduty: finding },
  });
};

const buildDocument = (enriched: EnrichedFinding, config: ElasticsearchConfig): unknown =>
  (config.format ?? 'ecs') === 'raw' ? enriched.finding : buildEcsDocument(enriched);

/** The `_bulk` NDJSON: a `create` action line and the document line, each ending in `\n`. */
const buildBulkBody = (enriched: EnrichedFinding, config: ElasticsearchConfig, id: string): string => {
  const index = resolveIndex(config.index ?? DEFAULT_INDEX, enriched.finding.updatedAt);
  const action = jsonLine({ create: { _index: index, _id: id } });
  const limit = (config.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES) - byteLength(action) - 2;
  const fitted = fitJson(buildDocument(enriched, config), limit);
  if (fitted === undefined) throw new Error(`finding ${enriched.finding.id} cannot be made to fit ${limit} bytes`);
  return `${action}\n${jsonLine(fitted.value)}\n`;
};

interface BulkItem {
  status?: unknown;
  error?: { type?: unknown; reason?: unknown } | unknown;
}

/**
 * Classifies a 2xx `_bulk` answer. Unparseable or item-less answers are retryable: the
 * `create` is idempotent, so a retry can only add the document once.
 */
const checkBulkResponse = (name: string, response: HttpResponse, secrets: readonly string[]): void => {
  let parsed: { errors?: unknown; items?: unknown };
  try {
    parsed = JSON.parse(response.body) as typeof parsed;
  } catch {
    throw new DeliveryError(name, `HTTP ${response.status} without a _bulk answer`, { retryable: true, status: response.status });
  }
  const items = Array.isArray(parsed?.items) ? parsed.items : undefined;
  const item = (items?.[0] as Record<string, BulkItem> | undefined)?.create;
  if (item === undefined || typeof item.status !== 'number') {
    throw new DeliveryError(name, `HTTP ${response.status} without a _bulk create item`, { retryable: true, status: response.status });
  }
  const status = item.status;
  if (status >= 200 && status < 300) return;
  const error = (item.error ?? {}) as { type?: unknown; reason?: unknown };
  const type = typeof error.type === 'string' ? error.type : 'unknown';
  // `create` of an _id that exists: this update was delivered by an earlier attempt.
  if (status === 409 && type === 'version_conflict_engine_exception') return;
  const reason = typeof error.reason === 'string' ? redactText(error.reason, secrets, { oneLine: true, maxLength: 300 }) : '';
  throw new DeliveryError(name, `_bulk item ${status} ${type}${reason ? `: ${reason}` : ''}`, {
    retryable: status === 429 || status >= 500 || status === 408,
    status,
  });
};

interface AuthHeaders {
  headers: Record<string, string>;
  secrets: string[];
}

const staticAuth = async (config: ElasticsearchConfig, secrets: SecretResolver): Promise<AuthHeaders> => {
  if (config.basic !== undefined) {
    const [username, password] = await Promise.all([secrets.resolve(config.basic.username), secrets.resolve(config.basic.password)]);
    const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
    return { headers: { authorization: `Basic ${encoded}` }, secrets: [password, encoded] };
  }
  if (config.apiKey !== undefined) {
    const key = await secrets.resolve(config.apiKey);
    return { headers: { authorization: `ApiKey ${key}` }, secrets: [key] };
  }
  return { headers: {}, secrets: [] };
};

type Signer = (url: string, headers: Record<string, string>, body: string) => Promise<Record<string, string>>;

/** SigV4 for Amazon OpenSearch Service (`es`) and Serverless (`aoss`, which needs x-amz-content-sha256). */
const sigv4Signer = (name: string, sigv4: { region: string; service: 'es' | 'aoss' }): Signer => {
  // The signer and the credential chain load on first use (a lazily loaded chunk in the Lambda bundles).
  let signer: Promise<SigV4Signer> | undefined;
  const load = () => (signer ??= import('../aws/sigv4.ts').then(({ loadSigV4Signer }) => loadSigV4Signer(sigv4)));
  return async (url, headers, body) => {
    const parsed = new URL(url);
    let signed: { headers: Record<string, string> };
    try {
      signed = await (await load()).sign({
        method: 'POST',
        protocol: parsed.protocol,
        hostname: parsed.hostname,
        ...(parsed.port ? { port: Number(parsed.port) } : {}),
        path: parsed.pathname,
        query: Object.fromEntries(parsed.searchParams),
        headers: { ...headers, host: parsed.host },
        body,
      });
    } catch (cause) {
      throw new DeliveryError(name, `SigV4 signing failed: ${(cause as Error)?.name ?? 'error'}`, { retryable: true });
    }
    // fetch sets Host from the URL (the signed value); it must not be passed as a header.
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
};

const elasticsearchSpec: TargetSpec<ElasticsearchConfig> = {
  type: 'elasticsearch',
  category: 'siem',
  updates: 'every-update',
  digest: false,
  local: false,
  configSchema: ElasticsearchConfigSchema,
};

const elasticsearchTarget: TargetDefinition<ElasticsearchConfig> = /* @__PURE__ */ defineTarget(elasticsearchSpec, {
  // _bulk confirms each document in its answer: an answer without item results confirms nothing.
  statusExceptions: { 202: 'retryable', 204: 'retryable' },
  example: { type: 'elasticsearch', url: 'https://es.example.com:9200', apiKey: { env: 'ELASTICSEARCH_API_KEY' } },
  summary: 'Elasticsearch / OpenSearch _bulk create with a deterministic _id, ECS-mapped documents.',
  /**
   * With sigv4 only: `es:ESHttpPost` on the domain's `_bulk` path (search-/vpc-<domain>-<id>.<region>.es.amazonaws.com),
   * or `aoss:APIAccessAll` on the collection (<collection id>.<region>.aoss.amazonaws.com), in this account.
   * Another host (a custom endpoint) names no domain: packaging stops rather than grant a wildcard.
   */
  iamStatements: (config): IamStatement[] => {
    if (config.sigv4 === undefined) return [];
    const { hostname, pathname } = new URL(config.url);
    const base = pathname.replace(/\/+$/, '');
    const domain = /^(?:search|vpc)-([a-z][a-z0-9-]{2,27})-[a-z0-9]+\.([a-z0-9-]+)\.es\.amazonaws\.com(?:\.cn)?$/.exec(hostname);
    if (config.sigv4.service === 'es' && domain) {
      return [{ Action: ['es:ESHttpPost'], Resource: [`arn:\${AWS::Partition}:es:${domain[2]}:\${AWS::AccountId}:domain/${domain[1]}${base}/_bulk`] }];
    }
    const collection = /^([a-z0-9]{3,40})\.([a-z0-9-]+)\.aoss\.amazonaws\.com(?:\.cn)?$/.exec(hostname);
    if (config.sigv4.service === 'aoss' && collection) {
      return [{ Action: ['aoss:APIAccessAll'], Resource: [`arn:\${AWS::Partition}:aoss:${collection[2]}:\${AWS::AccountId}:collection/${collection[1]}`] }];
    }
    throw new Error(`sigv4 ${config.sigv4.service}: cannot tell the ${config.sigv4.service === 'es' ? 'domain' : 'collection'} from ${hostname} (use the ${config.sigv4.service === 'es' ? 'domain endpoint search-<domain>-<id>.<region>.es.amazonaws.com' : 'collection endpoint <id>.<region>.aoss.amazonaws.com'})`);
  },
  create: (name, config, { secrets, http }) => {
    const sign = config.sigv4 === undefined ? undefined : sigv4Signer(name, config.sigv4);
    const url = `${config.url.replace(/\/+$/, '')}/_bulk`;
    return {
      name,
      render: (enriched) => ({
        body: buildBulkBody(enriched, config, idempotencyKey(name, enriched)),
        contentType: 'application/x-ndjson',
        extension: 'ndjson',
      }),
      send: async ({ payload, finding, ...delivery }) => {
        // The document's _id is the delivery's key: the rendered body where it carries that key already, else built with it.
        const body = delivery.idempotencyKey === idempotencyKey(name, finding) ? payload.body : buildBulkBody(finding, config, delivery.idempotencyKey);
        const auth = await staticAuth(config, secrets);
        let headers: Record<string, string> = { 'content-type': 'application/x-ndjson', 'user-agent': 'findings-router', ...auth.headers };
        if (sign !== undefined) headers = await sign(url, headers, body);
        const response = await http.send({
          target: name,
          url,
          headers,
          body,
          deadline: delivery.deadline,
          allowPrivateNetwork: config.allowPrivateNetwork === true,
          secrets: auth.secrets,
        });
        checkBulkResponse(name, response, auth.secrets);
      },
    };
  },
});

export {
  elasticsearchTarget,
  elasticsearchSpec,
  ElasticsearchConfigSchema,
  buildEcsDocument,
  buildBulkBody,
  resolveIndex,
  staticAuth,
  DEFAULT_INDEX,
};
export type { ElasticsearchConfig };
