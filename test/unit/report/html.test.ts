import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ReplayRecord } from '../../../shared/cli/replay/runner.ts';
import { buildReport, type ReportEntry } from '../../../shared/cli/report/model.ts';
import { CSP, escapeHtml, mrkdwnToHtml, renderReportHtml, SCRIPT, teamsMarkdownToHtml } from '../../../shared/cli/report/html.ts';
import { buildSlackMessage } from '../../../shared/targets/slack.ts';
import { buildTeamsMessage } from '../../../shared/targets/teams.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';

const INJECTED = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

/** A report over one hostile finding with Slack, Teams and webhook payloads. */
const hostileReport = async () => {
  const enriched = await enrichedFrom(hostileFinding(), hostileAccount());
  const { finding } = enriched;
  const record: ReplayRecord = {
    source: `${INJECTED}.json`,
    findingId: finding.id,
    type: finding.type,
    severity: finding.severity,
    outcome: 'routed',
    routes: [INJECTED],
    targets: ['slack', 'teams', 'pager'],
    reason: INJECTED,
  };
  const entry: ReportEntry = {
    record,
    finding: { accountId: finding.accountId, accountName: INJECTED, region: finding.region, resourceType: INJECTED, resourceSummary: INJECTED, title: `${INJECTED} ${finding.title}`, description: '', sample: false, count: 1 },
    decision: { trace: [{ route: INJECTED, depth: 0, matched: false, failed: INJECTED }], usedDefault: false, quieted: [{ target: 'x', reason: INJECTED }], refused: [] },
    payloads: [
      { target: 'slack', contentType: 'application/json', extension: 'json', body: JSON.stringify(buildSlackMessage(enriched)) },
      { target: 'teams', contentType: 'application/json', extension: 'json', body: JSON.stringify(buildTeamsMessage(enriched)) },
      { target: 'pager', contentType: 'application/json', extension: 'json', body: JSON.stringify({ note: INJECTED }) },
    ],
  };
  const targets = [
    { name: 'slack', type: 'slack', kind: 'chat' },
    { name: 'teams', type: 'teams', kind: 'chat' },
    { name: 'pager', type: 'webhook', kind: 'ticket' },
  ];
  return renderReportHtml(buildReport({ routesFile: INJECTED, generatedAt: 'now', targets, defaultTargets: [], entries: [entry] }));
};

describe('report page: escaping', () => {
  it('escapes the five HTML specials', () => {
    // Act / Assess
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('never lets finding text open a tag: the only <script> is the page’s own, and no <img> exists', async () => {
    // Act
    const html = await hostileReport();
    // Assess
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(/<img/i.test(html)).toBe(false);
    const handlers = [...html.matchAll(/<[a-z][^>]*>/gi)].map((tag) => tag[0].replace(/"[^"]*"/g, '""')).filter((tag) => /\son[a-z]+\s*=/i.test(tag));
    expect(handlers).toEqual([]);
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    // Finding text inside attributes cannot close the attribute either.
    for (const attr of html.matchAll(/data-text="([^"]*)"/g)) expect(attr[1]).not.toMatch(/[<>]/);
  });

  it('renders Slack mrkdwn as text: mentions and links from the finding stay inert', () => {
    // Act
    const html = mrkdwnToHtml('*Title* &lt;!channel&gt; &amp;lt; <https://console.aws.amazon.com/x?a=1&amp;b=2|Open> <javascript:alert(1)|click> :red_circle:');
    // Assess
    expect(html).toContain('<strong>Title</strong>');
    expect(html).toContain('&lt;!channel&gt; &amp;lt;');
    expect(html).toContain('<a href="https://console.aws.amazon.com/x?a=1&amp;b=2" rel="noopener noreferrer">Open</a>');
    expect(html).not.toContain('javascript:alert(1)"');
    expect(html).toContain('<span>click</span>');
    expect(html).toContain('aria-label="red circle"');
  });

  it('renders Teams Markdown escapes as the literal characters and keeps **bold**', () => {
    // Act
    const html = teamsMarkdownToHtml('**HIGH** \\[SAMPLE\\] a\\*b\\* \\<x\\> [evil](javascript:x)');
    // Assess
    expect(html).toBe('<strong>HIGH</strong> [SAMPLE] a*b* &lt;x&gt; [evil](javascript:x)');
  });

  it('shows a Slack and a Teams preview and the webhook payload as pretty JSON', async () => {
    // Act
    const html = await hostileReport();
    // Assess
    expect(html).toContain('aria-label="Slack message preview, severity high"');
    expect(html).toContain('aria-label="Microsoft Teams card preview, severity high"');
    expect(html).toContain('{\n  &quot;note&quot;: &quot;&lt;script&gt;');
  });
});

describe('report page: content security policy', () => {
  it('allows exactly the inline script by its hash, and nothing from the network', async () => {
    // Act
    const html = await hostileReport();
    // Assess
    const hash = createHash('sha256').update(SCRIPT).digest('base64');
    expect(CSP).toContain(`script-src 'sha256-${hash}'`);
    expect(CSP).toMatch(/^default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`);
    expect(html).toContain(`<script>${SCRIPT}</script>`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\/(?!console\.aws\.amazon\.com)/);
  });

  it('puts per-finding views in <details>, usable without the script; the filter form starts hidden', async () => {
    // Act
    const html = await hostileReport();
    // Assess
    expect(html).toMatch(/<details class="finding" id="f1"/);
    expect(html).toContain('<form id="filters" hidden');
  });
});
