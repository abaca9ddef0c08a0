import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { Digest } from '../delivery/digest.ts';
import { DeliveryError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { SecretRefSchema } from '../secrets.ts';
import { actorFacts, actorSummary } from '../actor-summary.ts';
import { formatSeverity, severityTitle, type SeverityLabel } from '../severity.ts';
import { stripInvisible, truncate } from '../text.ts';
import { escapeMrkdwn, MRKDWN_ENTITY } from './slack-mrkdwn.ts';
import { TargetActionsSchema, withSlackButtons } from '../actions/slack-buttons.ts';
import { defineTarget } from './define.ts';
import type { SendJob, TargetDefinition, TargetSpec } from './types.ts';

/**
 * Slack incoming webhook with a Block Kit message. Every finding-derived string goes
 * through escapeMrkdwn; limits: 3,000 characters per section text, 2,000 per field,
 * 150 for plain-text headers, 50 blocks.
 */
const SlackConfigSchema = z.strictObject({
  type: z.literal('slack'),
  webhookUrl: SecretRefSchema,
  allowPrivateNetwork: z.optional(z.boolean()),
  /** Buttons under each finding (docs/actions.md); absent: none. */
  actions: z.optional(TargetActionsSchema),
});
type SlackConfig = z.infer<typeof SlackConfigSchema>;

const SECTION_LIMIT = 3000;
const FIELD_LIMIT = 2000;
const FALLBACK_LIMIT = 3000;
const ACTOR_FACT_LIMIT = 400;
const SEVERITY_EMOJI: Record<SeverityLabel, string> = {
  critical: ':rotating_light:',
  high: ':red_circle:',
  medium: ':large_orange_diamond:',
  low: ':large_blue_circle:',
};

const esc = (text: string | undefined, limit: number): string => truncate(escapeMrkdwn(text ?? ''), limit, MRKDWN_ENTITY);

const buildSlackMessage = (enriched: EnrichedFinding) => {
  const { finding, enrichment: e } = enriched;
  const severity = formatSeverity(finding.severity);
  const accountName = e.account.name ? `${e.account.name} (${finding.accountId})` : `${finding.accountId} (unknown account)`;
  const owner = e.account.tags.owner ?? e.account.email;
  const fields = [
    `*Severity*\n${SEVERITY_EMOJI[e.severityLabel]} ${esc(severity, FIELD_LIMIT)}`,
    `*Account*\n${esc(accountName, FIELD_LIMIT)}${owner ? `\nowner: ${esc(owner, FIELD_LIMIT)}` : ''}`,
    `*Region*\n${esc(finding.region, FIELD_LIMIT)}`,
    `*Resource*\n${esc(e.resourceSummary, FIELD_LIMIT)}`,
    `*Type*\n${esc(finding.type, FIELD_LIMIT)}`,
    `*Count*\n${e.count}`,
  ];
  // Who did what from where, since when: one line per fact, each value escaped; 7 facts × 400 stay within one section.
  const actor = actorFacts(actorSummary(finding)).map(({ label, value }) => `*${label}* ${esc(value, ACTOR_FACT_LIMIT)}`).join('\n');
  // One line, no edge spaces: Slack shows `*title *` (a published sample's trailing space) with literal asterisks.
  const title = stripInvisible(`${e.sample ? '[SAMPLE] ' : ''}${finding.title ?? finding.type}`).replace(/\s+/g, ' ').trim();
  return {
    text: truncate(escapeMrkdwn(`[${severityTitle(e.severityLabel)}] ${title} in ${accountName}`), FALLBACK_LIMIT, MRKDWN_ENTITY),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${SEVERITY_EMOJI[e.severityLabel]} *${esc(title, SECTION_LIMIT - 40)}*` } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text: truncate(text, FIELD_LIMIT, MRKDWN_ENTITY) })) },
      { type: 'section', text: { type: 'mrkdwn', text: esc(finding.description, SECTION_LIMIT) || '_no description_' } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(actor, SECTION_LIMIT, MRKDWN_ENTITY) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `<${e.consoleUrl.replace(/&/g, '&amp;')}|Open in the GuardDuty console> · finding ${esc(finding.id, 300)}` }],
      },
    ],
  };
};

/** One Block Kit message summarising a group of similar findings. Pure. */
const buildSlackDigest = (digest: Digest) => {
  const list = (rows: [string, number][]) => rows.map(([name, n]) => `• ${esc(name, 300)} (${n})`).join('\n');
  const title = `${digest.count} similar findings, worst ${formatSeverity(digest.worstScore)}`;
  return {
    text: truncate(escapeMrkdwn(`[Digest] ${title}`), FALLBACK_LIMIT, MRKDWN_ENTITY),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${SEVERITY_EMOJI[digest.worst]} *${esc(title, 300)}*` } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: truncate(`*Types*\n${list(digest.types)}`, FIELD_LIMIT, MRKDWN_ENTITY) },
          { type: 'mrkdwn', text: truncate(`*Accounts*\n${list(digest.accounts)}`, FIELD_LIMIT, MRKDWN_ENTITY) },
          { type: 'mrkdwn', text: truncate(`*Top resources*\n${list(digest.topResources)}`, FIELD_LIMIT, MRKDWN_ENTITY) },
          { type: 'mrkdwn', text: `*Window*\n${esc(digest.firstSeen, 40)} – ${esc(digest.lastSeen, 40)}` },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(`route ${escapeMrkdwn(digest.route)} · group ${escapeMrkdwn(digest.key)}`, 2000, MRKDWN_ENTITY) }] },
    ],
  };
};

const slackSpec: TargetSpec<SlackConfig> = {
  type: 'slack',
  category: 'chat',
  updates: 'notify-policy',
  digest: true,
  local: false,
  configSchema: SlackConfigSchema,
};

const slackTarget: TargetDefinition<SlackConfig> = /* @__PURE__ */ defineTarget(slackSpec, {
  rateLimit: { perSecond: 1, burst: 3 }, // about one message per second per webhook
  example: { type: 'slack', webhookUrl: { env: 'SLACK_WEBHOOK_URL' } },
  summary: 'Slack incoming webhook, Block Kit message with escaped finding text.',
  create: (name, config, { secrets, http }) => ({
    name,
    render: (enriched) => ({ body: JSON.stringify(withSlackButtons(buildSlackMessage(enriched), enriched, config.actions)), contentType: 'application/json', extension: 'json' }),
    renderDigest: (digest) => ({ body: JSON.stringify(buildSlackDigest(digest)), contentType: 'application/json', extension: 'json' }),
    send: async ({ payload, deadline }: SendJob) => {
      const url = await secrets.resolve(config.webhookUrl);
      const response = await http.send({
        target: name,
        url,
        headers: { 'content-type': 'application/json' },
        body: payload.body,
        deadline,
        allowPrivateNetwork: config.allowPrivateNetwork === true,
      });
      // A webhook answers 2xx `ok`; any other text is Slack refusing the message (it will refuse it again).
      if (response.body !== 'ok' && response.body !== '') {
        throw new DeliveryError(name, `Slack answered '${redactText(response.body, [url], { oneLine: true, maxLength: 100 })}'`, { retryable: false });
      }
    },
  }),
});

export { slackTarget, slackSpec, buildSlackMessage, buildSlackDigest, SlackConfigSchema };
