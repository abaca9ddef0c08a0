import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { DeliveryError } from '../errors.ts';
import { SecretRefSchema } from '../secrets.ts';
import { actorFacts, actorSummary } from '../actor-summary.ts';
import { formatSeverity, severityTitle, type SeverityLabel } from '../severity.ts';
import { truncate } from '../text.ts';
import { findingDedupKey } from './pagerduty.ts';
import { accountLabel, isoTimestamp, plainLine, plainText } from './plain-text.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';

/**
 * Opsgenie Alert API (`POST /v2/alerts`, `Authorization: GenieKey <key>`). One alert per
 * finding: the `alias` is derived from account, region and finding id, and Opsgenie keeps
 * one open alert per alias (later creates only raise its count). With `closeOnArchive`,
 * an archived finding closes the alert (`POST /v2/alerts/{alias}/close?identifierType=alias`).
 *
 * Documented limits: message 130, alias 512, description 15,000, entity 512, tags 20 × 50,
 * details 8,000 characters in total, source/user 100, note 25,000. Opsgenie renders HTML in
 * the message, so every finding-derived text shown in the UI is HTML-escaped (and cut only
 * between entities).
 *
 * Opsgenie answers 202 and processes the request asynchronously: a 202 means "accepted",
 * not "alert created".
 */
const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
type OpsgeniePriority = (typeof PRIORITIES)[number];
const PrioritySchema = z.enum(PRIORITIES);

const OPSGENIE_URLS = {
  us: 'https://api.opsgenie.com',
  eu: 'https://api.eu.opsgenie.com',
} as const;

const RESPONDER_KINDS = ['team', 'escalation', 'schedule'] as const;
const nonEmpty = () => z.string().check(z.minLength(1), z.maxLength(512));
const ResponderSchema = z.union([
  z.strictObject({ type: z.enum(RESPONDER_KINDS), id: nonEmpty() }),
  z.strictObject({ type: z.enum(RESPONDER_KINDS), name: nonEmpty() }),
  z.strictObject({ type: z.literal('user'), id: nonEmpty() }),
  z.strictObject({ type: z.literal('user'), username: nonEmpty() }),
]);

/** A tag Opsgenie shows as one token: letters, digits and `_ . : / @ + = -`, at most 50. */
const TAG_PATTERN = /^[A-Za-z0-9_.:/@+=-]{1,50}$/;
const MAX_CONFIG_TAGS = 10;

const OpsgenieConfigSchema = z.strictObject({
  type: z.literal('opsgenie'),
  /** The API key of an Opsgenie API integration. */
  apiKey: SecretRefSchema,
  /** `us` (default) → api.opsgenie.com; `eu` → api.eu.opsgenie.com. */
  region: z.optional(z.enum(['us', 'eu'])),
  /** Overrides the API base URL (tests, proxies), e.g. `https://api.opsgenie.com`; the target adds `/v2/alerts`. */
  url: z.optional(
    z.string().check(
      z.url(),
      z.refine((url) => !/^[a-z]+:\/\/[^/]+\/./i.test(url), 'expected a base URL without a path, e.g. https://api.opsgenie.com'),
    ),
  ),
  /** GuardDuty band → Opsgenie priority; unlisted bands keep the default mapping. */
  priorityMap: z.optional(
    z.strictObject({
      low: z.optional(PrioritySchema),
      medium: z.optional(PrioritySchema),
      high: z.optional(PrioritySchema),
      critical: z.optional(PrioritySchema),
    }),
  ),
  responders: z.optional(z.array(ResponderSchema).check(z.maxLength(50))),
  /** Extra tags on every alert (the router adds up to 7 of its own; Opsgenie keeps 20). */
  tags: z.optional(
    z.array(z.string().check(z.regex(TAG_PATTERN, 'expected a tag of at most 50 letters, digits or _ . : / @ + = -'))).check(
      z.maxLength(MAX_CONFIG_TAGS),
    ),
  ),
  /** Display name of the request owner. */
  user: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  /** Note added to the alert when it is created. */
  note: z.optional(z.string().check(z.minLength(1), z.maxLength(25_000))),
  /** Close the finding's alert when GuardDuty archives the finding. */
  closeOnArchive: z.optional(z.boolean()),
  allowPrivateNetwork: z.optional(z.boolean()),
});
type OpsgenieConfig = z.infer<typeof OpsgenieConfigSchema>;
type OpsgenieResponder = z.infer<typeof ResponderSchema>;

const DEFAULT_PRIORITY_MAP: Record<SeverityLabel, OpsgeniePriority> = {
  critical: 'P1',
  high: 'P2',
  medium: 'P3',
  low: 'P4',
};

// ── Limits (Opsgenie Alert API) ──────────────────────────────────────────────
const MESSAGE_LIMIT = 130;
const ALIAS_LIMIT = 512;
const DESCRIPTION_LIMIT = 15_000;
const ENTITY_LIMIT = 512;
const TAG_COUNT_LIMIT = 20;
const TAG_LIMIT = 50;
const DETAILS_TOTAL_LIMIT = 8_000;
const SOURCE = 'GuardDuty';
/** Router-chosen cap per details value, so that many fields fit in 8,000. */
const DETAIL_VALUE_LIMIT = 500;
const RESOURCE_TAG_DETAILS = 10;

// ── HTML escaping ────────────────────────────────────────────────────────────
const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
/** Entities escapeHtml writes; a cut never lands inside one. */
const HTML_ENTITY = /&(?:amp|lt|gt|quot|#39);/;

/** One escaped line within `max` (the limit applies to what Opsgenie receives). */
const htmlLine = (text: string | undefined, max: number): string => truncate(escapeHtml(plainLine(text, Number.MAX_SAFE_INTEGER)), max, HTML_ENTITY);

/** A tag from finding data: only tag characters, at most 50 (a tag is an identifier: no marker). */
const tagOf = (text: string): string => plainLine(text, 200).replace(/[^A-Za-z0-9_.:/@+=-]/g, '_').slice(0, TAG_LIMIT);

// ── The alert ────────────────────────────────────────────────────────────────
interface OpsgenieCreate {
  message: string;
  alias: string;
  description: string;
  responders?: OpsgenieResponder[];
  tags: string[];
  details: Record<string, string>;
  entity: string;
  source: string;
  priority: OpsgeniePriority;
  user?: string;
  note?: string;
}
/** The close request body plus the alias, which send() moves into the URL path. */
interface OpsgenieClose {
  alias: string;
  source: string;
  note: string;
  user?: string;
}
type OpsgenieRequest = OpsgenieCreate | OpsgenieClose;

interface OpsgenieOptions {
  priorityMap?: Partial<Record<SeverityLabel, OpsgeniePriority>> | undefined;
  responders?: OpsgenieResponder[] | undefined;
  tags?: string[] | undefined;
  user?: string | undefined;
  note?: string | undefined;
  closeOnArchive?: boolean | undefined;
}

const isCreate = (request: OpsgenieRequest): request is OpsgenieCreate => 'message' in request;

const describeAlert = (enriched: EnrichedFinding): string => {
  const { finding, enrichment: e } = enriched;
  const line = (text: string | undefined) => plainLine(text, 600);
  const owner = e.account.tags.owner ?? e.account.email;
  const facts = [
    `Severity: ${formatSeverity(finding.severity)}`,
    `Type: ${line(finding.type)}`,
    `Account: ${line(accountLabel(enriched))}${e.account.ou ? `, OU ${line(e.account.ou)}` : ''}${owner ? `, owner ${line(owner)}` : ''}`,
    `Region: ${line(finding.region)}`,
    `Resource: ${line(e.resourceSummary)}`,
    // Who did what from where, since when (shared/actor-summary.ts); `Seen` carries the count.
    ...actorFacts(actorSummary(finding)).map(({ label, value }) => `${label}: ${line(value)}`),
    `Finding: ${line(finding.id)}`,
    `Console: ${e.consoleUrl}`,
  ].join('\n');
  const description = plainText(finding.description, DESCRIPTION_LIMIT) || '(no description)';
  // Facts first: a very long description is what gets cut, never the account or the link.
  return truncate(escapeHtml(`${facts}\n\n${description}`), DESCRIPTION_LIMIT, HTML_ENTITY);
};

/** Router-chosen fields, in priority order, within 8,000 characters of keys and values. */
const alertDetails = (enriched: EnrichedFinding): Record<string, string> => {
  const { finding, enrichment: e } = enriched;
  const actor = actorSummary(finding);
  const entries: [string, string | undefined][] = [
    ['findingId', finding.id],
    ['findingType', finding.type],
    ['severity', `${finding.severity}`],
    ['severityLabel', e.severityLabel],
    ['severityText', formatSeverity(finding.severity)],
    ['accountId', finding.accountId],
    ['accountName', e.account.name],
    ['accountOu', e.account.ou],
    ['accountOwner', e.account.tags.owner ?? e.account.email],
    ['region', finding.region],
    ['resourceType', e.resourceType],
    ['resource', e.resourceSummary],
    ['count', `${e.count}`],
    ['firstSeen', isoTimestamp(finding.service?.eventFirstSeen)],
    ['lastSeen', isoTimestamp(finding.service?.eventLastSeen)],
    ['updatedAt', isoTimestamp(finding.updatedAt)],
    ['action', actor.detail ? `${actor.action}: ${actor.detail}` : actor.action],
    ['remoteIp', actor.from?.ip],
    ['remoteCity', actor.from?.city],
    ['remoteCountry', actor.from?.country],
    ['remoteAsn', actor.from?.asn],
    ['remoteAsnOrg', actor.from?.asnOrg],
    ['caller', actor.from?.identity],
    ['userAgent', actor.from?.userAgent],
    ['process', actor.process],
    ['container', actor.container],
    ['signals', actor.signals?.join('; ')],
    ['sample', e.sample ? 'true' : undefined],
    ['archived', e.archived ? 'true' : undefined],
    ['consoleUrl', e.consoleUrl],
    ...Object.entries(e.resourceTags)
      .slice(0, RESOURCE_TAG_DETAILS)
      .map(([key, value]): [string, string] => [`tag:${tagOf(key)}`, value]),
  ];
  const details: Record<string, string> = {};
  let budget = DETAILS_TOTAL_LIMIT;
  for (const [key, raw] of entries) {
    if (raw === undefined || key in details) continue;
    // The console URL is router-built (the finding id in it is percent-encoded): kept verbatim so it stays a link.
    const value = key === 'consoleUrl' ? raw : htmlLine(raw, Math.min(DETAIL_VALUE_LIMIT, budget - key.length));
    if (value === '' || key.length + value.length > budget) continue;
    details[key] = value;
    budget -= key.length + value.length;
  }
  return details;
};

const alertTags = (enriched: EnrichedFinding, extra: readonly string[] = []): string[] => {
  const { finding, enrichment: e } = enriched;
  const own = [
    SOURCE,
    `severity:${e.severityLabel}`,
    `account:${finding.accountId}`,
    tagOf(`region:${finding.region}`),
    tagOf(e.typeParts.threatPurpose),
    tagOf(`resource:${e.resourceType}`),
    ...(e.sample ? ['sample'] : []),
  ];
  return [...new Set([...extra, ...own].filter((tag) => tag !== ''))].slice(0, TAG_COUNT_LIMIT);
};

const buildOpsgenieAlert = (enriched: EnrichedFinding, options: OpsgenieOptions = {}): OpsgenieRequest => {
  const { finding, enrichment: e } = enriched;
  const alias = findingDedupKey(finding);
  if (e.archived && options.closeOnArchive === true) {
    return {
      alias,
      source: SOURCE,
      note: 'GuardDuty archived this finding; alert closed by the findings router.',
      ...(options.user === undefined ? {} : { user: options.user }),
    };
  }
  const head = `${e.sample ? '[SAMPLE] ' : ''}[${severityTitle(e.severityLabel)}] ${plainLine(e.account.name ?? finding.accountId, 60)}: `;
  return {
    message: htmlLine(`${head}${finding.title ?? finding.type}`, MESSAGE_LIMIT),
    alias,
    description: describeAlert(enriched),
    ...(options.responders && options.responders.length > 0 ? { responders: options.responders } : {}),
    tags: alertTags(enriched, options.tags),
    details: alertDetails(enriched),
    entity: htmlLine(e.resourceSummary, ENTITY_LIMIT),
    source: SOURCE,
    priority: options.priorityMap?.[e.severityLabel] ?? DEFAULT_PRIORITY_MAP[e.severityLabel],
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.note === undefined ? {} : { note: options.note }),
  };
};

// ── Sending ──────────────────────────────────────────────────────────────────
const baseUrl = (config: OpsgenieConfig): string => (config.url ?? OPSGENIE_URLS[config.region ?? 'us']).replace(/\/+$/, '');

const opsgenieSpec: TargetSpec<OpsgenieConfig> = {
  type: 'opsgenie',
  category: 'ticket',
  updates: 'notify-policy',
  digest: false,
  local: false,
  configSchema: OpsgenieConfigSchema,
};

const opsgenieTarget: TargetDefinition<OpsgenieConfig> = /* @__PURE__ */ defineTarget(opsgenieSpec, {
  rateLimit: { perSecond: 5, burst: 10 },
  example: { type: 'opsgenie', apiKey: { env: 'OPSGENIE_API_KEY' } },
  upserts: true,
  summary: 'Opsgenie Alert API: one alert per finding (alias), closed when the finding is archived.',
  create: (name, config, { secrets, http }) => {
    // render and send build the same request from the same finding: send never parses what render wrote.
    const requestFor = (enriched: EnrichedFinding): OpsgenieRequest =>
      buildOpsgenieAlert(enriched, {
        priorityMap: config.priorityMap,
        responders: config.responders,
        tags: config.tags,
        user: config.user,
        note: config.note,
        closeOnArchive: config.closeOnArchive,
      });
    return {
      name,
      render: (enriched) => ({ body: JSON.stringify(requestFor(enriched)), contentType: 'application/json', extension: 'json' }),
      send: async ({ finding, deadline }) => {
        const apiKey = await secrets.resolve(config.apiKey);
        const request = requestFor(finding);
        if (request.alias.length === 0 || request.alias.length > ALIAS_LIMIT) {
          throw new DeliveryError(name, `alias must have 1 to ${ALIAS_LIMIT} characters`, { retryable: false });
        }
        let url = `${baseUrl(config)}/v2/alerts`;
        let body: unknown = request;
        if (!isCreate(request)) {
          const { alias, ...close } = request;
          url = `${url}/${encodeURIComponent(alias)}/close?identifierType=alias`;
          body = close;
        }
        await http.send({
          target: name,
          url,
          method: 'POST',
          headers: {
            authorization: `GenieKey ${apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json',
            'user-agent': 'findings-router',
          },
          body: JSON.stringify(body),
          deadline,
          allowPrivateNetwork: config.allowPrivateNetwork === true,
          secrets: [apiKey, `GenieKey ${apiKey}`],
        });
      },
    };
  },
});

export {
  opsgenieTarget,
  opsgenieSpec,
  OpsgenieConfigSchema,
  buildOpsgenieAlert,
  MESSAGE_LIMIT,
  DESCRIPTION_LIMIT,
  DETAILS_TOTAL_LIMIT,
};
export type { OpsgenieConfig, OpsgenieRequest, OpsgenieCreate };
