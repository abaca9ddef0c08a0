import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ACCOUNTS_CONFIG, staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { BUNDLED } from '../../../shared/cli/paths.ts';
import { replayOne, replaySession, type ReplayDetail, type ReplayRecord } from '../../../shared/cli/replay/runner.ts';
import { loadConfig } from '../../../shared/config/load.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';
import { createTargets } from '../../../shared/targets/create.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';
import { buildReport, entryFromReplay, type ReportEntry } from '../../../shared/cli/report/model.ts';
import { loadEvent } from '../../helpers/findings.ts';

const TARGETS = [
  { name: 'siem', type: 'file', kind: 'siem' },
  { name: 'slack', type: 'slack', kind: 'chat' },
  { name: 'pager', type: 'webhook', kind: 'ticket' },
];

const record = (overrides: Partial<ReplayRecord>): ReplayRecord => ({
  source: 'x.json',
  findingId: 'f',
  type: 'Recon:EC2/Portscan',
  severity: 5,
  outcome: 'routed',
  routes: ['r'],
  targets: ['siem'],
  reason: null,
  ...overrides,
});

const entry = (overrides: Partial<ReplayRecord>, resourceType = 'Instance', accountId = '111111111111'): ReportEntry => ({
  record: record(overrides),
  finding: { accountId, region: 'us-east-1', resourceType, resourceSummary: `${resourceType} x`, title: 't', description: '', sample: true, count: 1 },
  payloads: [],
});

const build = (entries: ReportEntry[]) =>
  buildReport({ routesFile: 'routes.yml', generatedAt: '2026-11-01T00:00:00Z', targets: TARGETS, defaultTargets: ['siem'], entries });

describe('report model: summary', () => {
  it('counts every outcome and groups rejected and suppressed reasons, most frequent first', () => {
    // Prepare
    const entries = [
      entry({ outcome: 'routed' }),
      entry({ outcome: 'routed' }),
      entry({ outcome: 'suppressed', routes: ['pentest'], reason: 'suppressed by pentest: scans' }),
      { record: record({ outcome: 'rejected', findingId: null, type: null, severity: null, targets: [], routes: [], reason: '$.detail.id: missing' }), payloads: [] },
      { record: record({ outcome: 'rejected', findingId: null, type: null, severity: null, targets: [], routes: [], reason: '$.detail.id: missing' }), payloads: [] },
      { record: record({ outcome: 'rejected', findingId: null, type: null, severity: null, targets: [], routes: [], reason: '$: invalid JSON' }), payloads: [] },
      { record: record({ outcome: 'ignored', findingId: null, type: null, severity: null, targets: [], routes: [], reason: 'not a finding' }), payloads: [] },
      entry({ outcome: 'failed', reason: 'pager: HTTP 500' }),
    ];
    // Act
    const data = build(entries);
    // Assess
    expect(data.summary).toEqual({ total: 8, outcomes: { routed: 2, suppressed: 1, rejected: 3, ignored: 1, failed: 1 } });
    expect(data.rejected).toEqual([{ reason: '$.detail.id: missing', count: 2 }, { reason: '$: invalid JSON', count: 1 }]);
    expect(data.suppressed).toEqual([{ reason: 'suppressed by pentest: scans', count: 1 }]);
    expect(data.failed).toEqual([{ source: 'x.json', reason: 'pager: HTTP 500' }]);
  });

  it('counts severity × target like the terminal summary: routed and failed findings only, critical first', () => {
    // Prepare
    const entries = [
      entry({ severity: 9.5, targets: ['siem', 'pager', 'slack'] }),
      entry({ severity: 8, targets: ['siem', 'slack'] }),
      entry({ severity: 7, targets: ['slack'], outcome: 'failed' }),
      entry({ severity: 2, targets: ['siem'], outcome: 'suppressed' }),
    ];
    // Act
    const data = build(entries);
    // Assess
    expect(data.severityTargets).toEqual([
      { severity: 'critical', findings: 1, counts: { siem: 1, pager: 1, slack: 1 } },
      { severity: 'high', findings: 2, counts: { siem: 1, slack: 2 } },
      { severity: 'medium', findings: 0, counts: {} },
      { severity: 'low', findings: 0, counts: {} },
    ]);
  });

  it('lists accounts for the filter and adds targets that records name but the configuration does not', () => {
    // Act
    const data = build([entry({ targets: ['ghost'] }, 'Instance', '222222222222'), entry({}, 'Instance', '111111111111')]);
    // Assess
    expect(data.accounts.map((a) => a.id)).toEqual(['111111111111', '222222222222']);
    expect(data.targets.map((t) => t.name)).toEqual(['siem', 'slack', 'pager', 'ghost']);
  });
});

describe('report model: coverage matrix', () => {
  it('flags types that reach only the default and types that reach nothing', () => {
    // Prepare
    const entries = [
      entry({ type: 'A:EC2/Routed', targets: ['siem', 'slack'], routes: ['r'] }),
      entry({ type: 'B:EC2/Default', targets: ['siem'], routes: ['default'] }),
      entry({ type: 'B:EC2/Default', targets: ['siem'], routes: ['default'] }),
      entry({ type: 'C:S3/Mixed', targets: ['siem'], routes: ['default'] }, 'S3Bucket'),
      entry({ type: 'C:S3/Mixed', targets: ['pager'], routes: ['r'] }, 'S3Bucket'),
      entry({ type: 'D:IAM/Nowhere', targets: [], routes: ['quiet'], outcome: 'suppressed' }, 'AccessKey'),
    ];
    // Act
    const { byType, byResource } = build(entries).coverage;
    // Assess
    expect(byType.map((r) => [r.key, r.findings, r.counts, r.defaultOnly, r.reachesNothing])).toEqual([
      ['A:EC2/Routed', 1, { siem: 1, slack: 1 }, false, false],
      ['B:EC2/Default', 2, { siem: 2 }, true, false],
      ['C:S3/Mixed', 2, { siem: 1, pager: 1 }, false, false],
      ['D:IAM/Nowhere', 1, {}, false, true],
    ]);
    expect(byType.find((r) => r.key === 'C:S3/Mixed')?.viaDefault).toBe(1);
    expect(byResource.map((r) => [r.key, r.findings, r.counts])).toEqual([
      ['AccessKey', 1, {}],
      ['Instance', 3, { siem: 3, slack: 1 }],
      ['S3Bucket', 2, { siem: 1, pager: 1 }],
    ]);
  });

  it('leaves rejected and ignored events out of the matrix', () => {
    // Act
    const data = build([{ record: record({ outcome: 'rejected', type: 'X:Y/Z', targets: [] }), payloads: [] }]);
    // Assess
    expect(data.coverage.byType).toEqual([]);
  });
});

describe('report model: from the replay runner', () => {
  it('receives the decision trace and every rendered payload, and leaves the JSON record unchanged', async () => {
    // Prepare
    const config = await loadConfig(ROUTES_CONFIG, { file: BUNDLED.routes() });
    const accounts = staticAccountDirectory(parseConfig(ACCOUNTS_CONFIG, await readFile(BUNDLED.accounts(), 'utf8'), BUNDLED.accounts()));
    const targets = createTargets(config, { secrets: localSecretResolver(), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() });
    const event = loadEvent('published/ssh-bruteforce.sample.eventbridge.json') as { detail: Record<string, unknown> };
    event.detail.severity = 9.5;
    event.detail.accountId = '111111111111';
    const details: ReplayDetail[] = [];
    const options = { config, accounts, targets, mode: 'dry-run' as const, ...replaySession() };
    // Act
    const withCollector = await replayOne({ source: 'e.json', value: event }, { ...options, collect: (d) => details.push(d) });
    const plain = await replayOne({ source: 'e.json', value: structuredClone(event) }, { config, accounts, targets, mode: 'dry-run', ...replaySession() });
    // Assess
    expect(JSON.stringify(withCollector)).toBe(JSON.stringify(plain));
    expect(Object.keys(withCollector).slice(0, 8)).toEqual(['source', 'findingId', 'type', 'severity', 'outcome', 'routes', 'targets', 'reason']);
    const reportEntry = entryFromReplay(details[0]!);
    expect(reportEntry.record).toBe(withCollector);
    expect(reportEntry.decision?.trace.map((s) => [s.route, s.matched])).toEqual([
      ['siem-copy', true],
      ['quiet-dev-recon', false],
      ['critical', true],
    ]);
    expect(reportEntry.decision?.trace[1]?.failed).toContain('severity');
    expect(reportEntry.payloads.map((p) => p.target)).toEqual(withCollector.targets);
    expect(JSON.parse(reportEntry.payloads.find((p) => p.target === 'soc-slack')!.body).blocks.length).toBeGreaterThan(0);
    expect(reportEntry.finding).toMatchObject({ accountId: '111111111111', resourceType: 'Instance' });
  });

  it('still gives payloads for a delivery skipped as a duplicate', async () => {
    // Prepare
    const config = await loadConfig(ROUTES_CONFIG, { file: BUNDLED.routes() });
    const accounts = staticAccountDirectory(parseConfig(ACCOUNTS_CONFIG, await readFile(BUNDLED.accounts(), 'utf8'), BUNDLED.accounts()));
    const targets = createTargets(config, { secrets: localSecretResolver(), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() });
    const event = loadEvent('published/ssh-bruteforce.sample.eventbridge.json');
    const details: ReplayDetail[] = [];
    const options = { config, accounts, targets, mode: 'dry-run' as const, ...replaySession(), collect: (d: ReplayDetail) => details.push(d) };
    // Act
    await replayOne({ source: 'a', value: event }, options);
    const second = await replayOne({ source: 'b', value: event }, options);
    // Assess
    expect(second.reason).toContain('already delivered');
    expect(details[1]!.payloads.map((p) => p.target)).toEqual(second.targets);
  });
});

describe('report model: a large replay', () => {
  const limits = { detailed: 4, tableRows: 2, payloadChars: 10 };
  const many = (): ReportEntry[] => [
    ...Array.from({ length: 10 }, (_, i) => ({ ...entry({ type: 'A:EC2/Same', findingId: `a${i}` }), payloads: [{ target: 'siem', contentType: 'application/json', extension: 'json', body: 'x'.repeat(25) }] })),
    entry({ type: 'B:EC2/Later', findingId: 'b' }),
    entry({ type: 'C:EC2/Later', findingId: 'c' }),
    entry({ type: 'D:EC2/TooLate', findingId: 'd' }),
  ];

  it('details the first half of the budget in input order, then the first finding of each new group, and says which', () => {
    // Act
    const data = buildReport({ routesFile: 'r.yml', generatedAt: 'now', targets: TARGETS, defaultTargets: [], entries: many(), limits });
    // Assess
    expect(data.findings.map((f) => [f.anchor, f.record.findingId])).toEqual([['f1', 'a0'], ['f2', 'a1'], ['f11', 'b'], ['f12', 'c']]);
    expect(data.summary.total).toBe(13);
    expect(data.limits).toEqual(limits);
  });

  it('groups every finding, lists the largest groups up to the row limit and counts the rest', () => {
    // Act
    const data = buildReport({ routesFile: 'r.yml', generatedAt: 'now', targets: TARGETS, defaultTargets: [], entries: many(), limits });
    // Assess
    expect(data.groups.map((g) => [g.type, g.findings, g.example])).toEqual([
      ['A:EC2/Same', 10, 'f1'],
      ['B:EC2/Later', 1, 'f11'],
    ]);
    expect(data.unlisted.groups).toBe(2);
    expect(data.unlisted.byType).toBe(2);
    expect(data.coverage.byType).toHaveLength(2);
  });

  it('cuts a long payload and says how much was left out', () => {
    // Act
    const data = buildReport({ routesFile: 'r.yml', generatedAt: 'now', targets: TARGETS, defaultTargets: [], entries: many(), limits });
    // Assess
    expect(data.findings[0]!.payloads[0]!.body).toBe(`${'x'.repeat(10)}\n… (15 more characters not shown)`);
  });

  it('details everything when the replay fits the budget', () => {
    // Act
    const data = buildReport({ routesFile: 'r.yml', generatedAt: 'now', targets: TARGETS, defaultTargets: [], entries: many().slice(0, 4), limits });
    // Assess
    expect(data.findings).toHaveLength(4);
  });

  it('counts each target’s deliveries by status, as the replay summary does', () => {
    // Prepare
    const withDeliveries = (deliveries: Record<string, string>) => entry({ targets: Object.keys(deliveries), ...({ deliveries } as Partial<ReplayRecord>) });
    // Act
    const data = build([withDeliveries({ siem: 'sent', slack: 'rendered' }), withDeliveries({ siem: 'sent', slack: 'failed' }), withDeliveries({ pager: 'held' })]);
    // Assess
    expect(data.deliveries).toEqual([
      { target: 'siem', counts: { sent: 2, rendered: 0, failed: 0, held: 0, duplicate: 0 } },
      { target: 'slack', counts: { sent: 0, rendered: 1, failed: 1, held: 0, duplicate: 0 } },
      { target: 'pager', counts: { sent: 0, rendered: 0, failed: 0, held: 1, duplicate: 0 } },
    ]);
  });
});
