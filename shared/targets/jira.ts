import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { consoleLink } from '../console-link.ts';
import { DeliveryError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { SecretRefSchema } from '../secrets.ts';
import { severityTitle, type SeverityLabel } from '../severity.ts';
import { truncate } from '../text.ts';
import type { HttpResponse } from './http.ts';
import { bulletList, doc, heading, keyValueTable, link, oneLine, paragraph, paragraphs, text, type AdfDoc } from './jira-adf.ts';
import { ledgerKey } from './ledger.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';
import { accountText, changeLines, isSignificantUpdate, noticed, parseJson, actorRows, severityText, timestamp, type Noticed } from './upsert.ts';

/**
 * Jira Cloud (REST API v3). One issue per finding: the first delivery creates it
 * (`POST /rest/api/3/issue`, description in ADF built node by node, the finding's identity
 * in the `guardduty-finding` issue property); later updates look the issue up in the
 * ledger — never in JQL search, which lags behind writes — and add a comment only when
 * the severity rose or the count at least doubled since the last notice. With
 * `transitionOnArchive`, an archived finding moves its issue through that transition.
 * Limits: summary 255 characters on one line; rich-text fields 32,767 characters.
 */
const DEFAULT_PRIORITIES: Record<SeverityLabel, string> = { critical: 'Highest', high: 'High', medium: 'Medium', low: 'Low' };

const LabelSchema = z.string().check(z.regex(/^\S{1,255}$/, 'a Jira label is 1 to 255 characters without spaces'));
const PriorityNameSchema = z.string().check(z.minLength(1), z.maxLength(255));

const JiraConfigSchema = z
  .strictObject({
    type: z.literal('jira'),
    /** The site, e.g. https://example.atlassian.net (no /rest path). */
    url: z.string().check(z.regex(/^https?:\/\/[^\s/?#@]+(\/[^\s?#]*)?$/, 'expected the Jira site URL, e.g. https://example.atlassian.net')),
    project: z.string().check(z.regex(/^[A-Z][A-Z0-9_]{0,254}$/, 'expected a project key such as SEC (uppercase letters, digits, _)')),
    issueType: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
    email: SecretRefSchema,
    apiToken: SecretRefSchema,
    /** Jira priority name per severity; `false` sends no priority (for screens without the field). */
    priorities: z.optional(
      z.union([
        z.literal(false),
        z.strictObject({
          critical: z.optional(PriorityNameSchema),
          high: z.optional(PriorityNameSchema),
          medium: z.optional(PriorityNameSchema),
          low: z.optional(PriorityNameSchema),
        }),
      ]),
    ),
    labels: z.optional(z.array(LabelSchema).check(z.maxLength(20))),
    transitionOnArchive: z.optional(z.strictObject({ name: z.string().check(z.minLength(1), z.maxLength(255)) })),
    allowPrivateNetwork: z.optional(z.boolean()),
  })
  .check(
    z.refine((config) => config.allowPrivateNetwork === true || config.url.startsWith('https://'), {
      message: 'url must be https:// (plain http only with allowPrivateNetwork: true, for loopback tests)',
      path: ['url'],
    }),
  );
type JiraConfig = z.infer<typeof JiraConfigSchema>;

const SUMMARY_LIMIT = 255;
const TITLE_LIMIT = 1_000;
const DESCRIPTION_LIMIT = 8_000;
const CELL_LIMIT = 800;
const TAG_LIMIT = 300;
const MAX_TAGS = 20;
const LABEL_LIMIT = 255;
/** Jira's limit on a rich-text field; every document built here stays below it. */
const RICH_TEXT_LIMIT = 32_767;
const PROPERTY_KEY = 'guardduty-finding';

// ── Pure payload builders ────────────────────────────────────────────────────

/** What the issue property records: enough to find the ledger entry and judge an update. */
interface FindingProperty {
  id: string;
  accountId: string;
  region: string;
  partition?: string;
  arn: string;
  type: string;
  severity: number;
  count: number;
  updatedAt: string;
  archived: boolean;
  sample: boolean;
}

/** `GuardDuty High: <title> (<account>)`, one line, at most 255 characters. */
const buildSummary = (enriched: EnrichedFinding): string => {
  const { finding, enrichment: e } = enriched;
  const prefix = `${e.sample ? '[SAMPLE] ' : ''}GuardDuty ${severityTitle(e.severityLabel)}: `;
  const suffix = ` (${truncate(oneLine(e.account.name ? `${e.account.name} ${finding.accountId}` : finding.accountId), 60)})`;
  const title = oneLine(finding.title ?? '') || oneLine(finding.type) || 'finding';
  return `${prefix}${truncate(title, SUMMARY_LIMIT - prefix.length - suffix.length)}${suffix}`;
};

/** Characters a Jira label may hold here: no whitespace, nothing that needs quoting in JQL besides `:`. */
const typeLabel = (type: string): string | undefined => {
  const label = type.replace(/[^A-Za-z0-9._:-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, LABEL_LIMIT);
  return label === '' ? undefined : label;
};

const buildLabels = (enriched: EnrichedFinding, extra: readonly string[]): string[] => {
  const { finding, enrichment: e } = enriched;
  const labels = ['guardduty', `guardduty-${e.severityLabel}`, typeLabel(finding.type), e.sample ? 'guardduty-sample' : undefined, ...extra];
  return [...new Set(labels.filter((label): label is string => label !== undefined))];
};

/** The issue description: title, description, a facts table, resource tags, console link. */
const buildDescription = (enriched: EnrichedFinding): AdfDoc => {
  const { finding, enrichment: e } = enriched;
  const tags = Object.entries(e.resourceTags).slice(0, MAX_TAGS).map(([key, value]) => `${key}: ${value}`);
  const tagList = bulletList(tags, TAG_LIMIT);
  const rows: [string, string | undefined][] = [
    ['Severity', severityText(finding.severity)],
    ['Finding type', finding.type],
    ['Account', accountText(enriched)],
    ['Account owner', e.account.tags.owner ?? e.account.email],
    ['Organizational unit', e.account.ou],
    ['Region', finding.region],
    ['Resource', e.resourceSummary],
    ['Resource type', e.resourceType],
    ...actorRows(enriched),
    ['Count', String(e.count)],
    ['First seen', timestamp(finding.service?.eventFirstSeen) ?? timestamp(finding.createdAt)],
    ['Last seen', timestamp(finding.service?.eventLastSeen) ?? timestamp(finding.updatedAt)],
    ['Status', e.archived ? 'Archived in GuardDuty' : 'Active'],
    ['Finding ID', finding.id],
    ['Finding ARN', finding.arn],
  ];
  const description = paragraphs(finding.description, DESCRIPTION_LIMIT);
  return doc([
    e.sample ? paragraph(text('This is a sample finding generated by GuardDuty: no resource is affected.', 200)) : undefined,
    heading(2, finding.title ?? finding.type, TITLE_LIMIT),
    ...(description.length > 0 ? description : [paragraph(text('GuardDuty gave no description.', 100))]),
    keyValueTable(rows, CELL_LIMIT),
    tagList ? heading(3, 'Resource tags', 100) : undefined,
    tagList,
    paragraph(link('Open in the GuardDuty console', e.consoleUrl, 100)),
  ]);
};

const findingProperty = (enriched: EnrichedFinding): FindingProperty => {
  const { finding, enrichment: e } = enriched;
  return {
    id: finding.id,
    accountId: finding.accountId,
    region: finding.region,
    ...(finding.partition === undefined ? {} : { partition: finding.partition }),
    arn: truncate(finding.arn, 2_048),
    type: finding.type,
    severity: finding.severity,
    count: e.count,
    updatedAt: timestamp(finding.updatedAt) ?? '',
    archived: e.archived,
    sample: e.sample,
  };
};

/** The `POST /rest/api/3/issue` body for a first delivery. */
const buildJiraIssue = (enriched: EnrichedFinding, config: Pick<JiraConfig, 'project' | 'issueType' | 'priorities' | 'labels'>) => {
  const label = enriched.enrichment.severityLabel;
  const priority = config.priorities === false ? undefined : (config.priorities?.[label] ?? DEFAULT_PRIORITIES[label]);
  return {
    fields: {
      project: { key: config.project },
      issuetype: { name: config.issueType ?? 'Task' },
      summary: buildSummary(enriched),
      description: buildDescription(enriched),
      ...(priority === undefined ? {} : { priority: { name: priority } }),
      labels: buildLabels(enriched, config.labels ?? []),
    },
    properties: [{ key: PROPERTY_KEY, value: findingProperty(enriched) }],
  };
};

/** What the ledger remembers per finding: the issue and what humans were last told. */
interface JiraLedgerRecord {
  key: string;
  severity: number;
  count: number;
  archived?: boolean;
}

/** The comment for a significant update, in ADF. */
const buildUpdateComment = (previous: Noticed, current: FindingProperty): AdfDoc => {
  const changes = [...changeLines(previous, current), `Updated at: ${current.updatedAt}`];
  return doc([
    paragraph(text('GuardDuty updated this finding.', 100)),
    bulletList(changes, CELL_LIMIT),
    paragraph(link('Open in the GuardDuty console', consoleLink(current), 100)),
  ]);
};

// ── Sending ──────────────────────────────────────────────────────────────────

const ISSUE_KEY = /^(?:[A-Z][A-Z0-9_]*-\d+|\d+)$/;

const parseLedgerRecord = (stored: string, current: FindingProperty): { record: JiraLedgerRecord; legacy: boolean } | undefined => {
  if (ISSUE_KEY.test(stored)) return { record: { key: stored, severity: current.severity, count: current.count }, legacy: true };
  const parsed = z.safeParse(
    z.object({ key: z.string().check(z.regex(ISSUE_KEY)), severity: z.number(), count: z.number(), archived: z.optional(z.boolean()) }),
    parseJson(stored),
  );
  return parsed.success ? { record: parsed.data, legacy: false } : undefined;
};

const jiraSpec: TargetSpec<JiraConfig> = {
  type: 'jira',
  category: 'ticket',
  updates: 'notify-policy',
  digest: false,
  local: false,
  configSchema: JiraConfigSchema,
};

const jiraTarget: TargetDefinition<JiraConfig> = /* @__PURE__ */ defineTarget(jiraSpec, {
  rateLimit: { perSecond: 5, burst: 10 },
  // A created issue is known by the key in the answer: without one there is nothing to update later.
  statusExceptions: { 204: 'permanent' },
  example: { type: 'jira', url: 'https://example.atlassian.net', project: 'SEC', email: { env: 'JIRA_EMAIL' }, apiToken: { env: 'JIRA_API_TOKEN' } },
  upserts: true,
  summary: 'Jira Cloud issue per finding (ADF description), comments on significant updates, optional transition on archive.',
  create: (name, config, { secrets, http, ledger }) => {
    const base = config.url.replace(/\/+$/, '');

    const permanent = (message: string) => new DeliveryError(name, message, { retryable: false });

    const credentials = async () => {
      const [email, token] = await Promise.all([secrets.resolve(config.email), secrets.resolve(config.apiToken)]);
      const encoded = Buffer.from(`${email}:${token}`, 'utf8').toString('base64');
      return { authorization: `Basic ${encoded}`, secrets: [token, encoded] };
    };

    return {
      name,
      render: (enriched) => ({ body: JSON.stringify(buildJiraIssue(enriched, config)), contentType: 'application/json', extension: 'json' }),
      send: async ({ payload, finding: enriched, deadline }) => {
        const finding = findingProperty(enriched);
        const key = ledgerKey(name, finding);
        const auth = await credentials();

        const call = (method: string, path: string, json?: unknown): Promise<HttpResponse> =>
          http.send({
            target: name,
            url: `${base}${path}`,
            method,
            headers: {
              authorization: auth.authorization,
              accept: 'application/json',
              ...(json === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(json === undefined ? {} : { body: typeof json === 'string' ? json : JSON.stringify(json) }),
            deadline,
            allowPrivateNetwork: config.allowPrivateNetwork === true,
            secrets: auth.secrets,
          });
        const issuePath = (issue: string) => `/rest/api/3/issue/${encodeURIComponent(issue)}`;

        const transitionToArchived = async (issue: string): Promise<void> => {
          const wanted = config.transitionOnArchive?.name.toLowerCase();
          if (wanted === undefined) return;
          const listed = z.safeParse(
            z.object({ transitions: z.array(z.object({ id: z.string(), name: z.optional(z.string()), to: z.optional(z.object({ name: z.optional(z.string()) })) })) }),
            parseJson((await call('GET', `${issuePath(issue)}/transitions`)).body),
          );
          if (!listed.success) throw permanent(`Jira listed no transitions for ${issue}`);
          const transitions = listed.data.transitions;
          const match =
            transitions.find((t) => t.name?.toLowerCase() === wanted) ?? transitions.find((t) => t.to?.name?.toLowerCase() === wanted);
          if (match === undefined) {
            // Not offered: fine when the issue already is in that status (a human closed it).
            const status = z.safeParse(
              z.object({ fields: z.object({ status: z.object({ name: z.string() }) }) }),
              parseJson((await call('GET', `${issuePath(issue)}?fields=status`)).body),
            );
            if (status.success && status.data.fields.status.name.toLowerCase() === wanted) return;
            const offered = transitions.map((t) => `'${redactText(oneLine(t.name ?? t.id), auth.secrets, { maxLength: 50 })}'`).join(', ') || 'none';
            throw permanent(`transition '${config.transitionOnArchive?.name}' is not available for ${issue} (offered: ${offered})`);
          }
          await call('POST', `${issuePath(issue)}/transitions`, { transition: { id: match.id } });
        };

        const stored = await ledger.get(key);
        if (stored === undefined) {
          const response = await call('POST', '/rest/api/3/issue', payload.body);
          const created = z.safeParse(z.object({ key: z.string().check(z.regex(ISSUE_KEY)) }), parseJson(response.body));
          if (!created.success) throw permanent(`Jira answered HTTP ${response.status} without an issue key`);
          const record: JiraLedgerRecord = { key: created.data.key, severity: finding.severity, count: finding.count };
          const kept = await ledger.putIfAbsent(key, JSON.stringify(record));
          if (kept !== JSON.stringify(record)) return; // a concurrent delivery recorded its issue first; it handles what follows
          if (finding.archived && config.transitionOnArchive !== undefined) {
            await transitionToArchived(record.key);
            await ledger.set(key, JSON.stringify({ ...record, archived: true }));
          }
          return;
        }

        const parsed = parseLedgerRecord(stored, finding);
        if (parsed === undefined) throw permanent(`the ledger entry for this finding is unreadable; expected an issue key`);
        let record = parsed.record;
        if (parsed.legacy) await ledger.set(key, JSON.stringify(record));
        if (isSignificantUpdate(record, finding)) {
          await call('POST', `${issuePath(record.key)}/comment`, { body: buildUpdateComment(record, finding) });
          record = noticed(record, finding);
          await ledger.set(key, JSON.stringify(record));
        }
        if (finding.archived && config.transitionOnArchive !== undefined && record.archived !== true) {
          await transitionToArchived(record.key);
          await ledger.set(key, JSON.stringify({ ...record, archived: true }));
        }
      },
    };
  },
});

export {
  jiraTarget,
  jiraSpec,
  JiraConfigSchema,
  buildJiraIssue,
  isSignificantUpdate,
  SUMMARY_LIMIT,
  RICH_TEXT_LIMIT,
  PROPERTY_KEY,
};
export type { JiraConfig };
