import { SEVERITY_LABELS, severityLabel, severityTitle } from '../severity.ts';
import type { ReplayRecord } from './replay-runner.ts';

/**
 * The end-of-replay summary: findings by severity × target, then suppressed, rejected
 * (grouped by reason), ignored and failed. Counts only; safe to print anywhere.
 */
class ReplaySummary {
  readonly outcomes = new Map<string, number>();
  readonly bySeverityTarget = new Map<string, Map<string, number>>();
  readonly targetNames = new Set<string>();
  readonly suppressedBy = new Map<string, number>();
  readonly rejectedReasons = new Map<string, number>();
  readonly failures: string[] = [];
  total = 0;

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
    if (record.outcome === 'suppressed') bump(this.suppressedBy, record.reason ?? record.routes.join(', '));
    if (record.outcome === 'rejected') bump(this.rejectedReasons, record.reason ?? 'unknown');
    if (record.outcome === 'failed' && this.failures.length < 20) this.failures.push(`${record.source}: ${record.reason}`);
  }

  render(): string {
    const targets = [...this.targetNames].sort();
    const header = ['severity', ...targets];
    const rows = [...SEVERITY_LABELS].reverse().map((label) => {
      const row = this.bySeverityTarget.get(label);
      return [severityTitle(label), ...targets.map((t) => String(row?.get(t) ?? 0))];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    const out = [
      '',
      `Replay summary: ${this.total} events — ` +
        ['routed', 'suppressed', 'rejected', 'ignored', 'failed'].map((o) => `${o} ${this.outcomes.get(o) ?? 0}`).join(', '),
      '',
      'Findings delivered per target, by severity:',
      line(header),
      line(widths.map((w) => '-'.repeat(w))),
      ...rows.map(line),
    ];
    if (this.suppressedBy.size > 0) {
      out.push('', 'Suppressed:');
      for (const [reason, count] of this.suppressedBy) out.push(`  ${count} × ${reason}`);
    }
    if (this.rejectedReasons.size > 0) {
      out.push('', 'Rejected:');
      for (const [reason, count] of [...this.rejectedReasons].slice(0, 20)) out.push(`  ${count} × ${reason}`);
    }
    if (this.failures.length > 0) {
      out.push('', 'Failed deliveries:');
      for (const failure of this.failures) out.push(`  ${failure}`);
    }
    return `${out.join('\n')}\n`;
  }
}

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

export { ReplaySummary };
