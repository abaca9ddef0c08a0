import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { DeliveryError, DestinationRefusedError } from '../../../shared/errors.ts';
import type { SecretRef } from '../../../shared/secrets.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { actorFacts, actorSummary } from '../../../shared/actor-summary.ts';
import { buildTeamsMessage, escapeTeamsMarkdown, TEAMS_MAX_PAYLOAD_BYTES, TeamsConfigSchema, teamsTarget } from '../../../shared/targets/teams.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { enrichedFrom, FILLER_SHIFTS, HOSTILE_LINE, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import * as z from 'zod/mini';
import { closedPort, delivery, expectNoLeak, failure, findingJob, targetContext } from '../../helpers/target-contract.ts';

// ── A strict reader for the Markdown subset Adaptive Cards render in Teams ──

/**
 * Reads `text` the way Teams renders an Adaptive Card TextBlock or Fact (the documented subset:
 * `**bold**`, `_italic_`, `- ` / `1. ` lists, `[text](url)` links; no backslash escapes, which
 * Teams shows as typed) and returns the literal text a reader sees plus every construct that
 * would be active. Strict: any `*`, a non-intraword `_`, brackets, `<`/`>`, a character
 * reference and a line break count as active, whether or not a pair would close.
 */
const readMarkdown = (text: string): { literal: string; active: string[] } => {
  const active: string[] = [];
  if (/^\s*(?:[-+*]|\d+[.)])(?:[ \t]|$)/.test(text)) active.push('list');
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const before = text[i - 1] ?? '';
    const after = text[i + 1] ?? '';
    if (c === '*') active.push('emphasis *');
    else if (c === '_' && !(/[\p{L}\p{N}]/u.test(before) && /[\p{L}\p{N}]/u.test(after))) active.push('emphasis _');
    else if (c === '[' || c === ']') active.push('link');
    else if (c === '<' || c === '>') active.push('html/autolink');
    else if (c === '&' && /^&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);/i.test(text.slice(i))) active.push('entity');
    else if (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029') active.push('line break');
  }
  // What the reader sees: the text itself, the look-alikes read as what they stand for.
  const literal = text.replace(/∗/g, '*').replace(/＿/g, '_').replace(/＆/g, '&').replace(/^([-+]|\d{1,9}[.)])\u00a0$/, '$1').replace(/^([-+]|\d{1,9}[.)])\u00a0/, '$1 ');
  return { literal, active };
};

/** What escapeTeamsMarkdown is meant to preserve: one line, look-alike brackets, no control or bidi characters. */
const expectedLiteral = (source: string): string =>
  source
    .replace(/[\r\n\u000b\u000c\u0085\u2028\u2029]+/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    .replace(/\t/g, ' ')
    .replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim()
    .replace(/[[\]<>]/g, (c) => ({ '[': '［', ']': '］', '<': '‹', '>': '›' })[c] ?? c);

/** Reads a finding-derived value: inert, and its literal is the source (or a prefix, when cut). */
const assertInert = (rendered: string, source: string, label: string): { truncated: boolean } => {
  const truncated = rendered.endsWith(TRUNCATION_MARKER);
  const body = truncated ? rendered.slice(0, -TRUNCATION_MARKER.length) : rendered;
  const { literal, active } = readMarkdown(body);
  expect(active, `${label}: no active Markdown`).toEqual([]);
  expect(body, `${label}: no broken surrogate`).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  if (truncated) expect(expectedLiteral(source).startsWith(literal), `${label}: a cut keeps a prefix`).toBe(true);
  else expect(literal, `${label}: the reader sees the source text`).toBe(expectedLiteral(source));
  return { truncated };
};

// ── The Adaptive Card shape Teams Workflows accept ───────────────────────────

const TextBlock = z.strictObject({
  type: z.literal('TextBlock'),
  text: z.string().check(z.minLength(1)),
  wrap: z.literal(true),
  color: z.optional(z.enum(['Default', 'Dark', 'Light', 'Accent', 'Good', 'Warning', 'Attention'])),
  weight: z.optional(z.enum(['Default', 'Lighter', 'Bolder'])),
  size: z.optional(z.enum(['Default', 'Small', 'Medium', 'Large', 'ExtraLarge'])),
  isSubtle: z.optional(z.boolean()),
  style: z.optional(z.enum(['default', 'heading'])),
});
const FactSet = z.strictObject({
  type: z.literal('FactSet'),
  facts: z.array(z.strictObject({ title: z.string().check(z.minLength(1)), value: z.string().check(z.minLength(1)) })),
});
const Card = z.strictObject({
  $schema: z.literal('http://adaptivecards.io/schemas/adaptive-card.json'),
  type: z.literal('AdaptiveCard'),
  version: z.literal('1.4'),
  msteams: z.strictObject({ width: z.literal('Full') }),
  body: z.tuple([TextBlock, TextBlock, FactSet, TextBlock, TextBlock]),
  actions: z.array(z.strictObject({ type: z.literal('Action.OpenUrl'), title: z.string(), url: z.string() })),
});
const TeamsMessage = z.strictObject({
  type: z.literal('message'),
  attachments: z.tuple([z.strictObject({ contentType: z.literal('application/vnd.microsoft.card.adaptive'), contentUrl: z.null(), content: Card })]),
});
type TeamsMessage = z.infer<typeof TeamsMessage>;

/** Parses the rendered bytes strictly; fails the test on any unexpected field. */
const parseTeams = (body: string): TeamsMessage => z.parse(TeamsMessage, JSON.parse(body));

/** Asserts every finding-derived string of the card is inert and the whole message fits Teams. */
const assertCard = (body: string, enriched: EnrichedFinding): { card: TeamsMessage['attachments'][0]['content']; truncated: string[] } => {
  expect(Buffer.byteLength(body, 'utf8')).toBeLessThanOrEqual(TEAMS_MAX_PAYLOAD_BYTES);
  const card = parseTeams(body).attachments[0].content;
  const { finding, enrichment: e } = enriched;
  const fact = (title: string) => card.body[2].facts.find((f) => f.title === title)?.value;
  const truncated: string[] = [];
  const check = (rendered: string | undefined, source: string, label: string) => {
    expect(rendered, label).toBeDefined();
    if (assertInert(rendered!, source, label).truncated) truncated.push(label);
  };
  const samplePrefix = e.sample ? '[SAMPLE] ' : '';
  expect(card.body[1].text.startsWith(samplePrefix)).toBe(true);
  check(card.body[1].text.slice(samplePrefix.length), finding.title ?? finding.type, 'title');
  check(fact('Account'), e.account.name ? `${e.account.name} (${finding.accountId})` : `${finding.accountId} (unknown account)`, 'account');
  const owner = e.account.tags.owner ?? e.account.email;
  if (owner !== undefined) check(fact('Owner'), owner, 'owner');
  else expect(fact('Owner')).toBeUndefined();
  check(fact('Resource'), e.resourceSummary, 'resource');
  check(fact('Type'), finding.type, 'type');
  check(fact('Region'), finding.region, 'region');
  expect(fact('Count')).toBe(String(e.count));
  for (const { label, value } of actorFacts(actorSummary(finding))) check(fact(label), value, `actor ${label}`);
  if (finding.description) check(card.body[3].text, finding.description, 'description');
  else expect(card.body[3].text).toBe('_no description_');
  expect(card.body[4].text.startsWith('Finding ')).toBe(true);
  check(card.body[4].text.slice('Finding '.length), finding.id, 'finding id');
  for (const action of card.actions) expect(action.url).toBe(e.consoleUrl);
  return { card, truncated };
};

// ── A loopback Teams Workflows webhook ──────────────────────────────────────

const SIG = 'WORKFLOWSIGSECRET0123456789abcdef';
const WORKFLOW_PATH = '/workflows/0ec499be1a2b4c3d/triggers/manual/paths/invoke';
const QUERY = `?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIG}`;
/** Teams refuses a posted message above about 28 KB; the flow run fails after the trigger said 202. */
const TEAMS_MESSAGE_LIMIT = 28 * 1024;

interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

interface WorkflowsReceiver {
  url: string;
  origin: string;
  requests: { method: string; path: string; headers: IncomingHttpHeaders; body: string }[];
  /** Cards the flow posted to the channel. */
  posted: TeamsMessage[];
  /** Flow runs that failed after the 202 (the sender never learns about these). */
  failedRuns: string[];
  answer: Answer | 'hang' | 'reset' | undefined;
  close(): Promise<void>;
}

const logicAppsError = (code: string, message: string): string => JSON.stringify({ error: { code, message } });

/**
 * Answers like a Workflows "When a Teams webhook request is received" trigger: POST with the
 * SAS signature in the query, a JSON body; 202 Accepted and an empty body, then the flow posts
 * each Adaptive Card attachment (or its run fails: not a card, too large for Teams).
 */
const startWorkflows = async (): Promise<WorkflowsReceiver> => {
  const receiver = { requests: [], posted: [], failedRuns: [], answer: undefined } as unknown as WorkflowsReceiver;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    receiver.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    const reply = ({ status, body: text = '', headers }: Answer) => {
      res.writeHead(status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
      res.end(text);
    };
    const forced = receiver.answer;
    if (forced === 'hang') return;
    if (forced === 'reset') {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (url.pathname !== WORKFLOW_PATH) return reply({ status: 404, body: logicAppsError('WorkflowNotFound', "The workflow could not be found.") });
    if (req.method !== 'POST') return reply({ status: 405, body: logicAppsError('TriggerRequestMethodNotValid', 'The HTTP method for this request is not valid.') });
    if (url.searchParams.get('sig') === null) {
      return reply({ status: 401, body: logicAppsError('DirectApiAuthorizationRequired', 'The request must be authenticated only by Shared Access scheme.') });
    }
    if (url.searchParams.get('sig') !== SIG) {
      return reply({ status: 401, body: logicAppsError('DirectApiInvalidAuthorizationSignature', 'The provided shared access signature is not valid.') });
    }
    if (forced !== undefined) return reply(forced);
    if (!req.headers['content-type']?.startsWith('application/json')) {
      return reply({ status: 400, body: logicAppsError('TriggerInputSchemaMismatch', "The input body for trigger 'manual' of type 'Request' must be of type JSON.") });
    }
    let message: TeamsMessage;
    try {
      message = parseTeams(body);
    } catch {
      return reply({ status: 400, body: logicAppsError('TriggerInputSchemaMismatch', "The input body for trigger 'manual' of type 'Request' did not match its schema definition.") });
    }
    reply({ status: 202 });
    if (Buffer.byteLength(body, 'utf8') > TEAMS_MESSAGE_LIMIT) receiver.failedRuns.push('RequestEntityTooLarge');
    else receiver.posted.push(message);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.origin = `http://127.0.0.1:${port}`;
  receiver.url = `${receiver.origin}${WORKFLOW_PATH}${QUERY}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
};

const receivers: WorkflowsReceiver[] = [];
const workflows = async (): Promise<WorkflowsReceiver> => {
  const receiver = await startWorkflows();
  receivers.push(receiver);
  return receiver;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

// ── The real target ──────────────────────────────────────────────────────────

const makeTeams = (webhookUrl: SecretRef, options: { allowPrivateNetwork?: boolean; env?: NodeJS.ProcessEnv } = {}): Target =>
  teamsTarget.create(
    'soc-teams',
    z.parse(teamsTarget.configSchema, { type: 'teams', webhookUrl, ...(options.allowPrivateNetwork === undefined ? {} : { allowPrivateNetwork: options.allowPrivateNetwork }) }),
    targetContext({ env: options.env }),
  );

let representative: [string, EnrichedFinding][] = [];
const REPRESENTATIVE_NAMES = ['instance', 'access-key', 's3-bucket', 'eks', 'ecs-container', 'rds', 'lambda', 'malware-scan', 'attack-sequence', 'unknown-type'];
const named = (name: string): EnrichedFinding => {
  const found = representative.find(([candidate]) => candidate === name);
  if (found === undefined) throw new Error(`no representative finding ${name}`);
  return found[1];
};
beforeAll(async () => {
  representative = await representativeFindings();
});

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: teams', () => {
  describe('config', () => {
    it('accepts a SecretRef webhook URL and refuses inline strings and unknown keys', () => {
      // Prepare
      const good = { type: 'teams', webhookUrl: { env: 'TEAMS_WEBHOOK' }, allowPrivateNetwork: false };
      const inline = { type: 'teams', webhookUrl: 'https://prod-01.westeurope.logic.azure.com/workflows/x' };
      const extra = { type: 'teams', webhookUrl: { env: 'TEAMS_WEBHOOK' }, channel: '#soc' };

      // Act
      const results = [good, inline, extra].map((config) => z.safeParse(TeamsConfigSchema, config).success);

      // Assess
      expect(results).toEqual([true, false, false]);
    });
  });

  describe('buildTeamsMessage golden files', () => {
    it('covers every representative finding', () => {
      // Prepare
      const names = representative.map(([name]) => name);

      // Act
      const missing = REPRESENTATIVE_NAMES.filter((name) => !names.includes(name));

      // Assess
      expect(missing).toEqual([]);
    });

    it.each(REPRESENTATIVE_NAMES)('renders %s as in test/golden/teams', async (name) => {
      // Prepare
      const enriched = named(name);

      // Act
      const message = buildTeamsMessage(enriched);

      // Assess
      await expect(`${JSON.stringify(message, null, 2)}\n`).toMatchFileSnapshot(`../../golden/teams/${name}.json`);
      const { card, truncated } = assertCard(JSON.stringify(message), enriched);
      expect(truncated).toEqual([]);
      expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in the GuardDuty console', url: enriched.enrichment.consoleUrl }]);
    });

    it('render() sends exactly the built message, the same bytes every time', () => {
      // Prepare
      const enriched = named('instance');
      const target = makeTeams({ value: 'https://prod-01.westeurope.logic.azure.com/workflows/x' });

      // Act
      const first = target.render(enriched);
      const second = target.render(structuredClone(enriched));

      // Assess
      expect(first).toEqual({ body: JSON.stringify(buildTeamsMessage(enriched)), contentType: 'application/json', extension: 'json' });
      expect(second.body).toBe(first.body);
    });

    it.each([
      ['critical', 9.5, 'Attention'],
      ['high', 8, 'Warning'],
      ['medium', 5, 'Accent'],
      ['low', 2, 'Good'],
    ] as const)('severity %s is shown as text and colour %s', (label, severity, color) => {
      // Prepare
      const base = named('instance');
      const enriched = { ...base, finding: { ...base.finding, severity }, enrichment: { ...base.enrichment, severityLabel: label } };

      // Act
      const card = parseTeams(JSON.stringify(buildTeamsMessage(enriched))).attachments[0].content;

      // Assess
      expect(card.body[0]).toMatchObject({ color, text: `**${label.toUpperCase()}** GuardDuty finding` });
      expect(card.body[2].facts[0]).toEqual({ title: 'Severity', value: `${label[0]!.toUpperCase()}${label.slice(1)} ${severity.toFixed(1)}` });
    });

    it('unknown type: no description placeholder, type facts and a known account with owner', () => {
      // Prepare
      const enriched = named('unknown-type');
      const withoutDescription = { ...enriched, finding: { ...enriched.finding, description: undefined } };

      // Act
      const card = parseTeams(JSON.stringify(buildTeamsMessage(withoutDescription))).attachments[0].content;

      // Assess
      expect(card.body[3].text).toBe('_no description_');
      expect(card.body[2].facts.find((fact) => fact.title === 'Type')?.value).toBe('Mystery:NewService/SomethingNew.Custom');
      expect(card.body[1].text).toBe(`${withoutDescription.enrichment.sample ? '[SAMPLE] ' : ''}A finding of a type this router has never seen`);
    });
  });

  describe('escapeTeamsMarkdown', () => {
    it.each([
      ['<!channel>', '‹!channel›'],
      ['<script>alert(1)</script>', '‹script›alert(1)‹/script›'],
      ['[link|https://evil]', '［link|https://evil］'],
      ['[Approve](https://evil.example)', '［Approve］(https://evil.example)'],
      ['**bold** _it_ ~~s~~ `code`', '∗∗bold∗∗ ＿it＿ ~~s~~ `code`'],
      ['snake_case_name __proto__', 'snake_case_name ＿＿proto＿＿'],
      ['a|b=c\\d', 'a|b=c\\d'],
      ['- item', '-\u00a0item'],
      ['1. first', '1.\u00a0first'],
      ['-', '-\u00a0'],
      ['# heading', '# heading'],
      ['payments-prod (111111111111)', 'payments-prod (111111111111)'],
      ['Backdoor:EC2/C&CActivity.B', 'Backdoor:EC2/C&CActivity.B'],
      ['&lt;b&gt; &amp; &#60; AT&T', '＆lt;b＆gt; ＆amp; ＆#60; AT&T'],
      ['{{template}} ${x}', '{{template}} ${x}'],
      ['line1\r\nline2\u2028line3\u2029x', 'line1 line2 line3 x'],
      ['\u202Eevil\u202C \u001b[31mred', 'evil ［31mred'],
    ])('%j → %j, which reads back as inert text', (input, output) => {
      // Prepare
      const source = input;

      // Act
      const escaped = escapeTeamsMarkdown(source);

      // Assess
      expect(escaped).toBe(output);
      assertInert(escaped, source, JSON.stringify(source));
    });
  });

  describe('hostile finding', () => {
    it.each(Array.from({ length: FILLER_SHIFTS }, (_, shift) => shift))(
      'every finding-derived text is inert, cut cleanly and within 28 KB (filler shift %i)',
      async (shift) => {
        // Prepare
        const enriched = await enrichedFrom(hostileFinding({ shift }), hostileAccount());

        // Act
        const body = JSON.stringify(buildTeamsMessage(enriched));

        // Assess
        const { card, truncated } = assertCard(body, enriched);
        expect(truncated).toEqual(expect.arrayContaining(['title', 'description']));
        expect(card.actions).toHaveLength(1);
        expect(card.body[3].text).toContain('‹!channel› ‹!here› ‹@U123› ‹https://evil.example|Approve›');
      },
    );

    it('very long multi-byte text in every field still fits: budgets shrink, the card stays valid', async () => {
      // Prepare
      const huge = '中😀'.repeat(6_000);
      const base = await enrichedFrom(hostileFinding(), hostileAccount());
      const enriched = {
        ...base,
        finding: { ...base.finding, title: huge, description: huge, type: huge, region: huge },
        enrichment: { ...base.enrichment, resourceSummary: huge, account: { ...base.enrichment.account, name: huge, tags: { owner: huge } } },
      };

      // Act
      const body = JSON.stringify(buildTeamsMessage(enriched));

      // Assess
      const { truncated } = assertCard(body, enriched);
      expect(truncated).toEqual(expect.arrayContaining(['title', 'account', 'owner', 'resource', 'type', 'region', 'description']));
    });

    it('an absurd finding id (console URL too long for any card) drops the button, never the size limit', async () => {
      // Prepare
      const base = await enrichedFrom(hostileFinding(), hostileAccount());
      const id = '%'.repeat(30_000);
      const enriched = { ...base, finding: { ...base.finding, id }, enrichment: { ...base.enrichment, consoleUrl: `https://console.aws.amazon.com/guardduty/home#/findings?fId=${encodeURIComponent(id)}` } };

      // Act
      const body = JSON.stringify(buildTeamsMessage(enriched));

      // Assess
      const { card } = assertCard(body, enriched);
      expect(card.actions).toEqual([]);
    });

    it('is accepted by the workflow and posted by Teams', async () => {
      // Prepare
      const receiver = await workflows();
      const target = makeTeams({ value: receiver.url }, { allowPrivateNetwork: true });
      const payload = target.render(await enrichedFrom(hostileFinding(), hostileAccount()));

      // Act
      await target.send(findingJob(target, await enrichedFrom(hostileFinding(), hostileAccount()), delivery()));

      // Assess
      expect(receiver.posted).toHaveLength(1);
      expect(receiver.failedRuns).toEqual([]);
      expect(HOSTILE_LINE.length).toBeGreaterThan(0);
    });
  });

  describe('delivery to a Workflows webhook', () => {
    it('POSTs the rendered JSON with the SAS query to the trigger and succeeds on 202', async () => {
      // Prepare
      const receiver = await workflows();
      const target = makeTeams({ value: receiver.url }, { allowPrivateNetwork: true });
      const payload = target.render(named('instance'));

      // Act
      await target.send(findingJob(target, named('instance'), delivery()));

      // Assess
      expect(receiver.requests).toHaveLength(1);
      const [request] = receiver.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe(`${WORKFLOW_PATH}${QUERY}`);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.body).toBe(payload.body);
      expect(receiver.posted).toEqual([JSON.parse(payload.body)]);
    });

    it('resolves the webhook URL from an environment reference', async () => {
      // Prepare
      const receiver = await workflows();
      const target = makeTeams({ env: 'SOC_TEAMS_WEBHOOK' }, { allowPrivateNetwork: true, env: { SOC_TEAMS_WEBHOOK: receiver.url } });

      // Act
      await target.send(findingJob(target, named('unknown-type'), delivery()));

      // Assess
      expect(receiver.posted).toHaveLength(1);
    });

    it('429 WorkflowRequestsThrottled is retryable after Retry-After', async () => {
      // Prepare
      const receiver = await workflows();
      receiver.answer = {
        status: 429,
        body: logicAppsError('WorkflowRequestsThrottled', "Number of requests for workflow exceeded the limit over time window of '00:05:00'."),
        headers: { 'retry-after': '7' },
      };
      const target = makeTeams({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7000, target: 'soc-teams' });
      expect(error.message).toContain('WorkflowRequestsThrottled');
      expectNoLeak(error, [SIG, receiver.url, WORKFLOW_PATH]);
    });

    it('400 WorkflowTriggerIsNotEnabled (flow turned off or deleted) is permanent', async () => {
      // Prepare
      const receiver = await workflows();
      receiver.answer = {
        status: 400,
        body: logicAppsError('WorkflowTriggerIsNotEnabled', "Could not find flow '0ec499be'. The workflow is in state 'Deleted'."),
      };
      const target = makeTeams({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, named('rds'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('WorkflowTriggerIsNotEnabled');
      expectNoLeak(error, [SIG, receiver.url]);
    });

    it('a wrong signature answers 401 DirectApiInvalidAuthorizationSignature, permanent, signature hidden', async () => {
      // Prepare
      const receiver = await workflows();
      const wrong = receiver.url.replace(SIG, 'WRONGSIGSECRET');
      const target = makeTeams({ value: wrong }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, named('eks'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expect(error.message).toContain('DirectApiInvalidAuthorizationSignature');
      expectNoLeak(error, ['WRONGSIGSECRET', wrong]);
    });

    it('refuses a retired Office 365 connector URL without sending', async () => {
      // Prepare
      const url = 'https://contoso.webhook.office.com/webhookb2/aaaa@bbbb/IncomingWebhook/CONNECTORSECRET/cccc';
      const target = makeTeams({ value: url });

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toContain('Workflows');
      expectNoLeak(error, ['CONNECTORSECRET', url]);
    });

    const TABLE: [number, 'delivered' | 'retryable' | 'permanent'][] = [
      [200, 'delivered'],
      [201, 'delivered'],
      [202, 'delivered'],
      [204, 'delivered'],
      [301, 'permanent'],
      [400, 'permanent'],
      [401, 'permanent'],
      [403, 'permanent'],
      [404, 'permanent'],
      [408, 'retryable'],
      [409, 'permanent'],
      [413, 'permanent'],
      [429, 'retryable'],
      [500, 'retryable'],
      [502, 'retryable'],
      [503, 'retryable'],
      [504, 'retryable'],
    ];
    it.each(TABLE)('HTTP %i → %s', async (status, outcome) => {
      // Prepare
      const receiver = await workflows();
      const body = status === 204 || status === 202 ? '' : status < 300 ? '' : logicAppsError(`Status${status}`, `answered ${status}`);
      receiver.answer = { status, body, ...(status === 301 ? { headers: { location: 'https://elsewhere.example/' } } : {}) };
      const target = makeTeams({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const result = await target.send(findingJob(target, named('lambda'), delivery())).then(
        () => 'delivered' as const,
        (error: unknown) => error,
      );

      // Assess
      if (outcome === 'delivered') {
        expect(result).toBe('delivered');
      } else {
        expect(result).toBeInstanceOf(DeliveryError);
        expect((result as DeliveryError).retryable).toBe(outcome === 'retryable');
        expect((result as DeliveryError).status).toBe(status);
        expectNoLeak(result as DeliveryError, [SIG, receiver.url]);
      }
    });
  });

  describe('secret leaks', () => {
    it('timeout: a server that never answers fails at the deadline, retryable, URL hidden', async () => {
      // Prepare
      const receiver = await workflows();
      receiver.answer = 'hang';
      const target = makeTeams({ value: receiver.url }, { allowPrivateNetwork: true });
      const payload = target.render(named('instance'));
      const started = Date.now();

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery(300))));

      // Assess
      expect(error).toMatchObject({ retryable: true, message: 'request failed: timed out' });
      expect(Date.now() - started).toBeLessThan(2_000);
      expectNoLeak(error, [SIG, receiver.url, WORKFLOW_PATH]);
    });

    it('connection refused is retryable and hides the URL', async () => {
      // Prepare
      const url = `http://127.0.0.1:${await closedPort()}${WORKFLOW_PATH}${QUERY}`;
      const target = makeTeams({ value: url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toContain('ECONNREFUSED');
      expectNoLeak(error, [SIG, url, WORKFLOW_PATH]);
    });

    it('connection reset is retryable and hides the URL', async () => {
      // Prepare
      const receiver = await workflows();
      receiver.answer = 'reset';
      const target = makeTeams({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expectNoLeak(error, [SIG, receiver.url, WORKFLOW_PATH]);
    });

    it.each([
      [403, 'permanent'],
      [503, 'retryable'],
    ])('HTTP %i whose body echoes the URL (%s) keeps the signature hidden', async (status) => {
      // Prepare
      const receiver = await workflows();
      receiver.answer = { status, body: logicAppsError('Echo', `request to ${receiver.url} sig=${SIG} failed`) };
      const target = makeTeams({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error.status).toBe(status);
      expectNoLeak(error, [SIG, receiver.url, WORKFLOW_PATH]);
    });
  });

  describe('destination checks', () => {
    it.each(['http://prod-01.westeurope.logic.azure.com', 'https://127.0.0.1', 'https://10.1.2.3', 'https://169.254.169.254'])(
      'refuses %s without allowPrivateNetwork and hides the URL',
      async (origin) => {
        // Prepare
        const url = `${origin}${WORKFLOW_PATH}${QUERY}`;
        const target = makeTeams({ value: url });

        // Act
        const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

        // Assess
        expect(error).toBeInstanceOf(DestinationRefusedError);
        expect(error.retryable).toBe(false);
        expectNoLeak(error, [SIG, url]);
      },
    );
  });
});
