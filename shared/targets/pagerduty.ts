import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { DeliveryError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { describeSecretRef, SecretRefSchema } from '../secrets.ts';
import { actorFacts, actorSummary } from '../actor-summary.ts';
import { formatSeverity, type SeverityLabel } from '../severity.ts';
import { accountLabel, isoTimestamp, plainLine, plainText } from './plain-text.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';

/**
 * PagerDuty Events API v2 (`POST /v2/enqueue`). One alert per finding: the `dedup_key` is
 * derived from account, region and finding id, so every update of a finding lands on the
 * same open alert; with `resolveOnArchive`, an archived finding resolves it.
 *
 * Documented limits: event ≤ 512 KB, `dedup_key` ≤ 255, `payload.summary` ≤ 1,024;
 * routing key = the 32-character integration key; about 120 events/minute per routing key
 * (429 above that, retry after a backoff). All text is plain text in JSON: control
 * characters are removed, one-line fields lose their line breaks, every field is capped.
 *
 * The routing key is a secret: `render()` never contains it; `send()` adds it to the body
 * and hands it to the HTTP client, which redacts it from every error (including any
 * echoed body).
 */
const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
type PagerDutySeverity = (typeof PAGERDUTY_SEVERITIES)[number];
const PagerDutySeveritySchema = z.enum(PAGERDUTY_SEVERITIES);

const PAGERDUTY_URLS = {
  us: 'https://events.pagerduty.com/v2/enqueue',
  eu: 'https://events.eu.pagerduty.com/v2/enqueue',
} as const;

const PagerDutyConfigSchema = z.strictObject({
  type: z.literal('pagerduty'),
  /** The Events API v2 integration key (32 characters). */
  routingKey: SecretRefSchema,
  /** `us` (default) → events.pagerduty.com; `eu` → events.eu.pagerduty.com. */
  region: z.optional(z.enum(['us', 'eu'])),
  /** Overrides the endpoint entirely (tests, proxies). */
  url: z.optional(z.string().check(z.url())),
  /** GuardDuty band → PagerDuty severity; unlisted bands keep the default mapping. */
  severityMap: z.optional(
    z.strictObject({
      low: z.optional(PagerDutySeveritySchema),
      medium: z.optional(PagerDutySeveritySchema),
      high: z.optional(PagerDutySeveritySchema),
      critical: z.optional(PagerDutySeveritySchema),
    }),
  ),
  /** Send `resolve` for the finding's alert when GuardDuty archives the finding. */
  resolveOnArchive: z.optional(z.boolean()),
  allowPrivateNetwork: z.optional(z.boolean()),
});
type PagerDutyConfig = z.infer<typeof PagerDutyConfigSchema>;

const DEFAULT_SEVERITY_MAP: Record<SeverityLabel, PagerDutySeverity> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
};

// ── Limits ───────────────────────────────────────────────────────────────────
/** PagerDuty: "Events API payloads are limited to 512 KB"; 512,000 bytes leaves a margin. */
const MAX_EVENT_BYTES = 512_000;
const SUMMARY_LIMIT = 1024;
const DEDUP_KEY_LIMIT = 255;
const ROUTING_KEY_LENGTH = 32;
/** Router-chosen caps (PagerDuty documents none for these); they keep the event far below 512 KB. */
const SOURCE_LIMIT = 512;
const FIELD_LIMIT = 1024;
const DESCRIPTION_LIMIT = 4096;
const TAG_ENTRIES = 50;
const TAG_KEY_LIMIT = 128;
const TAG_VALUE_LIMIT = 256;

/**
 * One key per finding (finding ids are unique per account and region), the same for every
 * update of the finding. Only the 12-digit account id (schema-validated) appears in clear;
 * region and id, which the finding controls, are hashed. 87 characters of [a-z0-9-], so it
 * is also safe in a URL path (Opsgenie closes alerts by alias in the path).
 */
const findingDedupKey = (finding: { id: string; accountId: string; region: string }): string =>
  `guardduty-${finding.accountId}-${createHash('sha256').update(`${finding.accountId}\n${finding.region}\n${finding.id}`).digest('hex')}`;


// ── The event ────────────────────────────────────────────────────────────────
interface PagerDutyTrigger {
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp?: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links: { href: string; text: string }[];
  client: string;
  client_url: string;
}
interface PagerDutyResolve {
  event_action: 'resolve';
  dedup_key: string;
}
/** The event without `routing_key`, which send() adds. */
type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve;

interface PagerDutyOptions {
  severityMap?: Partial<Record<SeverityLabel, PagerDutySeverity>> | undefined;
  resolveOnArchive?: boolean | undefined;
}

const customDetails = (enriched: EnrichedFinding): Record<string, unknown> => {
  const { finding, enrichment: e } = enriched;
  const line = (text: string | undefined) => plainLine(text, FIELD_LIMIT);
  const optionalLine = (text: string | undefined) => line(text) || undefined;
  const tags = Object.entries(e.resourceTags)
    .slice(0, TAG_ENTRIES)
    .map(([key, value]) => [plainLine(key, TAG_KEY_LIMIT), plainLine(value, TAG_VALUE_LIMIT)] as const)
    .filter(([key]) => key !== '');
  const actor = actorSummary(finding);
  const actorFact = (label: string) => actorFacts(actor).find((fact) => fact.label === label)?.value;
  const details: Record<string, unknown> = {
    finding_id: line(finding.id),
    finding_type: line(finding.type),
    severity: finding.severity,
    severity_label: e.severityLabel,
    severity_text: formatSeverity(finding.severity),
    title: line(finding.title ?? finding.type),
    description: plainText(finding.description, DESCRIPTION_LIMIT) || '(no description)',
    account_id: finding.accountId,
    account_name: optionalLine(e.account.name),
    account_ou: optionalLine(e.account.ou),
    account_owner: optionalLine(e.account.tags.owner ?? e.account.email),
    region: line(finding.region),
    resource_type: line(e.resourceType),
    resource: line(e.resourceSummary),
    resource_tags: tags.length > 0 ? Object.fromEntries(tags) : undefined,
    // Who did what from where (shared/actor-summary.ts): the facts as one-line text, the remote party by part.
    action: optionalLine(actor.action),
    action_detail: optionalLine(actor.detail),
    remote_ip: optionalLine(actor.from?.ip),
    remote_city: optionalLine(actor.from?.city),
    remote_country: optionalLine(actor.from?.country),
    remote_asn: optionalLine(actor.from?.asn),
    remote_asn_org: optionalLine(actor.from?.asnOrg),
    caller: optionalLine(actorFact('Caller')),
    process: optionalLine(actor.process),
    container: optionalLine(actor.container),
    signals: optionalLine(actor.signals?.join('; ')),
    count: e.count,
    first_seen: isoTimestamp(finding.service?.eventFirstSeen),
    last_seen: isoTimestamp(finding.service?.eventLastSeen),
    created_at: isoTimestamp(finding.createdAt),
    updated_at: isoTimestamp(finding.updatedAt),
    finding_arn: line(finding.arn),
    sample: e.sample,
    archived: e.archived,
    console_url: e.consoleUrl,
  };
  return Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined));
};

/** Bytes of the event as sent, routing key included. */
const eventBytes = (event: PagerDutyEvent): number =>
  Buffer.byteLength(JSON.stringify({ routing_key: 'x'.repeat(ROUTING_KEY_LENGTH), ...event }), 'utf8');

/**
 * Keeps the event under PagerDuty's size limit: when it is too big, custom_details (the
 * only open-ended part) is replaced by a note, as Alertmanager does.
 */
const fitEventSize = (event: PagerDutyEvent, maxBytes: number = MAX_EVENT_BYTES): PagerDutyEvent => {
  if (event.event_action !== 'trigger' || eventBytes(event) <= maxBytes) return event;
  const { finding_id, console_url } = event.payload.custom_details;
  return {
    ...event,
    payload: {
      ...event.payload,
      custom_details: { note: `custom details removed: the event was over ${maxBytes} bytes`, finding_id, console_url },
    },
  };
};

const buildPagerDutyEvent = (enriched: EnrichedFinding, options: PagerDutyOptions = {}): PagerDutyEvent => {
  const { finding, enrichment: e } = enriched;
  const dedup_key = findingDedupKey(finding);
  if (e.archived && options.resolveOnArchive === true) return { event_action: 'resolve', dedup_key };
  const severity = options.severityMap?.[e.severityLabel] ?? DEFAULT_SEVERITY_MAP[e.severityLabel];
  const title = plainLine(finding.title ?? finding.type, SUMMARY_LIMIT);
  const region = plainLine(finding.region, 64);
  const head = `${e.sample ? '[SAMPLE] ' : ''}[GuardDuty ${formatSeverity(finding.severity)}]`;
  const timestamp = isoTimestamp(finding.updatedAt);
  return fitEventSize({
    event_action: 'trigger',
    dedup_key,
    payload: {
      summary: plainLine(`${head} ${plainLine(accountLabel(enriched), 200)} ${region}: ${title}`, SUMMARY_LIMIT),
      source: plainLine(`aws:${finding.accountId}:${region}:${e.resourceSummary}`, SOURCE_LIMIT),
      severity,
      ...(timestamp === undefined ? {} : { timestamp }),
      component: plainLine(e.resourceType, FIELD_LIMIT),
      group: plainLine(accountLabel(enriched), FIELD_LIMIT),
      class: plainLine(finding.type, FIELD_LIMIT),
      custom_details: customDetails(enriched),
    },
    links: [{ href: e.consoleUrl, text: 'Open the finding in the GuardDuty console' }],
    client: 'GuardDuty findings router',
    client_url: e.consoleUrl,
  });
};

// ── Sending ──────────────────────────────────────────────────────────────────
const endpoint = (config: PagerDutyConfig): string => config.url ?? PAGERDUTY_URLS[config.region ?? 'us'];

/** PagerDuty answers 202 `{"status":"success",...}`; a 2xx with another status is not a delivery. */
const checkAccepted = (name: string, body: string, secrets: readonly string[]): void => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return; // 2xx without JSON: PagerDuty accepted it.
  }
  const status = (parsed as { status?: unknown } | null)?.status;
  if (typeof status === 'string' && status !== 'success') {
    throw new DeliveryError(name, `PagerDuty answered status '${redactText(status, secrets, { oneLine: true, maxLength: 100 })}'`, { retryable: false });
  }
};

const pagerDutySpec: TargetSpec<PagerDutyConfig> = {
  type: 'pagerduty',
  category: 'ticket',
  updates: 'notify-policy',
  digest: false,
  local: false,
  configSchema: PagerDutyConfigSchema,
};

const pagerDutyTarget: TargetDefinition<PagerDutyConfig> = /* @__PURE__ */ defineTarget(pagerDutySpec, {
  rateLimit: { perSecond: 2, burst: 10 }, // Events API v2: 120 events per minute per routing key
  limits: { payloadBytes: 524_288, source: 'PagerDuty Events API v2: payloads are limited to 512 KB' },
  example: { type: 'pagerduty', routingKey: { env: 'PAGERDUTY_ROUTING_KEY' } },
  upserts: true,
  summary: 'PagerDuty Events API v2: one alert per finding (dedup_key), resolved when the finding is archived.',
  create: (name, config, { secrets, http }) => {
    // render and send build the same event from the same finding: send never parses what render wrote.
    const eventFor = (enriched: EnrichedFinding): PagerDutyEvent => buildPagerDutyEvent(enriched, { severityMap: config.severityMap, resolveOnArchive: config.resolveOnArchive });
    return {
      name,
      render: (enriched) => ({
        body: JSON.stringify(eventFor(enriched)),
        contentType: 'application/json',
        extension: 'json',
      }),
      send: async ({ finding, deadline }) => {
        const routingKey = await secrets.resolve(config.routingKey);
        if (routingKey.length !== ROUTING_KEY_LENGTH) {
          throw new DeliveryError(
            name,
            `the routing key from ${describeSecretRef(config.routingKey)} has ${routingKey.length} characters; a PagerDuty integration key has ${ROUTING_KEY_LENGTH}`,
            { retryable: false },
          );
        }
        const event = eventFor(finding);
        if (event.dedup_key.length > DEDUP_KEY_LIMIT) throw new DeliveryError(name, 'dedup_key over 255 characters', { retryable: false });
        const response = await http.send({
          target: name,
          url: endpoint(config),
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'findings-router' },
          body: JSON.stringify({ routing_key: routingKey, ...event }),
          deadline,
          allowPrivateNetwork: config.allowPrivateNetwork === true,
          secrets: [routingKey],
        });
        checkAccepted(name, response.body, [routingKey]);
      },
    };
  },
});

export {
  pagerDutyTarget,
  pagerDutySpec,
  PagerDutyConfigSchema,
  buildPagerDutyEvent,
  fitEventSize,
  findingDedupKey,
  eventBytes,
  MAX_EVENT_BYTES,
};
export type { PagerDutyConfig, PagerDutyEvent, PagerDutyTrigger };
