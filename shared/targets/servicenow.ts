import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { DeliveryError } from '../errors.ts';
import { SecretRefSchema } from '../secrets.ts';
import { severityTitle, type SeverityLabel } from '../severity.ts';
import { stripControl, truncate } from '../text.ts';
import type { HttpResponse } from './http.ts';
import { ledgerKey } from './ledger.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';
import { accountText, changeLines, isSignificantUpdate, noticed, parseJson, actorRows, severityText, timestamp, type Noticed } from './upsert.ts';

/**
 * ServiceNow Table API: one record per finding in `incident` (or `sn_si_incident` for
 * Security Incident Response, or any task table). The first delivery inserts it
 * (`POST /api/now/table/{table}`) with `correlation_id` = the finding id and
 * `correlation_display` = GuardDuty; the ledger keeps its sys_id, and a later update adds
 * `work_notes` (`PATCH /api/now/table/{table}/{sys_id}`) only when the severity rose or
 * the count at least doubled. Text is plain: control characters removed and `[code]`
 * tags (which journal fields render as HTML) defused. Limits from the default dictionary:
 * short_description 160, description 4,000, correlation_id and correlation_display 100.
 */
const LEVEL = z.union([z.literal(1), z.literal(2), z.literal(3)]);
const UrgencyImpactSchema = z.strictObject({ urgency: LEVEL, impact: LEVEL });
type UrgencyImpact = z.infer<typeof UrgencyImpactSchema>;

/** Urgency × impact gives the priority: 1/1 → 1 Critical, 1/2 → 2 High, 2/2 → 3 Moderate, 3/2 → 4 Low. */
const DEFAULT_URGENCY_IMPACT: Record<SeverityLabel, UrgencyImpact> = {
  critical: { urgency: 1, impact: 1 },
  high: { urgency: 1, impact: 2 },
  medium: { urgency: 2, impact: 2 },
  low: { urgency: 3, impact: 2 },
};

/** Fields this target writes itself; `fields` may not override them. */
const MANAGED_FIELDS = ['short_description', 'description', 'urgency', 'impact', 'correlation_id', 'correlation_display', 'category', 'work_notes'];

const ServiceNowConfigSchema = z
  .strictObject({
    type: z.literal('servicenow'),
    /** The instance, e.g. https://example.service-now.com (no /api path). */
    url: z.string().check(z.regex(/^https?:\/\/[^\s/?#@]+(\/[^\s?#]*)?$/, 'expected the instance URL, e.g. https://example.service-now.com')),
    table: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9_]{0,79}$/, 'expected a table name such as incident or sn_si_incident'))),
    /** Basic authentication: both username and password. */
    username: z.optional(SecretRefSchema),
    password: z.optional(SecretRefSchema),
    /** OAuth: an access token sent as `Authorization: Bearer`. */
    token: z.optional(SecretRefSchema),
    category: z.optional(z.string().check(z.minLength(1), z.maxLength(40))),
    urgencyImpact: z.optional(
      z.strictObject({
        critical: z.optional(UrgencyImpactSchema),
        high: z.optional(UrgencyImpactSchema),
        medium: z.optional(UrgencyImpactSchema),
        low: z.optional(UrgencyImpactSchema),
      }),
    ),
    /** Fixed values for other fields of the table (assignment_group, caller_id, ...). */
    fields: z.optional(
      z.record(
        z.string().check(
          z.regex(/^[a-z][a-z0-9_]{0,79}$/, 'expected a field name such as assignment_group'),
          z.refine((key) => !MANAGED_FIELDS.includes(key), 'this field is written by the target itself'),
        ),
        z.string().check(z.maxLength(4_000)),
      ),
    ),
    allowPrivateNetwork: z.optional(z.boolean()),
  })
  .check(
    z.refine((config) => config.allowPrivateNetwork === true || config.url.startsWith('https://'), {
      message: 'url must be https:// (plain http only with allowPrivateNetwork: true, for loopback tests)',
      path: ['url'],
    }),
    z.refine(
      (config) =>
        config.token !== undefined ? config.username === undefined && config.password === undefined : config.username !== undefined && config.password !== undefined,
      { message: 'set either username and password (Basic authentication) or token (OAuth bearer token), not both', path: ['token'] },
    ),
  );
type ServiceNowConfig = z.infer<typeof ServiceNowConfigSchema>;

const SHORT_DESCRIPTION_LIMIT = 160;
const DESCRIPTION_LIMIT = 4_000;
const WORK_NOTES_LIMIT = 4_000;
const CORRELATION_ID_LIMIT = 100;
const VALUE_LIMIT = 300;
/** ARNs and the console link hold a finding id of up to 300 characters: never cut them in normal use. */
const LINK_LIMIT = 800;

// ── Plain text ───────────────────────────────────────────────────────────────

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Plain text for ServiceNow: CR/LF, U+2028/2029 and NEL become LF, other control
 * characters go, lone surrogates become U+FFFD, and `[code]`/`[/code]` — which journal
 * fields and some lists render as raw HTML — become `(code)`/`(/code)`.
 */
const plainText = (value: string): string =>
  stripControl(value.replace(/\r\n?|[\u0085\u2028\u2029]/g, '\n').replace(LONE_SURROGATE, '\uFFFD')).replace(/\[\s*(\/?)\s*code\s*\]/gi, '($1code)');

const plainLine = (value: string | undefined): string => plainText(value ?? '').replace(/\s+/g, ' ').trim();

// ── Pure payload builders ────────────────────────────────────────────────────


/** The finding id when it is a plain token of at most 100 characters, else a stable digest of it. */
const correlationId = (id: string): string =>
  /^[A-Za-z0-9_.-]{1,100}$/.test(id) ? id : `gd-sha256-${createHash('sha256').update(id).digest('hex')}`.slice(0, CORRELATION_ID_LIMIT);

const buildShortDescription = (enriched: EnrichedFinding): string => {
  const { finding, enrichment: e } = enriched;
  const prefix = `${e.sample ? '[SAMPLE] ' : ''}GuardDuty ${severityTitle(e.severityLabel)}: `;
  const suffix = ` (${truncate(plainLine(e.account.name ? `${e.account.name} ${finding.accountId}` : finding.accountId), 40)})`;
  const title = plainLine(finding.title) || plainLine(finding.type) || 'finding';
  return `${prefix}${truncate(title, SHORT_DESCRIPTION_LIMIT - prefix.length - suffix.length)}${suffix}`;
};


/** Facts first (each value one line, ≤ 300 characters; ARN and link ≤ 800), then the finding's description in what is left of 4,000. */
const buildDescription = (enriched: EnrichedFinding): string => {
  const { finding, enrichment: e } = enriched;
  const facts: [string, string | undefined, number?][] = [
    ['GuardDuty finding', finding.title ?? finding.type],
    ['Severity', severityText(finding.severity)],
    ['Finding type', finding.type],
    ['Account', accountText(enriched)],
    ['Account owner', e.account.tags.owner ?? e.account.email],
    ['Organizational unit', e.account.ou],
    ['Region', finding.region],
    ['Resource', e.resourceSummary],
    ['Resource type', e.resourceType],
    ['Resource tags', Object.entries(e.resourceTags).slice(0, 20).map(([key, value]) => `${key}=${value}`).join(', ') || undefined],
    ...actorRows(enriched),
    ['Count', String(e.count)],
    ['First seen', timestamp(finding.service?.eventFirstSeen) ?? timestamp(finding.createdAt)],
    ['Last seen', timestamp(finding.service?.eventLastSeen) ?? timestamp(finding.updatedAt)],
    ['Status', e.archived ? 'Archived in GuardDuty' : 'Active'],
    ['Finding ID', finding.id],
    ['Finding ARN', finding.arn, LINK_LIMIT],
    ['Console', e.consoleUrl, LINK_LIMIT],
  ];
  const lines = [
    ...(e.sample ? ['[SAMPLE] A sample finding generated by GuardDuty: no resource is affected.'] : []),
    ...facts.flatMap(([label, value, limit]) => {
      const line = truncate(plainLine(value), limit ?? VALUE_LIMIT);
      return line === '' ? [] : [`${label}: ${line}`];
    }),
  ];
  const header = truncate(lines.join('\n'), DESCRIPTION_LIMIT);
  const text = plainText(finding.description ?? '')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');
  const room = DESCRIPTION_LIMIT - header.length - 2;
  return text === '' || room < 40 ? header : `${header}\n\n${truncate(text, room)}`;
};

/** The `POST /api/now/table/{table}` body for a first delivery. */
const buildServiceNowRecord = (enriched: EnrichedFinding, config: Pick<ServiceNowConfig, 'category' | 'urgencyImpact' | 'fields'>) => {
  const label = enriched.enrichment.severityLabel;
  const { urgency, impact } = config.urgencyImpact?.[label] ?? DEFAULT_URGENCY_IMPACT[label];
  return {
    ...config.fields,
    short_description: buildShortDescription(enriched),
    description: buildDescription(enriched),
    urgency: String(urgency),
    impact: String(impact),
    correlation_id: correlationId(enriched.finding.id),
    correlation_display: 'GuardDuty',
    ...(config.category === undefined ? {} : { category: config.category }),
  };
};

/** What send() needs besides the body: where the ledger keeps this finding, and what an update compares. */
interface UpsertFacts {
  ledgerKey: string;
  severity: number;
  count: number;
  updatedAt: string;
  consoleUrl: string;
}

const upsertFacts = (target: string, enriched: EnrichedFinding): UpsertFacts => ({
  ledgerKey: ledgerKey(target, enriched.finding),
  severity: enriched.finding.severity,
  count: enriched.enrichment.count,
  updatedAt: timestamp(enriched.finding.updatedAt) ?? '',
  consoleUrl: enriched.enrichment.consoleUrl,
});

/** What the ledger remembers per finding: the record and what humans were last told. */
interface ServiceNowLedgerRecord {
  sysId: string;
  number?: string;
  severity: number;
  count: number;
}
const SYS_ID = /^[0-9a-f]{32}$/;
const LedgerRecordSchema = z.object({ sysId: z.string().check(z.regex(SYS_ID)), number: z.optional(z.string()), severity: z.number(), count: z.number() });

const buildWorkNote = (previous: Noticed, current: UpsertFacts): string =>
  truncate(
    plainText(
      [
        'GuardDuty updated this finding.',
        ...changeLines(previous, current),
        `Updated at: ${plainLine(current.updatedAt)}`,
        `Console: ${current.consoleUrl}`,
      ].join('\n'),
    ),
    WORK_NOTES_LIMIT,
  );

// ── Sending ──────────────────────────────────────────────────────────────────


const serviceNowSpec: TargetSpec<ServiceNowConfig> = {
  type: 'servicenow',
  category: 'ticket',
  updates: 'notify-policy',
  digest: false,
  local: false,
  configSchema: ServiceNowConfigSchema,
};

const serviceNowTarget: TargetDefinition<ServiceNowConfig> = /* @__PURE__ */ defineTarget(serviceNowSpec, {
  rateLimit: { perSecond: 5, burst: 10 },
  // A created record is known by the sys_id in the answer: without one there is nothing to update later.
  statusExceptions: { 204: 'permanent' },
  example: { type: 'servicenow', url: 'https://example.service-now.com', token: { env: 'SERVICENOW_TOKEN' } },
  upserts: true,
  summary: 'ServiceNow Table API record (incident or security incident) per finding; work notes on significant updates.',
  create: (name, config, { secrets, http, ledger }) => {
    const base = `${config.url.replace(/\/+$/, '')}/api/now/table/${config.table ?? 'incident'}`;
    const permanent = (message: string) => new DeliveryError(name, message, { retryable: false });

    const credentials = async (): Promise<{ authorization: string; secrets: string[] }> => {
      if (config.token !== undefined) {
        const token = await secrets.resolve(config.token);
        return { authorization: `Bearer ${token}`, secrets: [token] };
      }
      if (config.username === undefined || config.password === undefined) throw permanent('no ServiceNow credentials configured');
      const [username, password] = await Promise.all([secrets.resolve(config.username), secrets.resolve(config.password)]);
      const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
      return { authorization: `Basic ${encoded}`, secrets: [password, encoded] };
    };

    return {
      name,
      render: (enriched) => ({ body: JSON.stringify(buildServiceNowRecord(enriched, config)), contentType: 'application/json', extension: 'json' }),
      send: async ({ payload, finding, deadline }) => {
        const current = upsertFacts(name, finding);
        const auth = await credentials();
        const call = (method: string, url: string, json: unknown): Promise<HttpResponse> =>
          http.send({
            target: name,
            url,
            method,
            headers: { authorization: auth.authorization, accept: 'application/json', 'content-type': 'application/json' },
            body: typeof json === 'string' ? json : JSON.stringify(json),
            deadline,
            allowPrivateNetwork: config.allowPrivateNetwork === true,
            secrets: auth.secrets,
          });

        const stored = await ledger.get(current.ledgerKey);
        if (stored === undefined) {
          const response = await call('POST', `${base}?sysparm_fields=sys_id,number`, payload.body);
          const created = z.safeParse(
            z.object({ result: z.object({ sys_id: z.string().check(z.regex(SYS_ID)), number: z.optional(z.string()) }) }),
            parseJson(response.body),
          );
          if (!created.success) throw permanent(`ServiceNow answered HTTP ${response.status} without a record sys_id`);
          const record: ServiceNowLedgerRecord = {
            sysId: created.data.result.sys_id,
            ...(created.data.result.number === undefined ? {} : { number: created.data.result.number }),
            severity: current.severity,
            count: current.count,
          };
          await ledger.putIfAbsent(current.ledgerKey, JSON.stringify(record));
          return;
        }

        const record = z.safeParse(LedgerRecordSchema, parseJson(stored));
        if (!record.success) throw permanent('the ledger entry for this finding is unreadable; expected a ServiceNow sys_id');
        if (!isSignificantUpdate(record.data, current)) return;
        await call('PATCH', `${base}/${record.data.sysId}?sysparm_fields=sys_id,number`, { work_notes: buildWorkNote(record.data, current) });
        await ledger.set(current.ledgerKey, JSON.stringify(noticed(record.data, current)));
      },
    };
  },
});

export {
  serviceNowTarget,
  serviceNowSpec,
  ServiceNowConfigSchema,
  buildServiceNowRecord,
  isSignificantUpdate,
  correlationId,
  SHORT_DESCRIPTION_LIMIT,
  DESCRIPTION_LIMIT,
};
export type { ServiceNowConfig };
