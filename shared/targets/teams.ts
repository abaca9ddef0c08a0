import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { DeliveryError } from '../errors.ts';
import { SecretRefSchema } from '../secrets.ts';
import { actorFacts, actorSummary } from '../actor-summary.ts';
import { formatSeverity, severityTitle, type SeverityLabel } from '../severity.ts';
import { stripBidi, stripControl, truncate } from '../text.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';
import { TargetActionsSchema } from '../actions/slack-buttons.ts';
import { TEAMS_EXECUTE_CARD_VERSION, teamsExecuteActions } from '../actions/teams-card-actions.ts';

/**
 * Microsoft Teams through a Workflows (Power Automate) "When a Teams webhook request is
 * received" trigger: a `message` with one Adaptive Card 1.4 attachment. The Office 365
 * connector MessageCard is retired and Workflows do not accept it.
 *
 * TextBlock and FactSet text is Markdown (bold, italic, lists, `[text](url)` links, nothing else;
 * learn.microsoft.com/adaptive-cards/authoring-cards/text-features), so every
 * finding-derived string goes through escapeTeamsMarkdown. Teams refuses messages over about
 * 28 KB; the builder measures the UTF-8 JSON and shrinks the free text until it fits.
 * Workflows answer 202 Accepted; errors come as `{"error":{"code","message"}}` (400
 * WorkflowTriggerIsNotEnabled / TriggerInputSchemaMismatch, 401 DirectApiAuthorizationRequired,
 * 404 WorkflowNotFound, 429 WorkflowRequestsThrottled).
 */
const TeamsConfigSchema = z.strictObject({
  type: z.literal('teams'),
  webhookUrl: SecretRefSchema,
  allowPrivateNetwork: z.optional(z.boolean()),
  /** Action.Execute buttons (docs/actions.md: they need the router's Teams bot); absent: none. */
  actions: z.optional(TargetActionsSchema),
});
type TeamsConfig = z.infer<typeof TeamsConfigSchema>;

/** Teams' documented message limit is 28 KB; stay under it with room for the flow's own envelope. */
const TEAMS_MAX_PAYLOAD_BYTES = 24 * 1024;
const TITLE_LIMIT = 300;
const FACT_LIMIT = 600;
const DESCRIPTION_LIMIT = 4000;
const ID_LIMIT = 200;

const SEVERITY_COLOR: Record<SeverityLabel, 'Attention' | 'Warning' | 'Accent' | 'Good'> = {
  critical: 'Attention',
  high: 'Warning',
  medium: 'Accent',
  low: 'Good',
};

/** Every line break Markdown or a reader may honour. */
const LINE_BREAKS = /[\r\n\u000b\u000c\u0085\u2028\u2029]+/g;
/** A surrogate without its pair is not valid UTF-8 (JSON parsers and Teams may refuse it). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Link-text, autolink, HTML and mention delimiters are swapped for look-alikes no parser reads as syntax. */
const LOOK_ALIKES: Record<string, string> = { '[': '［', ']': '］', '<': '‹', '>': '›' };
/** An underscore that could open or close italics: not between two letters or digits (CommonMark flanking). */
const EMPHASIS_UNDERSCORE = /(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu;
/** `&name;` / `&#123;` would be decoded as a character reference. */
const ENTITY_AMPERSAND = /&(?=#\d+;|#x[0-9a-f]+;|[a-z][a-z0-9]*;)/gi;
/** A list marker at the start of a value; the space after it becomes a no-break space, which opens no list. */
const LEADING_LIST_MARKER = /^([-+]|\d{1,9}[.)])(?: |$)/;

/**
 * Makes a finding-derived string inert in the Markdown Teams renders in a TextBlock or Fact:
 * bold and italic, `[text](url)` links, and `- ` / `1. ` lists; nothing else, and no backslash
 * escapes (Teams shows `\(` and `\&` as typed, so escaping must not use them). One line:
 * control and bidi characters removed, line breaks folded to spaces. Swapped for look-alikes
 * that render the same: `[ ] < >` (no link, autolink, HTML tag or mention), `*` (∗), an
 * underscore that could delimit italics (＿; `snake_case` keeps its own), an `&` that would
 * start a character reference (＆). A leading list marker keeps its look, followed by U+00A0.
 */
const escapeTeamsMarkdown = (text: string): string => {
  const oneLine = stripBidi(stripControl(text.replace(LINE_BREAKS, ' ')))
    .replace(/\t/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
    .replace(LONE_SURROGATE, '\uFFFD');
  return oneLine
    .replace(/[[\]<>]/g, (c) => LOOK_ALIKES[c] ?? c)
    .replace(/\*/g, '∗')
    .replace(EMPHASIS_UNDERSCORE, '＿')
    .replace(ENTITY_AMPERSAND, '＆')
    .replace(LEADING_LIST_MARKER, '$1\u00a0');
};

/** Every escape is one UTF-16 unit (or the no-break space after a marker): truncation needs no atomic pattern. */
const esc = (text: string | undefined, limit: number): string => truncate(escapeTeamsMarkdown(text ?? ''), limit);

interface BuildOptions {
  /** Multiplies every free-text limit; the builder lowers it until the message fits. */
  scale: number;
  withAction: boolean;
  /** Action.Execute buttons (shared/actions/teams-card-actions.ts); the card then declares 1.5. */
  executeActions: readonly object[];
}

const buildCard = (enriched: EnrichedFinding, { scale, withAction, executeActions }: BuildOptions) => {
  const { finding, enrichment: e } = enriched;
  const limit = (n: number) => Math.max(40, Math.floor(n * scale));
  const severity = formatSeverity(finding.severity);
  const account = e.account.name ? `${e.account.name} (${finding.accountId})` : `${finding.accountId} (unknown account)`;
  const owner = e.account.tags.owner ?? e.account.email;
  // Our own prefix: `[SAMPLE]` followed by a space forms no link; only the finding's title goes through esc().
  const samplePrefix = e.sample ? '[SAMPLE] ' : '';
  const facts = [
    { title: 'Severity', value: esc(severity, 100) },
    { title: 'Account', value: esc(account, limit(FACT_LIMIT)) },
    ...(owner === undefined ? [] : [{ title: 'Owner', value: esc(owner, limit(FACT_LIMIT)) }]),
    { title: 'Resource', value: esc(e.resourceSummary, limit(FACT_LIMIT)) || 'unknown' },
    { title: 'Type', value: esc(finding.type, limit(FACT_LIMIT)) },
    { title: 'Region', value: esc(finding.region, limit(FACT_LIMIT)) },
    { title: 'Count', value: String(e.count) },
    // Who did what from where, since when (shared/actor-summary.ts), each value escaped.
    ...actorFacts(actorSummary(finding)).map(({ label, value }) => ({ title: label, value: esc(value, limit(FACT_LIMIT)) })),
  ];
  const description = esc(finding.description, limit(DESCRIPTION_LIMIT));
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: executeActions.length > 0 ? TEAMS_EXECUTE_CARD_VERSION : '1.4',
    msteams: { width: 'Full' },
    body: [
      {
        type: 'TextBlock',
        text: `**${severityTitle(e.severityLabel).toUpperCase()}** GuardDuty finding`,
        color: SEVERITY_COLOR[e.severityLabel],
        weight: 'Bolder',
        wrap: true,
      },
      { type: 'TextBlock', text: `${samplePrefix}${esc(finding.title ?? finding.type, limit(TITLE_LIMIT))}`, size: 'Medium', weight: 'Bolder', wrap: true },
      { type: 'FactSet', facts },
      { type: 'TextBlock', text: description || '_no description_', wrap: true },
      { type: 'TextBlock', text: `Finding ${esc(finding.id, ID_LIMIT)}`, isSubtle: true, size: 'Small', wrap: true },
    ],
    actions: withAction ? [{ type: 'Action.OpenUrl', title: 'Open in the GuardDuty console', url: e.consoleUrl }, ...executeActions] : [],
  };
};

const wrapCard = (card: ReturnType<typeof buildCard>) => ({
  type: 'message',
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
});

const utf8Bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * The Workflows webhook body for one finding, at most TEAMS_MAX_PAYLOAD_BYTES of UTF-8 JSON:
 * free-text limits shrink step by step, and as a last resort (an absurdly long finding id
 * inside the console URL) the button is dropped rather than sending a card Teams refuses.
 */
const buildTeamsMessage = (enriched: EnrichedFinding, executeActions: readonly object[] = []) => {
  for (const withAction of [true, false]) {
    for (const scale of [1, 0.5, 0.25, 0.1, 0]) {
      const message = wrapCard(buildCard(enriched, { scale, withAction, executeActions: withAction ? executeActions : [] }));
      if (utf8Bytes(message) <= TEAMS_MAX_PAYLOAD_BYTES) return message;
    }
  }
  // Unreachable with the limits above (every text is bounded); kept so the bound is a guarantee.
  throw new Error('a Teams card cannot be made small enough');
};

/** Legacy Office 365 connector URLs: retired, and Workflows need a different payload anyway. */
const isLegacyConnectorUrl = (url: string): boolean => {
  try {
    const { hostname, pathname } = new URL(url);
    return /(^|\.)webhook\.office\.com$/i.test(hostname) || (/^outlook\.office(365)?\.com$/i.test(hostname) && pathname.startsWith('/webhook'));
  } catch {
    return false;
  }
};

/**
 * The SAS signature (`sig`) authorises anyone holding it: redact it on its own too, in case a
 * response echoes it outside the full URL (redactText masks whole URLs and `signature=`, not `sig=`).
 */
const sasSecrets = (url: string): string[] => {
  try {
    const sig = new URL(url).searchParams.get('sig');
    return sig === null || sig === '' ? [] : [sig, encodeURIComponent(sig)];
  } catch {
    return [];
  }
};

const teamsSpec: TargetSpec<TeamsConfig> = {
  type: 'teams',
  category: 'chat',
  updates: 'notify-policy',
  digest: true,
  local: false,
  configSchema: TeamsConfigSchema,
};

const teamsTarget: TargetDefinition<TeamsConfig> = /* @__PURE__ */ defineTarget(teamsSpec, {
  rateLimit: { perSecond: 4, burst: 4 }, // Teams webhooks throttle above a few requests per second
  limits: { payloadBytes: 28_672, source: 'Teams: a message is at most 28 KB' },
  example: { type: 'teams', webhookUrl: { env: 'TEAMS_WEBHOOK_URL' } },
  summary: 'Microsoft Teams Workflows webhook, Adaptive Card with escaped finding text.',
  create: (name, config, { secrets, http }) => ({
    name,
    render: (enriched) => ({ body: JSON.stringify(buildTeamsMessage(enriched, teamsExecuteActions(enriched, config.actions))), contentType: 'application/json', extension: 'json' }),
    send: async ({ payload, ...delivery }) => {
      const url = await secrets.resolve(config.webhookUrl);
      if (isLegacyConnectorUrl(url)) {
        throw new DeliveryError(
          name,
          'this is a retired Office 365 connector URL: create a Teams Workflows webhook ("When a Teams webhook request is received") and use its URL',
          { retryable: false },
        );
      }
      await http.send({
        target: name,
        url,
        headers: { 'content-type': 'application/json' },
        body: payload.body,
        deadline: delivery.deadline,
        allowPrivateNetwork: config.allowPrivateNetwork === true,
        secrets: [url, ...sasSecrets(url)],
      });
    },
  }),
});

export { teamsTarget, teamsSpec, buildTeamsMessage, escapeTeamsMarkdown, TeamsConfigSchema, TEAMS_MAX_PAYLOAD_BYTES };
