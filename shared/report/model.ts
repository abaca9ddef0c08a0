import type { Outcome, ReplayDetail, ReplayRecord } from '../cli/replay-runner.ts';
import type { TraceStep } from '../routing/evaluate.ts';
import { SEVERITY_LABELS, severityLabel, type SeverityLabel } from '../severity.ts';

/**
 * The data behind `replay --report`: pure, records in → report data out. Counts follow
 * the replay summary printed on the terminal, so the page and the terminal agree.
 */
interface ReportTarget {
  name: string;
  type: string;
  kind: string;
}

/** One replayed event as the report needs it: the JSON record plus what only the report shows. */
interface ReportEntry {
  record: ReplayRecord;
  finding?: {
    accountId: string;
    accountName?: string;
    region: string;
    resourceType: string;
    resourceSummary: string;
    title: string;
    description: string;
    sample: boolean;
    count: number;
  };
  decision?: {
    trace: TraceStep[];
    usedDefault: boolean;
    suppression?: { name: string; reason: string; owner?: string };
    quieted: { target: string; reason: string }[];
    refused: { target: string; reason: string }[];
  };
  payloads: { target: string; contentType: string; extension: string; body: string }[];
}

interface ReportInput {
  routesFile: string;
  /** Shown as is; the caller decides the clock (tests pass a fixed string). */
  generatedAt: string;
  targets: readonly ReportTarget[];
  defaultTargets: readonly string[];
  entries: readonly ReportEntry[];
}

interface CoverageRow {
  key: string;
  findings: number;
  /** Findings of this key that reach each target (suppressed ones count at their audit targets). */
  counts: Record<string, number>;
  /** Findings that matched no route and went to the default targets. */
  viaDefault: number;
  suppressed: number;
  /** Every finding of this key matched no route: it reaches the default and nothing else. */
  defaultOnly: boolean;
  /** No finding of this key reaches any target. */
  reachesNothing: boolean;
}

interface FindingView {
  /** Stable anchor inside the page. */
  anchor: string;
  record: ReplayRecord;
  severityLabel: SeverityLabel | null;
  finding?: ReportEntry['finding'];
  decision?: ReportEntry['decision'];
  payloads: (ReportEntry['payloads'][number] & { type: string; kind: string })[];
}

interface ReportData {
  routesFile: string;
  generatedAt: string;
  targets: ReportTarget[];
  defaultTargets: string[];
  summary: { total: number; outcomes: Record<Outcome, number> };
  rejected: { reason: string; count: number }[];
  suppressed: { reason: string; count: number }[];
  failed: { source: string; reason: string }[];
  /** Critical first; counts findings routed (or failed) per target, like the terminal summary. */
  severityTargets: { severity: SeverityLabel; findings: number; counts: Record<string, number> }[];
  coverage: { byType: CoverageRow[]; byResource: CoverageRow[] };
  findings: FindingView[];
  accounts: { id: string; label: string }[];
}

const OUTCOMES: readonly Outcome[] = ['routed', 'suppressed', 'rejected', 'ignored', 'failed'];

/** Turns what the replay runner's `collect` callback receives into a report entry. */
const entryFromReplay = (detail: ReplayDetail): ReportEntry => {
  const { record, enriched, routed } = detail;
  const order = (target: string) => {
    const index = record.targets.indexOf(target);
    return index === -1 ? Number.MAX_SAFE_INTEGER : index;
  };
  return {
    record,
    ...(enriched
      ? {
          finding: {
            accountId: enriched.finding.accountId,
            ...(enriched.enrichment.account.name ? { accountName: enriched.enrichment.account.name } : {}),
            region: enriched.finding.region,
            resourceType: enriched.enrichment.resourceType,
            resourceSummary: enriched.enrichment.resourceSummary,
            title: enriched.finding.title ?? enriched.finding.type,
            description: enriched.finding.description ?? '',
            sample: enriched.enrichment.sample,
            count: enriched.enrichment.count,
          },
        }
      : {}),
    ...(routed
      ? {
          decision: {
            trace: routed.decision.trace,
            usedDefault: routed.decision.usedDefault,
            ...(routed.suppression
              ? { suppression: { name: routed.suppression.name, reason: routed.suppression.reason, ...(routed.suppression.owner ? { owner: routed.suppression.owner } : {}) } }
              : {}),
            quieted: routed.quieted,
            refused: routed.refused,
          },
        }
      : {}),
    payloads: [...detail.payloads]
      .sort((a, b) => order(a.target) - order(b.target))
      .map(({ target, payload }) => ({ target, contentType: payload.contentType, extension: payload.extension, body: payload.body })),
  };
};

const buildReport = (input: ReportInput): ReportData => {
  const targets: ReportTarget[] = [...input.targets];
  const known = new Set(targets.map((t) => t.name));
  for (const entry of input.entries) {
    for (const target of entry.record.targets) {
      if (!known.has(target)) {
        known.add(target);
        targets.push({ name: target, type: 'unknown', kind: 'unknown' });
      }
    }
  }
  const targetInfo = new Map(targets.map((t) => [t.name, t]));

  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const rejected = new Map<string, number>();
  const suppressed = new Map<string, number>();
  const failed: { source: string; reason: string }[] = [];
  const bySeverity = new Map<SeverityLabel, { findings: number; counts: Record<string, number> }>();
  const byType = new Map<string, CoverageAccumulator>();
  const byResource = new Map<string, CoverageAccumulator>();
  const accounts = new Map<string, string>();

  for (const { record, finding } of input.entries) {
    outcomes[record.outcome]++;
    if (record.outcome === 'rejected') bump(rejected, record.reason ?? 'unknown');
    if (record.outcome === 'suppressed') bump(suppressed, record.reason ?? record.routes.join(', '));
    if (record.outcome === 'failed') failed.push({ source: record.source, reason: record.reason ?? '' });
    if (record.severity !== null && (record.outcome === 'routed' || record.outcome === 'failed')) {
      const label = severityLabel(record.severity);
      const row = bySeverity.get(label) ?? { findings: 0, counts: noCounts() };
      row.findings++;
      for (const target of record.targets) row.counts[target] = (row.counts[target] ?? 0) + 1;
      bySeverity.set(label, row);
    }
    if (record.type !== null && (record.outcome === 'routed' || record.outcome === 'suppressed' || record.outcome === 'failed')) {
      addCoverage(byType, record.type, record);
      if (finding) addCoverage(byResource, finding.resourceType, record);
    }
    if (finding) accounts.set(finding.accountId, finding.accountName ? `${finding.accountName} (${finding.accountId})` : finding.accountId);
  }

  return {
    routesFile: input.routesFile,
    generatedAt: input.generatedAt,
    targets,
    defaultTargets: [...input.defaultTargets],
    summary: { total: input.entries.length, outcomes },
    rejected: sortedCounts(rejected),
    suppressed: sortedCounts(suppressed),
    failed,
    severityTargets: [...SEVERITY_LABELS].reverse().map((severity) => ({ severity, findings: 0, counts: noCounts(), ...bySeverity.get(severity) })),
    coverage: { byType: coverageRows(byType), byResource: coverageRows(byResource) },
    findings: input.entries.map((entry, index) => ({
      anchor: `f${index + 1}`,
      record: entry.record,
      severityLabel: entry.record.severity === null ? null : severityLabel(entry.record.severity),
      ...(entry.finding ? { finding: entry.finding } : {}),
      ...(entry.decision ? { decision: entry.decision } : {}),
      payloads: entry.payloads.map((p) => ({ ...p, type: targetInfo.get(p.target)?.type ?? 'unknown', kind: targetInfo.get(p.target)?.kind ?? 'unknown' })),
    })),
    accounts: [...accounts].map(([id, label]) => ({ id, label })).sort((a, b) => a.label.localeCompare(b.label)),
  };
};

/** Counts keyed by target name: a target named `constructor` must not read Object's. */
const noCounts = (): Record<string, number> => Object.create(null);

interface CoverageAccumulator {
  findings: number;
  counts: Record<string, number>;
  viaDefault: number;
  suppressed: number;
}

const addCoverage = (map: Map<string, CoverageAccumulator>, key: string, record: ReplayRecord): void => {
  const row = map.get(key) ?? { findings: 0, counts: noCounts(), viaDefault: 0, suppressed: 0 };
  row.findings++;
  for (const target of record.targets) row.counts[target] = (row.counts[target] ?? 0) + 1;
  if (record.outcome !== 'suppressed' && record.routes.length === 1 && record.routes[0] === 'default') row.viaDefault++;
  if (record.outcome === 'suppressed') row.suppressed++;
  map.set(key, row);
};

const coverageRows = (map: Map<string, CoverageAccumulator>): CoverageRow[] =>
  [...map]
    .map(([key, row]) => ({
      key,
      ...row,
      defaultOnly: row.viaDefault === row.findings,
      reachesNothing: Object.values(row.counts).every((n) => n === 0),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
const sortedCounts = (map: Map<string, number>) =>
  [...map].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));

export { buildReport, entryFromReplay, OUTCOMES };
export type { ReportData, ReportEntry, ReportInput, ReportTarget, CoverageRow, FindingView };
