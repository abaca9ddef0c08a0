import * as z from 'zod/mini';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import {
  buildJiraIssue,
  isSignificantUpdate,
  JiraConfigSchema,
  jiraTarget,
  PROPERTY_KEY,
  RICH_TEXT_LIMIT,
  SUMMARY_LIMIT,
  type JiraConfig,
} from '../../../shared/targets/jira.ts';
import { ledgerKey, memoryLedger, type Ledger } from '../../../shared/targets/ledger.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { enrichedFrom, FILLER_SHIFTS, hostileAccount, hostileFinding, loadFinding } from '../../helpers/findings.ts';
import { adfNodeTypes, adfProblem, adfTexts, startJiraReceiver, type JiraReceiver } from '../../helpers/jira-receiver.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { expectNoLeak, failure, itClassifiesStatuses, itNeverLeaks, sendFinding, statusTable, targetContext } from '../../helpers/target-contract.ts';

const EMAIL = 'guardduty-bot@example.com';
const API_TOKEN = 'ATATT3xFfGF0-jira-SECRET-TOKEN-7c1e9b';
const BASIC = Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64');
const SECRETS = [API_TOKEN, BASIC];

// ── Helpers ──────────────────────────────────────────────────────────────────

const receivers: JiraReceiver[] = [];
const jiraReceiver = async (): Promise<JiraReceiver> => {
  const receiver = await startJiraReceiver({ email: EMAIL, apiToken: API_TOKEN, project: 'SEC' });
  receivers.push(receiver);
  return receiver;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

type Overrides = Partial<Omit<JiraConfig, 'type'>>;

const makeJira = (url: string, overrides: Overrides = {}, ledger: Ledger = memoryLedger(), name = 'soc-jira'): Target =>
  jiraTarget.create(
    name,
    { type: 'jira', url, project: 'SEC', email: { env: 'JIRA_EMAIL' }, apiToken: { env: 'JIRA_TOKEN' }, allowPrivateNetwork: true, ...overrides },
    targetContext({ env: { JIRA_EMAIL: EMAIL, JIRA_TOKEN: API_TOKEN }, ledger }),
  );

const SSH = 'targets/ssh-bruteforce.sample.eventbridge.json';
const sshFinding = () => loadFinding(SSH);
const sshEnriched = (changes: { severity?: number; count?: number; updatedAt?: string; archived?: boolean } = {}) => {
  const finding = sshFinding();
  return enrichedFrom(
    {
      ...finding,
      ...(changes.severity === undefined ? {} : { severity: changes.severity }),
      ...(changes.updatedAt === undefined ? {} : { updatedAt: changes.updatedAt }),
      service: {
        ...finding.service,
        ...(changes.count === undefined ? {} : { count: changes.count }),
        ...(changes.archived === undefined ? {} : { archived: changes.archived }),
      },
    },
    { name: 'security-sandbox', email: 'secops@example.com', tags: { owner: 'secops' } },
  );
};

interface IssueBody {
  fields: {
    project: { key: string };
    issuetype: { name: string };
    summary: string;
    description: unknown;
    priority?: { name: string };
    labels: string[];
  };
  properties: { key: string; value: Record<string, unknown> }[];
}

const issueBody = (enriched: EnrichedFinding, config: Parameters<typeof buildJiraIssue>[1] = { project: 'SEC' }): IssueBody =>
  JSON.parse(JSON.stringify(buildJiraIssue(enriched, config))) as IssueBody;

const BUILDER_NODES = new Set(['doc', 'paragraph', 'heading', 'text', 'table', 'tableRow', 'tableHeader', 'tableCell', 'bulletList', 'listItem']);
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const LINE_BREAK = /[\r\n\u2028\u2029\u0085]/;
const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Everything a Jira user could be tricked by: checked with the strict ADF validator, never with string search. */
const assertSafeIssue = (body: IssueBody): void => {
  expect(adfProblem(body.fields.description)).toBeUndefined();
  expect(adfNodeTypes(body.fields.description).filter((type) => !BUILDER_NODES.has(type))).toEqual([]);
  const texts = adfTexts(body.fields.description);
  const links = texts.filter((entry) => entry.marks.some((mark) => (mark as { type: string }).type === 'link'));
  expect(links).toHaveLength(1);
  expect((links[0]?.marks[0] as { attrs: { href: string } }).attrs.href).toMatch(/^https:\/\/console\.aws\.amazon\.com\/guardduty\/home\?/);
  for (const { text } of texts) {
    expect(text, 'no control characters').not.toMatch(CONTROL);
    expect(text, 'no line breaks inside a text node').not.toMatch(LINE_BREAK);
    expect(text, 'no broken surrogate pair').not.toMatch(BROKEN_SURROGATE);
  }
  expect(texts.reduce((sum, entry) => sum + entry.text.length, 0)).toBeLessThanOrEqual(RICH_TEXT_LIMIT);
  expect(body.fields.summary.length).toBeLessThanOrEqual(SUMMARY_LIMIT);
  expect(body.fields.summary).not.toMatch(LINE_BREAK);
  expect(body.fields.summary).not.toMatch(CONTROL);
  expect(body.fields.summary).not.toMatch(BROKEN_SURROGATE);
  for (const label of body.fields.labels) expect(label).toMatch(/^\S{1,255}$/);
};

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: jira', () => {
  describe('golden create bodies', async () => {
    const representative = await representativeFindings();

    it.each(representative)('renders %s as in test/golden/jira', async (name, enriched) => {
      // Prepare
      const target = makeJira('https://example.atlassian.net');

      // Act
      const payload = JSON.parse(target.render(enriched).body) as IssueBody;

      // Assess
      await expect(`${JSON.stringify(payload, null, 2)}\n`).toMatchFileSnapshot(`../../golden/jira/${name}.json`);
      assertSafeIssue(payload);
      expect(payload.properties[0]?.value).toMatchObject({ id: enriched.finding.id, accountId: enriched.finding.accountId });
    });
  });

  describe('fields', () => {
    it.each([
      { severity: 9.5, label: 'critical', priority: 'Highest' },
      { severity: 8, label: 'high', priority: 'High' },
      { severity: 5, label: 'medium', priority: 'Medium' },
      { severity: 2, label: 'low', priority: 'Low' },
    ])('severity $severity → priority $priority and label guardduty-$label', async ({ severity, label, priority }) => {
      // Prepare
      const enriched = await sshEnriched({ severity });

      // Act
      const body = issueBody(enriched);

      // Assess
      expect(body.fields.priority).toEqual({ name: priority });
      expect(body.fields.labels).toEqual(['guardduty', `guardduty-${label}`, 'UnauthorizedAccess:EC2-SSHBruteForce', 'guardduty-sample']);
      expect(body.fields.issuetype).toEqual({ name: 'Task' });
      expect(body.fields.project).toEqual({ key: 'SEC' });
    });

    it('a configured priority map, issue type and labels are used; priorities: false sends no priority', async () => {
      // Prepare
      const enriched = await sshEnriched({ severity: 9.5 });

      // Act
      const mapped = issueBody(enriched, { project: 'SEC', issueType: 'Incident', priorities: { critical: 'P1' }, labels: ['soc', 'guardduty'] });
      const none = issueBody(enriched, { project: 'SEC', priorities: false });

      // Assess
      expect(mapped.fields.priority).toEqual({ name: 'P1' });
      expect(mapped.fields.issuetype).toEqual({ name: 'Incident' });
      expect(mapped.fields.labels).toEqual(['guardduty', 'guardduty-critical', 'UnauthorizedAccess:EC2-SSHBruteForce', 'guardduty-sample', 'soc']);
      expect(none.fields.priority).toBeUndefined();
    });

    it('the summary is one line of at most 255 characters that keeps the account at its end', async () => {
      // Prepare
      const finding = sshFinding();
      const enriched = await enrichedFrom({ ...finding, title: `Very\r\nlong\u2028title ${'é😀'.repeat(400)}` }, { name: 'payments-prod', tags: {} });

      // Act
      const { summary } = issueBody(enriched).fields;

      // Assess
      expect(summary.length).toBeLessThanOrEqual(SUMMARY_LIMIT);
      expect(summary).toMatch(/^\[SAMPLE\] GuardDuty Low: Very long title é😀/);
      expect(summary).toContain(TRUNCATION_MARKER);
      expect(summary.endsWith(' (payments-prod 785665517223)')).toBe(true);
      expect(summary).not.toMatch(BROKEN_SURROGATE);
    });

    it('the guardduty-finding property carries the finding identity and what the upsert compares', async () => {
      // Prepare
      const enriched = await sshEnriched({ count: 7 });

      // Act
      const [property] = issueBody(enriched).properties;

      // Assess
      expect(property).toEqual({
        key: PROPERTY_KEY,
        value: {
          id: 'f0b37a7d5504bba0ec3493e776a0c54f',
          accountId: '785665517223',
          region: 'us-east-1',
          partition: 'aws',
          arn: enriched.finding.arn,
          type: 'UnauthorizedAccess:EC2/SSHBruteForce',
          severity: 2,
          count: 7,
          updatedAt: '2018-11-08T20:21:59.714Z',
          archived: false,
          sample: true,
        },
      });
    });
  });

  describe('hostile finding text', () => {
    it('every hostile string stays literal text in a valid ADF document within Jira limits', async () => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());

      // Act
      const body = JSON.parse(makeJira('https://example.atlassian.net').render(enriched).body) as IssueBody;

      // Assess
      assertSafeIssue(body);
      const texts = adfTexts(body.fields.description).map((entry) => entry.text);
      expect(texts.some((text) => text.includes('<!channel>'))).toBe(true);
      expect(texts.some((text) => text.includes('<https://evil.example|Approve>'))).toBe(true);
    });

    it.each([...Array(FILLER_SHIFTS).keys()])('truncation at shift %i never splits a character', async (shift) => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding({ shift }), hostileAccount());

      // Act
      const body = issueBody(enriched);

      // Assess
      assertSafeIssue(body);
    });

    it('Jira wiki markup, HTML, templates and ADF-looking JSON are text nodes, never structure', async () => {
      // Prepare
      const markup = '[link|https://evil.example] {code}rm -rf /{code} *bold* !image.png! <script>alert(1)</script> {{template}} | = \\ <!channel>';
      const adfJson = JSON.stringify({ type: 'doc', version: 1, content: [{ type: 'mention', attrs: { id: 'all', text: '@all' } }] });
      const finding = sshFinding();
      const enriched = await enrichedFrom({ ...finding, title: markup, description: `${adfJson}\n${markup}`, type: `${finding.type}|{code}` });

      // Act
      const body = issueBody(enriched);

      // Assess
      assertSafeIssue(body);
      const texts = adfTexts(body.fields.description).map((entry) => entry.text);
      expect(texts).toContain(markup);
      expect(texts).toContain(adfJson);
      expect(adfNodeTypes(body.fields.description)).not.toContain('mention');
      expect(body.fields.summary).toContain('[link|https://evil.example] {code}rm -rf /{code}');
      expect(body.fields.labels).toContain('UnauthorizedAccess:EC2-SSHBruteForce-code');
    });

    it('a very long multi-byte description is cut with a visible marker', async () => {
      // Prepare
      const finding = sshFinding();
      const enriched = await enrichedFrom({ ...finding, description: '中😀'.repeat(10_000) });

      // Act
      const body = issueBody(enriched);

      // Assess
      assertSafeIssue(body);
      const description = adfTexts(body.fields.description).find((entry) => entry.text.startsWith('中😀'));
      expect(description?.text.length).toBeLessThanOrEqual(8_000);
      expect(description?.text.endsWith(TRUNCATION_MARKER)).toBe(true);
    });

    it('a finding with no title, description or tags still gives non-empty text nodes', async () => {
      // Prepare
      const finding = sshFinding();
      const enriched = await enrichedFrom({ ...finding, title: ' \r\n ', description: '\u2028\u2029', resource: { resourceType: '' } });

      // Act
      const body = issueBody(enriched);

      // Assess
      assertSafeIssue(body);
      expect(body.fields.summary).toBe('[SAMPLE] GuardDuty Low: UnauthorizedAccess:EC2/SSHBruteForce (785665517223)');
    });
  });

  describe('upsert through the ledger', () => {
    it('the same update delivered twice (retry after a crash before the ack) creates ONE issue', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const ledger = memoryLedger();
      const target = makeJira(receiver.url, {}, ledger);
      const enriched = await sshEnriched();

      // Act
      await sendFinding(target, enriched);
      await sendFinding(target, structuredClone(enriched));

      // Assess
      expect([...receiver.issues.keys()]).toEqual(['SEC-1']);
      expect(receiver.requests.filter((r) => r.method === 'POST' && r.path === '/rest/api/3/issue')).toHaveLength(1);
      expect(receiver.issues.get('SEC-1')?.comments).toEqual([]);
      expect(JSON.parse((await ledger.get(ledgerKey('soc-jira', enriched.finding))) ?? '')).toEqual({ key: 'SEC-1', severity: 2, count: 2 });
      expect(receiver.issues.get('SEC-1')?.properties[PROPERTY_KEY]).toMatchObject({ id: enriched.finding.id });
    });

    it('an update with a higher severity adds one comment', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = makeJira(receiver.url);
      await sendFinding(target, await sshEnriched());

      // Act
      await sendFinding(target, await sshEnriched({ severity: 8, updatedAt: '2018-11-09T08:00:00.000Z' }));

      // Assess
      const issue = receiver.issues.get('SEC-1');
      expect(receiver.issues.size).toBe(1);
      expect(issue?.comments).toHaveLength(1);
      expect(adfProblem(issue?.comments[0])).toBeUndefined();
      const texts = adfTexts(issue?.comments[0]).map((entry) => entry.text);
      expect(texts).toContain('Severity rose: Low 2.0 → High 8.0');
      expect(texts).toContain('Updated at: 2018-11-09T08:00:00.000Z');
    });

    it('an update with the same severity and count + 1 adds nothing', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = makeJira(receiver.url);
      await sendFinding(target, await sshEnriched({ count: 2 }));
      const before = receiver.requests.length;

      // Act
      await sendFinding(target, await sshEnriched({ count: 3, updatedAt: '2018-11-09T08:00:00.000Z' }));

      // Assess
      expect(receiver.issues.get('SEC-1')?.comments).toEqual([]);
      expect(receiver.requests.length).toBe(before);
    });

    it('a doubled count adds one comment and becomes the new baseline', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const ledger = memoryLedger();
      const target = makeJira(receiver.url, {}, ledger);
      await sendFinding(target, await sshEnriched({ count: 2 }));

      // Act
      await sendFinding(target, await sshEnriched({ count: 4, updatedAt: '2018-11-09T08:00:00.000Z' }));
      await sendFinding(target, await sshEnriched({ count: 7, updatedAt: '2018-11-09T09:00:00.000Z' }));

      // Assess
      expect(receiver.issues.get('SEC-1')?.comments).toHaveLength(1);
      expect(adfTexts(receiver.issues.get('SEC-1')?.comments[0]).map((entry) => entry.text)).toContain('Count: 2 → 4');
      expect(JSON.parse((await ledger.get(ledgerKey('soc-jira', (await sshEnriched()).finding))) ?? '')).toEqual({ key: 'SEC-1', severity: 2, count: 4 });
    });

    it('significance: severity up or count doubled', () => {
      // Prepare
      const previous = { severity: 5, count: 4 };

      // Act
      const verdicts = [
        isSignificantUpdate(previous, { severity: 5.1, count: 4 }),
        isSignificantUpdate(previous, { severity: 5, count: 8 }),
        isSignificantUpdate(previous, { severity: 5, count: 7 }),
        isSignificantUpdate(previous, { severity: 4, count: 5 }),
      ];

      // Assess
      expect(verdicts).toEqual([true, true, false, false]);
    });

    it('an entry already in the ledger (another delivery won) means no new issue', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const ledger = memoryLedger();
      const enriched = await sshEnriched();
      await ledger.putIfAbsent(ledgerKey('soc-jira', enriched.finding), JSON.stringify({ key: 'SEC-42', severity: 2, count: 2 }));

      // Act
      await sendFinding(makeJira(receiver.url, {}, ledger), enriched);

      // Assess
      expect(receiver.issues.size).toBe(0);
      expect(receiver.requests).toEqual([]);
    });

    it('two targets keep two ledgers entries and two issues', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const ledger = memoryLedger();
      const enriched = await sshEnriched();

      // Act
      await sendFinding(makeJira(receiver.url, {}, ledger, 'soc-jira'), enriched);
      await sendFinding(makeJira(receiver.url, {}, ledger, 'audit-jira'), enriched);

      // Assess
      expect([...receiver.issues.keys()]).toEqual(['SEC-1', 'SEC-2']);
    });

    it('an unreadable ledger entry is a permanent error, never a second issue', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const ledger = memoryLedger();
      const enriched = await sshEnriched();
      await ledger.set(ledgerKey('soc-jira', enriched.finding), '{"garbage":true}');

      // Act
      const error = await failure(sendFinding(makeJira(receiver.url, {}, ledger), enriched));

      // Assess
      expect(error.retryable).toBe(false);
      expect(receiver.issues.size).toBe(0);
    });
  });

  describe('transition on archive', () => {
    it('an archived update moves the issue through the configured transition, once', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = makeJira(receiver.url, { transitionOnArchive: { name: 'done' } });
      await sendFinding(target, await sshEnriched());

      // Act
      await sendFinding(target, await sshEnriched({ archived: true, updatedAt: '2018-11-10T00:00:00.000Z' }));
      await sendFinding(target, await sshEnriched({ archived: true, updatedAt: '2018-11-11T00:00:00.000Z' }));

      // Assess
      expect(receiver.issues.get('SEC-1')?.transitions).toEqual(['Done']);
      expect(receiver.issues.get('SEC-1')?.status).toBe('Done');
    });

    it('a finding archived at its first delivery is created, then transitioned', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      receiver.workflow = { 'Close issue': 'Closed' };
      const target = makeJira(receiver.url, { transitionOnArchive: { name: 'Closed' } });

      // Act
      await sendFinding(target, await sshEnriched({ archived: true }));

      // Assess
      expect(receiver.issues.get('SEC-1')?.transitions).toEqual(['Close issue']);
    });

    it('without transitionOnArchive an archived update changes nothing', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = makeJira(receiver.url);
      await sendFinding(target, await sshEnriched());

      // Act
      await sendFinding(target, await sshEnriched({ archived: true, updatedAt: '2018-11-10T00:00:00.000Z' }));

      // Assess
      expect(receiver.issues.get('SEC-1')?.transitions).toEqual([]);
      expect(receiver.requests.map((r) => r.method)).toEqual(['POST']);
    });

    it('a transition the workflow does not offer is permanent and names the offered ones', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = makeJira(receiver.url, { transitionOnArchive: { name: 'Resolve' } });
      await sendFinding(target, await sshEnriched());

      // Act
      const error = await failure(sendFinding(target, await sshEnriched({ archived: true, updatedAt: '2018-11-10T00:00:00.000Z' })));

      // Assess
      expect(error.retryable).toBe(false);
      expect(error.message).toBe("transition 'Resolve' is not available for SEC-1 (offered: 'Done', 'Start progress')");
    });

    it('an issue a human already closed needs no transition', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = makeJira(receiver.url, { transitionOnArchive: { name: 'Done' } });
      await sendFinding(target, await sshEnriched());
      const issue = receiver.issues.get('SEC-1');
      if (issue) issue.status = 'Done';
      receiver.workflow = { Reopen: 'To Do' };

      // Act
      await sendFinding(target, await sshEnriched({ archived: true, updatedAt: '2018-11-10T00:00:00.000Z' }));

      // Assess
      expect(issue?.transitions).toEqual([]);
    });
  });

  describe('what the receiver refuses', () => {
    it('a project the site does not have: 400 with Jira’s error collection, permanent', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = makeJira(receiver.url, { project: 'NOPE' });

      // Act
      const error = await failure(sendFinding(target, await sshEnriched()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('valid project is required');
    });

    it('an unknown priority name: 400, permanent', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = makeJira(receiver.url, { priorities: { low: 'Trivial' } });

      // Act
      const error = await failure(sendFinding(target, await sshEnriched()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('priority');
    });

    it('wrong credentials: 401, permanent, no secret in the error', async () => {
      // Prepare
      const receiver = await startJiraReceiver({ email: EMAIL, apiToken: 'another-token', project: 'SEC' });
      receivers.push(receiver);

      // Act
      const error = await failure(sendFinding(makeJira(receiver.url), await sshEnriched()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expectNoLeak(error, SECRETS);
    });

    it('sends Basic auth, JSON content type and Accept to /rest/api/3/issue', async () => {
      // Prepare
      const receiver = await jiraReceiver();

      // Act
      await sendFinding(makeJira(`${receiver.url}/`), await sshEnriched());

      // Assess
      const [request] = receiver.requests;
      expect(request).toMatchObject({ method: 'POST', path: '/rest/api/3/issue' });
      expect(request?.headers.authorization).toBe(`Basic ${BASIC}`);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.headers.accept).toBe('application/json');
    });
  });

  describe('status classification (create)', () => {
    const created = JSON.stringify({ id: '10001', key: 'SEC-9', self: 'https://example.atlassian.net/rest/api/3/issue/10001' });
    // 204: no issue key, nothing to upsert later, a wrong URL or a proxy
    let ledger: Ledger;
    let enriched: EnrichedFinding;
    itClassifiesStatuses(statusTable(jiraTarget.statusExceptions), {
      secrets: SECRETS,
      prepare: async (status) => {
        const receiver = await jiraReceiver();
        const ok = status >= 200 && status < 300;
        receiver.answer = {
          status,
          body: ok ? created : JSON.stringify({ errorMessages: [`status ${status}`], errors: {} }),
          headers: status === 301 ? { location: 'https://elsewhere.example/' } : {},
        };
        ledger = memoryLedger();
        const target = makeJira(receiver.url, {}, ledger);
        enriched = await sshEnriched();
        return () => sendFinding(target, enriched);
      },
      assess: async (_status, outcome) => {
        if (outcome === 'delivered') expect(JSON.parse((await ledger.get(ledgerKey('soc-jira', enriched.finding))) ?? '{}').key).toBe('SEC-9');
        else expect(await ledger.get(ledgerKey('soc-jira', enriched.finding))).toBeUndefined();
      },
    });

    it('429 with Retry-After: retryable after that many seconds', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      receiver.answer = { status: 429, body: JSON.stringify({ errorMessages: ['Rate limit exceeded.'], errors: {} }), headers: { 'retry-after': '30' } };

      // Act
      const error = await failure(sendFinding(makeJira(receiver.url), await sshEnriched()));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 30_000 });
    });
  });

  describe('secrets never leak', () => {
    itNeverLeaks({
      what: 'the token',
      secrets: SECRETS,
      statuses: { '4xx': 400, '5xx': 503 },
      echoing: async (status) => {
        const receiver = await jiraReceiver();
        receiver.answer =
          status === 400
            ? { status, body: JSON.stringify({ errorMessages: [`bad token ${API_TOKEN}`, `Authorization: Basic ${BASIC}`], errors: {} }) }
            : { status, body: `upstream failed for ${EMAIL}:${API_TOKEN}` };
        return receiver.url;
      },
      redacted: true,
      send: async (url, deadlineMs) => sendFinding(makeJira(url), await sshEnriched(), deadlineMs),
    });

    it('a loopback site without allowPrivateNetwork is refused before any request', async () => {
      // Prepare
      const receiver = await jiraReceiver();
      const target = jiraTarget.create(
        'soc-jira',
        { type: 'jira', url: receiver.url.replace('http:', 'https:'), project: 'SEC', email: { env: 'E' }, apiToken: { env: 'T' } },
        targetContext({ env: { E: EMAIL, T: API_TOKEN } }),
      );

      // Act
      const error = await failure(sendFinding(target, await sshEnriched()));

      // Assess
      expect(error.retryable).toBe(false);
      expect(receiver.requests).toEqual([]);
    });
  });

  describe('configuration', () => {
    const base = { type: 'jira', url: 'https://example.atlassian.net', project: 'SEC', email: { env: 'E' }, apiToken: { ssm: '/jira/token' } };

    it.each([
      { change: {}, ok: true },
      { change: { url: 'http://example.atlassian.net' }, ok: false },
      { change: { url: 'http://127.0.0.1:8080', allowPrivateNetwork: true }, ok: true },
      { change: { url: 'https://user:pw@example.atlassian.net' }, ok: false },
      { change: { project: 'sec' }, ok: false },
      { change: { labels: ['two words'] }, ok: false },
      { change: { labels: ['soc', 'x'.repeat(256)] }, ok: false },
      { change: { labels: ['soc-team'] }, ok: true },
      { change: { priorities: false }, ok: true },
      { change: { priorities: { critical: 'P1', urgent: 'P0' } }, ok: false },
      { change: { apiToken: 'plain-text-token' }, ok: false },
      { change: { transitionOnArchive: { name: 'Done' } }, ok: true },
      { change: { transitionOnArchive: 'Done' }, ok: false },
    ])('$change → valid $ok', ({ change, ok }) => {
      // Prepare
      const config = { ...base, ...change };

      // Act
      const result = z.safeParse(JiraConfigSchema, config);

      // Assess
      expect(result.success).toBe(ok);
    });
  });
});
