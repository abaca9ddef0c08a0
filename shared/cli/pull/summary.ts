import { SEVERITY_LABELS, severityLabel, severityTitle, type SeverityLabel } from '../../severity.ts';

/**
 * What a pull got, region by region: findings per severity band, the member accounts they
 * came from, and the regions skipped (access denied, GuardDuty not enabled) or failed. Counts
 * and AWS's own error text only, never a finding's content.
 */
type RegionStatus = 'pulled' | 'skipped' | 'failed';

interface RegionSummary {
  region: string;
  status: RegionStatus;
  reason?: string;
  detectors: string[];
  findings: number;
  bySeverity: Record<SeverityLabel, number>;
  accounts: number;
  missing: number;
  retries: number;
}

interface PullSummary {
  output: string;
  since: string;
  until: string | null;
  includeArchived: boolean;
  criteria: string[];
  findings: number;
  bySeverity: Record<SeverityLabel, number>;
  regions: RegionSummary[];
}

const emptyBands = (): Record<SeverityLabel, number> => ({ low: 0, medium: 0, high: 0, critical: 0 });

/** Counts of one region as its findings are written. */
class RegionTally {
  readonly bySeverity = emptyBands();
  readonly accounts = new Set<string>();
  findings = 0;

  add(finding: { Severity?: number | undefined; AccountId?: string | undefined }): void {
    this.findings++;
    this.bySeverity[severityLabel(finding.Severity ?? 0)]++;
    if (finding.AccountId) this.accounts.add(finding.AccountId);
  }
}

const totals = (regions: readonly RegionSummary[]): { findings: number; bySeverity: Record<SeverityLabel, number> } => {
  const bySeverity = emptyBands();
  for (const r of regions) for (const label of SEVERITY_LABELS) bySeverity[label] += r.bySeverity[label];
  return { findings: regions.reduce((n, r) => n + r.findings, 0), bySeverity };
};

const BANDS = [...SEVERITY_LABELS].reverse();

const renderPullSummary = (summary: PullSummary): string => {
  const header = ['region', ...BANDS.map(severityTitle), 'total', 'accounts'];
  const row = (name: string, counts: Record<SeverityLabel, number>, total: number, accounts: string) => [
    name,
    ...BANDS.map((b) => String(counts[b])),
    String(total),
    accounts,
  ];
  const pulled = summary.regions.filter((r) => r.status !== 'skipped' || r.findings > 0);
  const rows = [
    ...pulled.map((r) => row(r.region + (r.status === 'failed' ? ' (failed)' : ''), r.bySeverity, r.findings, String(r.accounts))),
    row('all', summary.bySeverity, summary.findings, ''),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const window = `updated ${summary.since} → ${summary.until ?? 'now'}`;
  const filters = [summary.includeArchived ? 'archived included' : 'archived excluded', ...summary.criteria.map((c) => `criteria ${c}`)].join(', ');
  const out = [
    `Pulled ${summary.findings} finding${summary.findings === 1 ? '' : 's'} (${window}; ${filters}) into ${summary.output}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.slice(0, -1).map(line),
    line(widths.map((w) => '-'.repeat(w))),
    line(rows.at(-1)!),
  ];
  const skipped = summary.regions.filter((r) => r.status === 'skipped');
  if (skipped.length > 0) out.push('', 'Skipped:', ...skipped.map((r) => `  ${r.region}: ${r.reason}`));
  const failed = summary.regions.filter((r) => r.status === 'failed');
  if (failed.length > 0) out.push('', 'Failed (findings pulled before the failure are in the file):', ...failed.map((r) => `  ${r.region}: ${r.reason}`));
  const missing = summary.regions.reduce((n, r) => n + r.missing, 0);
  if (missing > 0) out.push('', `${missing} listed finding${missing === 1 ? '' : 's'} no longer returned by GetFindings (archived or deleted meanwhile)`);
  const retries = summary.regions.reduce((n, r) => n + r.retries, 0);
  if (retries > 0) out.push('', `${retries} request${retries === 1 ? '' : 's'} retried (throttling or server errors)`);
  return `${out.join('\n')}\n`;
};

export { RegionTally, renderPullSummary, totals };
export type { PullSummary, RegionSummary };
