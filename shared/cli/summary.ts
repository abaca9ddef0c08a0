import { SEVERITY_LABELS, severityLabel, severityTitle } from '../severity.ts';
import { DELIVERY_STATUSES, type DeliveryStatus } from './delivery-status.ts';
import type { Outcome, ReplayRecord } from './replay/runner.ts';
import { terminalSafe } from './terminal-text.ts';

/**
 * The end-of-replay summary, in words that say what happened: per target how many findings
 * were sent, only rendered, failed, held for a digest or already delivered; then the digests;
 * findings routed per target by severity; suppressed, rejected and skipped inputs (the first
 * few named with file and line, then a count) and failed deliveries. The same numbers feed
 * `--summary-json` (toJSON) and the report page. Counts and input names only: safe to print.
 */
const NAMED = 10;
const OUTCOMES: readonly Outcome[] = ['routed', 'suppressed', 'rejected', 'ignored', 'failed'];

type StatusCounts = Record<DeliveryStatus, number>;

interface DigestStats {
  digests: number;
  findings: number;
  failures: string[];
  /** Digests delivered (sent or rendered) per target. */
  byTarget?: Record<string, number>;
}

class ReplaySummary {
  readonly outcomes = new Map<string, number>();
  readonly bySeverityTarget = new Map<string, Map<string, number>>();
  readonly targetNames = new Set<string>();
  readonly deliveries = new Map<string, StatusCounts>();
  readonly suppressedBy = new Map<string, number>();
  readonly rejected: { source: string; reason: string }[] = [];
  readonly skipped: { source: string; why: string }[] = [];
  readonly failures: string[] = [];
  total = 0;
  rejectedCount = 0;
  skippedCount = 0;
  failedCount = 0;
  digests: DigestStats | undefined;

  /** Decides whether a target's finished delivery was a send (for digests, whose records say `held`). */
  private readonly sends: (target: string) => boolean;

  constructor(sends: (target: string) => boolean = () => false) {
    this.sends = sends;
  }

  add(record: ReplayRecord): void {
    this.total++;
    bump(this.outcomes, record.outcome);
    if (record.severity !== null && (record.outcome === 'routed' || record.outcome === 'failed')) {
      const row = this.bySeverityTarget.get(severityLabel(record.severity)) ?? new Map<string, number>();
      for (const target of record.targets) {
        this.targetNames.add(target);
        bump(row, target);
      }
      this.bySeverityTarget.set(severityLabel(record.severity), row);
    }
    for (const [target, status] of Object.entries(record.deliveries ?? {})) {
      this.targetNames.add(target);
      const counts = this.deliveries.get(target) ?? zeroCounts();
      counts[status]++;
      this.deliveries.set(target, counts);
    }
    if (record.outcome === 'suppressed') bump(this.suppressedBy, record.reason ?? record.routes.join(', '));
    if (record.outcome === 'rejected') {
      this.rejectedCount++;
      if (this.rejected.length < NAMED) this.rejected.push({ source: record.source, reason: withoutSource(record.reason ?? 'unknown', record.source) });
    }
    if (record.outcome === 'failed') {
      this.failedCount++;
      if (this.failures.length < NAMED) this.failures.push(`${record.source}: ${record.reason}`);
    }
  }

  /** A file left out of the run: not an input extension in a folder, or binary. */
  skip(source: string, why: string): void {
    this.skippedCount++;
    if (this.skipped.length < NAMED) this.skipped.push({ source, why });
  }

  setDigests(stats: DigestStats): void {
    this.digests = stats;
  }

  /** Digests per target, split by whether that target sends in this run. */
  private digestCounts(): { sent: number; rendered: number } {
    const counts = { sent: 0, rendered: 0 };
    for (const [target, n] of Object.entries(this.digests?.byTarget ?? {})) counts[this.sends(target) ? 'sent' : 'rendered'] += n;
    return counts;
  }

  toJSON() {
    const digests = this.digestCounts();
    return {
      events: this.total,
      outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, this.outcomes.get(o) ?? 0])),
      deliveries: Object.fromEntries([...this.deliveries].sort(([a], [b]) => a.localeCompare(b))),
      digests: { sent: digests.sent, rendered: digests.rendered, failed: this.digests?.failures.length ?? 0, findings: this.digests?.findings ?? 0, byTarget: this.digests?.byTarget ?? {} },
      rejected: { count: this.rejectedCount, first: this.rejected },
      skipped: { count: this.skippedCount, first: this.skipped },
      failed: { count: this.failedCount, first: this.failures },
      suppressed: Object.fromEntries(this.suppressedBy),
    };
  }

  render(): string {
    const targets = [...this.targetNames].sort();
    const out = [
      '',
      `Replay summary: ${this.total} events — ${OUTCOMES.map((o) => `${o} ${this.outcomes.get(o) ?? 0}`).join(', ')}`,
    ];
    if (this.skippedCount > 0) out.push(`Skipped files: ${this.skippedCount} (not read: see below)`);
    if (targets.length > 0) {
      out.push('', 'Deliveries per target (findings):', ...table(['target', 'sent', 'rendered only', 'failed', 'held for digest', 'duplicate'], targets.map((t) => {
        const c = this.deliveries.get(t) ?? zeroCounts();
        return [t, ...DELIVERY_STATUSES.map((s) => String(c[s]))];
      })));
    }
    if (this.digests && (this.digests.digests > 0 || this.digests.failures.length > 0)) {
      const d = this.digestCounts();
      out.push('', `Digest groups: ${d.sent} sent, ${d.rendered} rendered only, ${this.digests.failures.length} failed, for ${this.digests.findings} grouped findings (a group of one goes as its finding)`);
      for (const failure of this.digests.failures.slice(0, NAMED)) out.push(`  ${terminalSafe(failure)}`);
    }
    out.push(
      '',
      'Findings routed per target, by severity (sent, rendered only or failed: see above):',
      ...table(
        ['severity', ...targets],
        [...SEVERITY_LABELS].reverse().map((label) => {
          const row = this.bySeverityTarget.get(label);
          return [severityTitle(label), ...targets.map((t) => String(row?.get(t) ?? 0))];
        }),
      ),
    );
    if (this.suppressedBy.size > 0) {
      out.push('', 'Suppressed:');
      for (const [reason, count] of this.suppressedBy) out.push(`  ${count} × ${terminalSafe(reason)}`);
    }
    named(out, 'Rejected', this.rejectedCount, this.rejected.map((r) => `${r.source}: ${r.reason}`));
    named(out, 'Skipped files', this.skippedCount, this.skipped.map((s) => `${s.source}: ${s.why}`));
    named(out, 'Failed deliveries', this.failedCount, this.failures);
    return `${out.join('\n')}\n`;
  }
}

const zeroCounts = (): StatusCounts => ({ sent: 0, rendered: 0, failed: 0, held: 0, duplicate: 0 });

/** `file.json: file.json: no such file` reads better once. */
const withoutSource = (reason: string, source: string): string => {
  const text = reason.startsWith('$: ') ? reason.slice(3) : reason;
  return text.startsWith(`${source}: `) ? text.slice(source.length + 2) : text;
};

const named = (out: string[], title: string, count: number, lines: string[]) => {
  if (count === 0) return;
  out.push('', `${title} (${count}):`);
  for (const line of lines) out.push(`  ${terminalSafe(line)}`);
  if (count > lines.length) out.push(`  … and ${count - lines.length} more${title === 'Rejected' ? ' (replay --json names every one)' : ''}`);
};

const table = (header: string[], rows: string[][]): string[] => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
};

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

export { ReplaySummary };
