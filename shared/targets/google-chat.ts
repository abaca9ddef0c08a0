import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { Digest } from '../delivery/digest.ts';
import { actorFacts, actorSummary } from '../actor-summary.ts';
import { composeKey } from '../keys.ts';
import { SecretRefSchema } from '../secrets.ts';
import { formatSeverity, severityTitle, type SeverityLabel } from '../severity.ts';
import { stripInvisible, truncate } from '../text.ts';
import { defineTarget } from './define.ts';
import type { SendJob, TargetDefinition, TargetSpec } from './types.ts';

/**
 * Google Chat incoming webhook (developers.google.com/workspace/chat/quickstart/webhooks): one
 * message per finding with a `cardsV2` card, replies in one thread per finding (`thread.threadKey`
 * with `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`; the `threadKey` query parameter
 * is deprecated).
 *
 * Card text (textParagraph, decoratedText) is HTML by default: `<b>`, `<i>`, `<font color>`,
 * `<a href>`, `<br>` and entities are read, so finding text is HTML-escaped (and `<users/all>`
 * stays text). The message `text` uses Chat's own syntax (`*bold*`, `_italic_`, `~strike~`,
 * backticks, `<url|label>` links, `<users/…>` mentions) with no escape character, so the few
 * words it carries get look-alikes instead. A message is at most 32,000 bytes; the builder
 * shrinks the free text until the JSON is under MAX_PAYLOAD_BYTES. Errors are Google API
 * errors, `{"error":{"code":429,"message":…,"status":"RESOURCE_EXHAUSTED"}}`; the shared rule
 * classifies them (429 and 5xx retried, INVALID_ARGUMENT, PERMISSION_DENIED, NOT_FOUND not).
 * The webhook URL's `key` and `token` query parameters let anyone post: the URL is a secret.
 */
const GoogleChatConfigSchema = z.strictObject({
  type: z.literal('google-chat'),
  webhookUrl: SecretRefSchema.check(z.describe('secret reference to the space webhook URL (its key and token let anyone post to the space)')),
  threadPerFinding: z
    .optional(z.boolean())
    .check(z.describe("updates of a finding reply in the finding's thread (default true); false: every message starts a thread")),
  allowPrivateNetwork: z.optional(z.boolean()).check(z.describe('loopback/private hosts and plain http (tests)')),
});
type GoogleChatConfig = z.infer<typeof GoogleChatConfigSchema>;

/** Under the documented 32,000 bytes, with room for what Chat adds to the stored message. */
const MAX_PAYLOAD_BYTES = 30_000;
const TITLE_LIMIT = 300;
const FACT_LIMIT = 600;
const DESCRIPTION_LIMIT = 4000;
const ID_LIMIT = 200;
const TEXT_LIMIT = 200;
const REPLY_OPTION = 'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD';

const SEVERITY_COLOR: Record<SeverityLabel, string> = { critical: '#b80000', high: '#d93025', medium: '#e37400', low: '#1a73e8' };

const LINE_BREAKS = /\r\n|[\r\n\u000b\u000c\u0085\u2028\u2029]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** A quote needs no escape: finding text never lands inside an attribute (only our own `<font color>` has one). */
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/** What escapeChatHtml writes as a unit: a cut must not land inside one. */
const HTML_UNIT = /&(?:amp|lt|gt);|<br>/;
/** Chat's text-message syntax characters, swapped for look-alikes (there is no escape character). */
const TEXT_LOOK_ALIKES: Record<string, string> = { '<': '‹', '>': '›', '*': '∗', _: '＿', '~': '∼', '`': 'ˋ' };

/** Well-formed, no control or bidi characters, line breaks as `\n`. */
const clean = (text: string): string => stripInvisible(text.replace(LINE_BREAKS, '\n').replace(/\t/g, ' ')).replace(LONE_SURROGATE, '\uFFFD');

/** Card HTML: every finding-derived string is text, never a tag or entity; `multiline` keeps line breaks as `<br>`. */
const escapeChatHtml = (text: string, options: { multiline?: boolean } = {}): string => {
  const escaped = clean(text).replace(/[&<>]/g, (c) => HTML_ESCAPES[c] ?? c);
  return options.multiline ? escaped.trim().replace(/\n+/g, '<br>') : escaped.replace(/\s+/g, ' ').trim();
};

/** One line of the message `text`, inert in Chat's text syntax. */
const neutraliseChatText = (text: string): string => clean(text).replace(/\s+/g, ' ').trim().replace(/[<>*_~`]/g, (c) => TEXT_LOOK_ALIKES[c] ?? c);

const html = (text: string | undefined, limit: number, options: { multiline?: boolean } = {}): string =>
  truncate(escapeChatHtml(text ?? '', options), limit, HTML_UNIT);

/** Updates of one finding share a thread; the key says nothing about the finding (a hash). */
const threadKey = (enriched: EnrichedFinding): string => `guardduty-${composeKey('google-chat-thread', enriched.finding.accountId, enriched.finding.region, enriched.finding.id)}`;

const buildCard = (enriched: EnrichedFinding, scale: number, withButton: boolean) => {
  const { finding, enrichment: e } = enriched;
  const limit = (n: number) => Math.max(40, Math.floor(n * scale));
  const severity = formatSeverity(finding.severity);
  const account = e.account.name ? `${e.account.name} (${finding.accountId})` : `${finding.accountId} (unknown account)`;
  const owner = e.account.tags.owner ?? e.account.email;
  const fact = (label: string, value: string) => ({ decoratedText: { topLabel: label, text: value, wrapText: true } });
  const facts = [
    fact('Severity', `<font color="${SEVERITY_COLOR[e.severityLabel]}">${html(severity, 100)}</font>`),
    fact('Account', html(account, limit(FACT_LIMIT))),
    ...(owner === undefined ? [] : [fact('Owner', html(owner, limit(FACT_LIMIT)))]),
    fact('Resource', html(e.resourceSummary, limit(FACT_LIMIT)) || 'unknown'),
    fact('Type', html(finding.type, limit(FACT_LIMIT))),
    fact('Region', html(finding.region, limit(FACT_LIMIT))),
    fact('Count', String(e.count)),
  ];
  // Who did what from where, since when (shared/actor-summary.ts); labels are ours, values escaped.
  const actor = actorFacts(actorSummary(finding)).map(({ label, value }) => fact(label, html(value, limit(FACT_LIMIT))));
  const title = `${e.sample ? '[SAMPLE] ' : ''}${html(finding.title ?? finding.type, limit(TITLE_LIMIT))}`;
  return {
    cardId: 'guardduty-finding',
    card: {
      // Header and section headers hold our own words only: whether Chat reads HTML there is not documented.
      header: { title: `${severityTitle(e.severityLabel)} GuardDuty finding`, subtitle: 'Amazon GuardDuty' },
      sections: [
        { widgets: [{ textParagraph: { text: `<b>${title}</b>` } }] },
        { widgets: facts },
        ...(actor.length > 0 ? [{ header: 'Activity', widgets: actor }] : []),
        { widgets: [{ textParagraph: { text: html(finding.description, limit(DESCRIPTION_LIMIT), { multiline: true }) || '<i>no description</i>' } }] },
        {
          widgets: [
            ...(withButton ? [{ buttonList: { buttons: [{ text: 'Open in the GuardDuty console', onClick: { openLink: { url: e.consoleUrl } } }] } }] : []),
            { textParagraph: { text: `Finding ${html(finding.id, ID_LIMIT)}` } },
          ],
        },
      ],
    },
  };
};

/**
 * The webhook body for one finding, at most MAX_PAYLOAD_BYTES of UTF-8 JSON: the free-text
 * limits shrink step by step, and as a last resort (a finding id too long for any console URL)
 * the button goes rather than the message.
 */
const buildGoogleChatMessage = (enriched: EnrichedFinding, options: { thread?: boolean } = {}) => {
  const { finding, enrichment: e } = enriched;
  const text = truncate(neutraliseChatText(`GuardDuty ${formatSeverity(finding.severity)}: ${e.sample ? '[SAMPLE] ' : ''}${finding.title ?? finding.type}`), TEXT_LIMIT);
  for (const withButton of [true, false]) {
    for (const scale of [1, 0.5, 0.25, 0.1, 0]) {
      const message = { text, cardsV2: [buildCard(enriched, scale, withButton)], ...(options.thread === false ? {} : { thread: { threadKey: threadKey(enriched) } }) };
      if (Buffer.byteLength(JSON.stringify(message), 'utf8') <= MAX_PAYLOAD_BYTES) return message;
    }
  }
  // Unreachable with the limits above (every text is bounded); kept so the bound is a guarantee.
  throw new Error('a Google Chat message cannot be made small enough');
};

/**
 * One card for a group of similar findings (flood control): counts, worst severity, the lists,
 * the time span. Digests of one group share a thread, as a finding's updates do.
 */
const buildGoogleChatDigest = (digest: Digest, options: { thread?: boolean } = {}) => {
  const list = (rows: [string, number][]) => rows.map(([name, n]) => `${html(name, 300)} (${n})`).join('<br>');
  const fact = (label: string, value: string) => ({ decoratedText: { topLabel: label, text: truncate(value, 2000, HTML_UNIT) || '–', wrapText: true } });
  const title = `${digest.count} similar findings, worst ${formatSeverity(digest.worstScore)}`;
  return {
    text: truncate(neutraliseChatText(`GuardDuty digest: ${title}`), TEXT_LIMIT),
    cardsV2: [
      {
        cardId: 'guardduty-digest',
        card: {
          header: { title: `${severityTitle(digest.worst)} GuardDuty digest`, subtitle: 'Amazon GuardDuty' },
          sections: [
            { widgets: [{ textParagraph: { text: `<b><font color="${SEVERITY_COLOR[digest.worst]}">${html(title, 300)}</font></b>` } }] },
            {
              widgets: [
                fact('Types', list(digest.types)),
                fact('Accounts', list(digest.accounts)),
                fact('Top resources', list(digest.topResources)),
                fact('Window', `${html(digest.firstSeen, 40)} – ${html(digest.lastSeen, 40)}`),
              ],
            },
            { widgets: [{ textParagraph: { text: `Route ${html(digest.route, 300)} · group ${html(digest.key, 1000)}` } }] },
          ],
        },
      },
    ],
    ...(options.thread === false ? {} : { thread: { threadKey: `guardduty-digest-${composeKey('google-chat-digest-thread', digest.key)}` } }),
  };
};

/** The URL to post to: with threads, the reply option is added unless the operator's URL sets one. */
const postUrl = (webhookUrl: string, thread: boolean): string => {
  if (!thread) return webhookUrl;
  try {
    const url = new URL(webhookUrl);
    if (url.searchParams.has('messageReplyOption')) return webhookUrl;
    url.searchParams.set('messageReplyOption', REPLY_OPTION);
    return url.toString();
  } catch {
    return webhookUrl; // the HTTP client refuses it with a redacted reason
  }
};

/** `key` and `token` each let anyone post: mask them on their own too, wherever an answer echoes them. */
const urlSecrets = (webhookUrl: string): string[] => {
  try {
    const { searchParams } = new URL(webhookUrl);
    return ['key', 'token'].flatMap((name) => {
      const value = searchParams.get(name);
      return value === null || value === '' ? [] : [value, encodeURIComponent(value)];
    });
  } catch {
    return [];
  }
};

const googleChatSpec: TargetSpec<GoogleChatConfig> = {
  type: 'google-chat',
  category: 'chat',
  updates: 'notify-policy',
  digest: true,
  local: false,
  configSchema: GoogleChatConfigSchema,
};

const googleChatTarget: TargetDefinition<GoogleChatConfig> = /* @__PURE__ */ defineTarget(googleChatSpec, {
  // Chat allows 60 message writes per minute per space, shared by every app and webhook in it.
  rateLimit: { perSecond: 1, burst: 1 },
  limits: { payloadBytes: 32_000, source: 'Google Chat: a message is at most 32,000 bytes' },
  example: { type: 'google-chat', webhookUrl: { env: 'GOOGLE_CHAT_WEBHOOK_URL' } },
  summary: 'Google Chat space webhook: a cardsV2 card (severity, account, resource, console link) with HTML-escaped finding text, one thread per finding, digest cards for flood control.',
  create: (name, config, { secrets, http }) => {
    const thread = config.threadPerFinding !== false;
    return {
      name,
      render: (enriched) => ({ body: JSON.stringify(buildGoogleChatMessage(enriched, { thread })), contentType: 'application/json; charset=UTF-8', extension: 'json' }),
      renderDigest: (digest) => ({ body: JSON.stringify(buildGoogleChatDigest(digest, { thread })), contentType: 'application/json; charset=UTF-8', extension: 'json' }),
      send: async ({ payload, deadline }: SendJob) => {
        const webhookUrl = await secrets.resolve(config.webhookUrl);
        const url = postUrl(webhookUrl, thread);
        await http.send({
          target: name,
          url,
          headers: { 'content-type': 'application/json; charset=UTF-8' },
          body: payload.body,
          deadline,
          allowPrivateNetwork: config.allowPrivateNetwork === true,
          secrets: [webhookUrl, url, ...urlSecrets(webhookUrl)],
        });
      },
    };
  },
});

export { googleChatTarget, googleChatSpec, buildGoogleChatMessage, buildGoogleChatDigest, escapeChatHtml, neutraliseChatText, GoogleChatConfigSchema };
