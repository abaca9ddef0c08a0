import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import type { ReplayRecord } from '../../../shared/cli/replay/runner.ts';
import { renderReportHtml } from '../../../shared/cli/report/html.ts';
import { buildReport, type ReportEntry } from '../../../shared/cli/report/model.ts';
import { SlackConfigSchema, slackTarget } from '../../../shared/targets/slack.ts';
import { enrichedFrom, loadFinding } from '../../helpers/findings.ts';
import { targetContext } from '../../helpers/target-contract.ts';

const INJECTED = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

/** A report page over one finding whose Slack payload is `body`. */
const reportWith = (body: string, findingId: string): string => {
  const record: ReplayRecord = { source: 'x.json', findingId, type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 5, outcome: 'routed', routes: ['r'], targets: ['slack'], reason: null };
  const entry: ReportEntry = {
    record,
    finding: { accountId: '111122223333', region: 'eu-west-1', resourceType: 'Instance', resourceSummary: 'i-1', title: 't', description: '', sample: false, count: 1 },
    decision: { trace: [], usedDefault: true, quieted: [], refused: [] },
    payloads: [{ target: 'slack', contentType: 'application/json', extension: 'json', body }],
  };
  return renderReportHtml(buildReport({ routesFile: 'routes.yml', generatedAt: 'now', targets: [{ name: 'slack', type: 'slack', kind: 'chat' }], defaultTargets: ['slack'], entries: [entry] }));
};

describe('replay report: button preview', () => {
  it('draws each configured button of the rendered message as an inert labelled span', async () => {
    // Prepare
    const enriched = await enrichedFrom(loadFinding('targets/ssh-bruteforce.sample.eventbridge.json'));
    const config = z.parse(SlackConfigSchema, { type: 'slack', webhookUrl: { env: 'X' }, actions: ['acknowledge', 'archive', 'suppress'] });
    const body = slackTarget.create('slack', config, targetContext()).render(enriched).body;

    // Act
    const html = reportWith(body, enriched.finding.id);

    // Assess
    const buttons = [...html.matchAll(/<span class="sl-button([^"]*)" data-action-id="([^"]*)"[^>]*>([^<]*)/g)].map((m) => [m[2], m[3], m[1]]);
    expect(buttons).toEqual([
      ['findings-router.acknowledge', 'Acknowledge', ' sl-primary'],
      ['findings-router.archive', 'Archive in GuardDuty', ' sl-danger'],
      ['findings-router.suppress-7d', 'Suppress similar 7 days', ' sl-danger'],
    ]);
    expect(html).not.toContain('[actions block]');
    expect(html).toContain('title="Archive this finding? Archives this UnauthorizedAccess:EC2/SSHBruteForce finding');
  });

  it('a payload whose button labels, ids and confirm texts carry markup shows them as text', () => {
    // Prepare
    const button = {
      type: 'button',
      action_id: `"${INJECTED}`,
      text: { type: 'plain_text', text: INJECTED },
      style: `danger" onclick="x`,
      confirm: { title: { type: 'plain_text', text: `"${INJECTED}` }, text: { type: 'mrkdwn', text: '&lt;script&gt;x&lt;/script&gt; &amp;' } },
    };
    const body = JSON.stringify({ text: 'x', blocks: [{ type: 'actions', elements: [button] }] });

    // Act
    const html = reportWith(body, 'f1');

    // Assess
    expect(html.match(/<script/g)).toHaveLength(1); // the page's own filter script
    expect(/<img/i.test(html)).toBe(false);
    const handlers = [...html.matchAll(/<[a-z][^>]*>/gi)].map((tag) => tag[0].replace(/"[^"]*"/g, '""')).filter((tag) => /\son[a-z]+\s*=/i.test(tag));
    expect(handlers).toEqual([]);
    expect(html).toContain('<span class="sl-button" data-action-id="&quot;&lt;script&gt;');
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;<span class="sl-confirm">');
  });
});
