import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { buildDigest } from '../../../shared/delivery/digest.ts';
import {
  buildGoogleChatDigest,
  buildGoogleChatMessage,
  escapeChatHtml,
  GoogleChatConfigSchema,
  googleChatTarget,
  neutraliseChatText,
} from '../../../shared/targets/google-chat.ts';
import type { DigestTarget, Target } from '../../../shared/targets/types.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { enrichedFrom, FILLER_SHIFTS, HOSTILE, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { googleError, startGoogleChatReceiver, type GoogleChatReceiver } from '../../helpers/google-chat-receiver.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { REPRESENTATIVE_NAMES } from '../../helpers/representative.ts';
import {
  delivery,
  expectNoLeak,
  failure,
  itMasksEchoesAcrossCuts,
  itNeverLeaks,
  pick,
  targetContext,
  updated,
} from '../../helpers/target-contract.ts';

// ── Reading card text as Google Chat does ────────────────────────────────────

/** The tags the renderer itself writes; any other `<`, `>` or `&` that is not an entity would be read by Chat. */
const OWN_TAGS = /<\/?b>|<\/?i>|<font color="#[0-9a-f]{6}">|<\/font>/g;

/** What a reader sees of card HTML, and every construct that would be active (a tag, a character reference Chat would decode). */
const readCardHtml = (text: string): { literal: string; active: string[] } => {
  const body = text.replace(/<br>/g, '\n').replace(OWN_TAGS, '');
  const active = [...(/[<>]/.test(body) ? ['tag'] : []), ...(/&(?!(?:amp|lt|gt);)/.test(body) ? ['entity'] : [])];
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(body)) active.push('broken surrogate');
  const literal = body.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return { literal, active };
};

interface Widget {
  textParagraph?: { text: string };
  decoratedText?: { topLabel: string; text: string };
  buttonList?: { buttons: { text: string; onClick: { openLink: { url: string } } }[] };
}
interface Message {
  text: string;
  cardsV2: { cardId: string; card: { header: { title: string }; sections: { header?: string; widgets: Widget[] }[] } }[];
  thread?: { threadKey: string };
}

/** Every card text of a message, labelled, each checked inert; the message within the size budget. */
const cardTexts = (body: string): { message: Message; texts: Map<string, string> } => {
  expect(Buffer.byteLength(body, "utf8"), "the documented 32,000-byte message limit").toBeLessThanOrEqual(32_000);
  const message = JSON.parse(body) as Message;
  const texts = new Map<string, string>();
  message.cardsV2[0]!.card.sections.forEach((section, s) =>
    section.widgets.forEach((widget, w) => {
      const text = widget.textParagraph?.text ?? widget.decoratedText?.text;
      if (text !== undefined) texts.set(widget.decoratedText?.topLabel ?? `paragraph ${s}.${w}`, text);
    }),
  );
  for (const [label, text] of texts) expect(readCardHtml(text).active, `${label}: nothing Chat would read as HTML`).toEqual([]);
  expect(message.text, 'text: no Chat text syntax').not.toMatch(/[<>*_~`]/);
  return { message, texts };
};

const SPACE_PATH = '/v1/spaces/AAAAspace01/messages';
const KEY = 'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI';
const TOKEN = 'z7pQk0a9yBn3_Xw1VbUc4Rt8Ld2Fh6Jg5Ms0Nq9Pe7Y=';

const makeTarget = (url: string, settings: { threadPerFinding?: boolean } = {}): Target =>
  googleChatTarget.create('soc-chat', { type: 'google-chat', webhookUrl: { env: 'GOOGLE_CHAT_WEBHOOK_URL' }, allowPrivateNetwork: true, ...settings }, targetContext({ env: { GOOGLE_CHAT_WEBHOOK_URL: url } }));

let representative: [string, EnrichedFinding][] = [];
beforeAll(async () => {
  representative = await representativeFindings();
});

const receivers: GoogleChatReceiver[] = [];
const receiver = async (): Promise<GoogleChatReceiver> => {
  const started = await startGoogleChatReceiver({ key: KEY, token: encodeURIComponent(TOKEN) });
  receivers.push(started);
  return started;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

/** Renders and sends one finding as the deliver stage does: the job carries the payload and the finding. */
const send = (target: Target, enriched: EnrichedFinding, deadlineMs = 5_000) => target.send({ payload: target.render(enriched), finding: enriched, ...delivery(deadlineMs) });

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: google-chat', () => {
  describe('config', () => {
    it('takes the webhook URL as a secret reference only, and no unknown keys', () => {
      // Prepare
      const good = { type: 'google-chat', webhookUrl: { ssm: '/findings-router/chat-webhook' }, threadPerFinding: false };
      const inline = { type: 'google-chat', webhookUrl: `https://chat.googleapis.com${SPACE_PATH}?key=${KEY}&token=${TOKEN}` };
      const extra = { type: 'google-chat', webhookUrl: { env: 'X' }, space: 'AAAA' };

      // Act
      const results = [good, inline, extra, googleChatTarget.example].map((config) => z.safeParse(GoogleChatConfigSchema, config).success);

      // Assess
      expect(results).toEqual([true, false, false, true]);
    });
  });

  describe('message golden files', () => {
    it.each(REPRESENTATIVE_NAMES)('renders %s as in test/golden/google-chat', async (name) => {
      // Prepare
      const enriched = pick(representative, name);

      // Act
      const body = googleChatTarget.create('soc-chat', googleChatTarget.example, targetContext()).render(enriched).body;

      // Assess
      await expect(`${JSON.stringify(JSON.parse(body), null, 2)}\n`).toMatchFileSnapshot(`../../golden/google-chat/${name}.json`);
      const { message, texts } = cardTexts(body);
      expect([...texts.values()].some((text) => text.endsWith(TRUNCATION_MARKER))).toBe(false);
      expect(message.cardsV2[0]!.card.sections.at(-1)!.widgets[0]!.buttonList!.buttons[0]!.onClick.openLink.url).toBe(enriched.enrichment.consoleUrl);
    });
  });

  describe('escaping', () => {
    it.each([
      ['<users/all> ping', '&lt;users/all&gt; ping'],
      ['<b>bold</b> <a href="https://evil.example">x</a>', '&lt;b&gt;bold&lt;/b&gt; &lt;a href="https://evil.example"&gt;x&lt;/a&gt;'],
      ['&lt;pre-escaped&gt; &amp; &#60;', '&amp;lt;pre-escaped&amp;gt; &amp;amp; &amp;#60;'],
      ['line1\r\nline2\u2028line3', 'line1 line2 line3'],
      ['\u001b[31mred\u001b[0m \u202eevil', '[31mred[0m evil'],
      ['C&C *not bold* _not italic_', 'C&amp;C *not bold* _not italic_'],
    ])('card HTML: %j → %j', (source, escaped) => {
      // Act / Assess
      expect(escapeChatHtml(source)).toBe(escaped);
      expect(readCardHtml(escapeChatHtml(source)).active).toEqual([]);
    });

    it('card HTML keeps line breaks of a description as <br>', () => {
      expect(escapeChatHtml('first\r\n\r\nsecond <i>', { multiline: true })).toBe('first<br>second &lt;i&gt;');
    });

    it.each([
      ['<users/all> *b* _i_ ~s~ `c` <https://evil.example|Approve>', '‹users/all› ∗b∗ ＿i＿ ∼s∼ ˋcˋ ‹https://evil.example|Approve›'],
      ['a\nb\u2029c', 'a b c'],
    ])('message text: %j → %j', (source, neutral) => {
      expect(neutraliseChatText(source)).toBe(neutral);
    });
  });

  describe('hostile finding', () => {
    it.each(Array.from({ length: FILLER_SHIFTS }, (_, shift) => shift))('every finding-derived text is inert, cut cleanly and within 32,000 bytes (filler shift %i)', async (shift) => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding({ shift }), hostileAccount());

      // Act
      const body = JSON.stringify(buildGoogleChatMessage(enriched));

      // Assess
      const { message, texts } = cardTexts(body);
      const description = readCardHtml(message.cardsV2[0]!.card.sections.at(-2)!.widgets[0]!.textParagraph!.text).literal;
      expect(description).toContain(`${HOSTILE.channel} ${HOSTILE.here} ${HOSTILE.user} ${HOSTILE.link} ${HOSTILE.preEscaped} ${HOSTILE.codeBreakout} ${HOSTILE.bold}`);
      expect(description.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(readCardHtml(texts.get('Account')!).literal.startsWith(`acct ${HOSTILE.channel} ${HOSTILE.here}`)).toBe(true);
      expect(message.text).toContain('‹!channel› ‹!here› ‹@U123›');
    });

    it('very long multi-byte text everywhere still fits: the budgets shrink, and Chat accepts it', async () => {
      // Prepare
      // Three UTF-8 bytes a character: at the first limits the card would be about 37 KB.
      const huge = `${'中'.repeat(12_000)}<&😀`;
      const base = await enrichedFrom(hostileFinding(), hostileAccount());
      const enriched = {
        ...base,
        finding: { ...base.finding, title: huge, description: huge, type: huge, region: huge },
        enrichment: { ...base.enrichment, resourceSummary: huge, account: { ...base.enrichment.account, name: huge, tags: { owner: huge } } },
      };

      // Act
      const body = JSON.stringify(buildGoogleChatMessage(enriched));

      // Assess
      const { texts } = cardTexts(body);
      expect(['Account', 'Owner', 'Resource', 'Type', 'Region'].every((label) => texts.get(label)!.endsWith(TRUNCATION_MARKER))).toBe(true);
      const chat = await receiver();
      await send(makeTarget(chat.url), enriched);
      expect(chat.messages).toHaveLength(1);
    });

    it('a long console URL beside long text: the text budgets shrink so the button stays, within 32,000 bytes', async () => {
      // Prepare
      const huge = `${'中'.repeat(12_000)}<&😀`;
      const base = await enrichedFrom(hostileFinding(), hostileAccount());
      const consoleUrl = `https://console.aws.amazon.com/guardduty/home#/findings?fId=${'a'.repeat(20_000)}`;
      const enriched = { ...base, finding: { ...base.finding, title: huge, description: huge }, enrichment: { ...base.enrichment, consoleUrl, resourceSummary: huge } };

      // Act
      const body = JSON.stringify(buildGoogleChatMessage(enriched));

      // Assess
      const { message, texts } = cardTexts(body);
      expect(message.cardsV2[0]!.card.sections.at(-1)!.widgets[0]!.buttonList!.buttons[0]!.onClick.openLink.url).toBe(consoleUrl);
      expect(texts.get('Resource')!.endsWith(TRUNCATION_MARKER)).toBe(true);
    });

    it('an absurd finding id (console URL over any budget) drops the button, never the size limit', async () => {
      // Prepare
      const base = await enrichedFrom(hostileFinding(), hostileAccount());
      const id = '%'.repeat(40_000);
      const enriched = { ...base, finding: { ...base.finding, id }, enrichment: { ...base.enrichment, consoleUrl: `https://console.aws.amazon.com/guardduty/home#/findings?fId=${encodeURIComponent(id)}` } };

      // Act
      const body = JSON.stringify(buildGoogleChatMessage(enriched));

      // Assess
      const { message } = cardTexts(body);
      expect(message.cardsV2[0]!.card.sections.flatMap((section) => section.widgets).some((widget) => widget.buttonList !== undefined)).toBe(false);
    });

    it('is accepted by Chat and posted to the space', async () => {
      // Prepare
      const chat = await receiver();
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());

      // Act
      await send(makeTarget(chat.url), enriched);

      // Assess
      expect(chat.messages).toHaveLength(1);
    });
  });

  describe('digest card (flood control)', () => {
    it('renders a group of the representative findings as in test/golden/google-chat/digest.json', async () => {
      // Prepare
      const digest = buildDigest({ key: 'recon-chat type=Recon:EC2/PortProbeUnprotectedPort', route: 'recon-chat' }, representative.map(([, enriched]) => enriched));
      const target = googleChatTarget.create('soc-chat', googleChatTarget.example, targetContext());

      // Act
      const body = target.renderDigest!(digest).body;

      // Assess
      await expect(`${JSON.stringify(JSON.parse(body), null, 2)}\n`).toMatchFileSnapshot('../../golden/google-chat/digest.json');
      const { texts } = cardTexts(body);
      expect(readCardHtml(texts.get('Types')!).literal.split('\n')).toHaveLength(digest.types.length);
    });

    it('hostile group values (route, key, types, accounts, resources) stay text, and Chat accepts the card', async () => {
      // Prepare
      const hostile = await enrichedFrom(hostileFinding(), hostileAccount());
      const digest = buildDigest({ key: `route ${HOSTILE.channel} type=${HOSTILE.link}`, route: `r ${HOSTILE.here}` }, [hostile, pick(representative, 'instance')]);
      const chat = await receiver();
      const target = makeTarget(chat.url) as DigestTarget;

      // Act
      const payload = target.renderDigest(digest);
      await target.send({ payload, digest, ...delivery() });

      // Assess
      const { texts } = cardTexts(payload.body);
      expect([...texts.values()].map((text) => readCardHtml(text).literal).join('\n')).toContain(`group route ${HOSTILE.channel} type=${HOSTILE.link}`);
      expect(chat.messages).toHaveLength(1);
    });

    it('digests of one group share a thread', async () => {
      // Prepare
      const chat = await receiver();
      const target = makeTarget(chat.url) as DigestTarget;
      const group = (members: EnrichedFinding[], key: string) => buildDigest({ key, route: 'recon-chat' }, members);
      const digests = [group([pick(representative, 'instance')], 'g1'), group([pick(representative, 'eks')], 'g2'), group([pick(representative, 'rds')], 'g1')];

      // Act
      for (const digest of digests) await target.send({ payload: target.renderDigest(digest), digest, ...delivery() });

      // Assess
      const threads = chat.messages.map((message) => message.thread);
      expect(threads[2]).toBe(threads[0]);
      expect(threads[1]).not.toBe(threads[0]);
      expect(buildGoogleChatDigest(digests[0]!, { thread: false })).not.toHaveProperty('thread');
    });
  });

  describe('delivery to a space webhook', () => {
    it('POSTs the rendered JSON to the webhook URL with its key and token, replying in the thread of the finding', async () => {
      // Prepare
      const chat = await receiver();
      const target = makeTarget(chat.url);
      const enriched = pick(representative, 'instance');
      const payload = target.render(enriched);

      // Act
      await target.send({ payload, finding: enriched, ...delivery() });

      // Assess
      const [request] = chat.requests;
      const url = new URL(request!.path, 'http://x');
      expect(request!.method).toBe('POST');
      expect(url.pathname).toBe(SPACE_PATH);
      expect(Object.fromEntries(url.searchParams)).toEqual({ key: KEY, token: TOKEN, messageReplyOption: 'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD' });
      expect(request!.headers['content-type']).toBe('application/json; charset=UTF-8');
      expect(request!.body).toBe(payload.body);
      expect(JSON.parse(payload.body).thread.threadKey).toMatch(/^guardduty-[0-9a-f]{64}$/);
    });

    it("updates of one finding join its thread; another finding starts its own", async () => {
      // Prepare
      const chat = await receiver();
      const target = makeTarget(chat.url);
      const instance = pick(representative, 'instance');

      // Act
      for (const enriched of [instance, updated(instance, 1), pick(representative, 'eks'), updated(instance, 2)]) await send(target, enriched);

      // Assess
      const threads = chat.messages.map((message) => message.thread);
      expect(threads[1]).toBe(threads[0]);
      expect(threads[3]).toBe(threads[0]);
      expect(threads[2]).not.toBe(threads[0]);
    });

    it('threadPerFinding: false sends no thread and no reply option: every message starts a thread', async () => {
      // Prepare
      const chat = await receiver();
      const target = makeTarget(chat.url, { threadPerFinding: false });
      const instance = pick(representative, 'instance');

      // Act
      await send(target, instance);
      await send(target, updated(instance, 1));

      // Assess
      expect(chat.requests.map((request) => new URL(request.path, 'http://x').searchParams.has('messageReplyOption'))).toEqual([false, false]);
      expect(chat.requests.map((request) => JSON.parse(request.body).thread)).toEqual([undefined, undefined]);
      expect(new Set(chat.messages.map((message) => message.thread)).size).toBe(2);
    });

    it("keeps a reply option the operator's URL already sets", async () => {
      // Prepare
      const chat = await receiver();
      const target = makeTarget(`${chat.url}&messageReplyOption=REPLY_MESSAGE_OR_FAIL`);

      // Act
      await send(target, pick(representative, 'instance'));

      // Assess
      expect(new URL(chat.requests[0]!.path, 'http://x').searchParams.getAll('messageReplyOption')).toEqual(['REPLY_MESSAGE_OR_FAIL']);
    });

    it('429 RESOURCE_EXHAUSTED (the space quota) is retryable and names the status', async () => {
      // Prepare
      const chat = await receiver();
      chat.answer = { status: 429, body: googleError(429, "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per space'") };

      // Act
      const error = await failure(send(makeTarget(chat.url), pick(representative, 'instance')));

      // Assess
      expect(error.retryable).toBe(true);
      expect(error.status).toBe(429);
      expect(error.message).toContain('RESOURCE_EXHAUSTED');
    });

    it('a key Chat does not know is 400 INVALID_ARGUMENT: permanent, and neither key nor token shows', async () => {
      // Prepare
      const chat = await receiver();
      const wrongKey = chat.url.replace(KEY, 'AIzaSyWRONGWRONGWRONGWRONGWRONGWRONG123');

      // Act
      const error = await failure(send(makeTarget(wrongKey), pick(representative, 'instance')));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('API key not valid');
      expectNoLeak(error, [KEY, 'AIzaSyWRONGWRONGWRONGWRONGWRONGWRONG123', TOKEN, encodeURIComponent(TOKEN)]);
    });
  });

  describe('the webhook URL never leaks', () => {
    itNeverLeaks({
      what: 'the key and token',
      secrets: [KEY, TOKEN, encodeURIComponent(TOKEN)],
      statuses: { '4xx': 403, '5xx': 503 },
      redacted: true,
      echoing: async (status) => {
        const chat = await receiver();
        chat.answer = { status, body: googleError(status, `The caller does not have permission: key=${KEY} token ${TOKEN}`) };
        return chat.origin;
      },
      send: (origin, deadlineMs) => send(makeTarget(`${origin}${SPACE_PATH}?key=${KEY}&token=${encodeURIComponent(TOKEN)}`), pick(representative, 'instance'), deadlineMs),
    });

    let echo: GoogleChatReceiver | undefined;
    itMasksEchoesAcrossCuts({
      what: 'the key and token',
      tokens: [KEY, TOKEN],
      statuses: [400, 503],
      echoing: async (status, text) => {
        echo ??= await startGoogleChatReceiver({ key: KEY, token: encodeURIComponent(TOKEN) });
        echo.answer = { status, body: googleError(status, text) };
      },
      send: () => send(makeTarget(echo!.url), pick(representative, 'instance')),
    });
    afterEach(async () => {
      await echo?.close();
      echo = undefined;
    });
  });
});
