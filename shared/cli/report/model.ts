import type { Outcome, ReplayDetail, ReplayRecord } from '../replay/runner.ts';
import { actorFacts, actorSummary, type ActorFact } from '../../actor-summary.ts';
import type { TraceStep } from '../../routing/evaluate.ts';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery-status.ts';
import { SEVERITY_LABELS, severityLabel, type SeverityLabel } from '../../severity.ts';

/**
 * The data behind `replay --report`: records in → report data out, one record at a time, so
 * a replay of 100,000 findings never holds 100,000 rendered payloads. Counts, matrices and
 * groups cover every record and follow the replay summary printed on the terminal, so the
 * page and the terminal agree; decision traces and rendered messages are kept for a bounded
 * sample (see `keepsDetails`), which keeps the page a few MB whatever the replay's size.
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
    /** Who did what from where, since when (shared/actor-summary.ts), as labelled facts. */
    actor?: ActorFact[];
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

/** How much of a large replay the page shows in full; every count still covers all records. */
interface ReportLimits {
  /** Findings shown with decision trace and messages. */
  detailed: number;
  /** Rows per table (groups, coverage, reasons, failures); the rest is counted, not listed. */
  tableRows: number;
  /** Characters of one rendered payload shown; a longer body is cut with a note. */
  payloadChars: number;
}

const REPORT_LIMITS: ReportLimits = { detailed: 300, tableRows: 500, payloadChars: 32_000 };

interface ReportMeta {
  routesFile: string;
  /** Shown as is; the caller decides the clock (tests pass a fixed string). */
  generatedAt: string;
  targets: readonly ReportTarget[];
  defaultTargets: readonly string[];
  /** Files the run left out (not an input extension, binary), as the replay summary counts them. */
  skipped?: { count: number; first: readonly { source: string; why: string }[] };
}

interface ReportInput {
  routesFile: string;
  /** Shown as is; the caller decides the clock (tests pass a fixed string). */
  generatedAt: string;
  targets: readonly ReportTarget[];
  defaultTargets: readonly string[];
  entries: readonly ReportEntry[];
  limits?: ReportLimits;
}

/** Findings alike in type, severity band, outcome, routes and targets: the page's view of every finding. */
interface GroupRow {
  type: string;
  severityLabel: SeverityLabel | null;
  outcome: Outcome;
  routes: string[];
  targets: string[];
  findings: number;
  accounts: number;
  regions: number;
  /** The first finding of the group shown in detail, if any. */
  example?: string;
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
  /** Per target, what became of its deliveries (sent, rendered only, failed, …), as the replay summary counts them. */
  deliveries: { target: string; counts: Record<DeliveryStatus, number> }[];
  skipped: { count: number; first: { source: string; why: string }[] };
  rejected: { reason: string; count: number }[];
  suppressed: { reason: string; count: number }[];
  failed: { source: string; reason: string }[];
  /** Critical first; counts findings routed (or failed) per target, like the terminal summary. */
  severityTargets: { severity: SeverityLabel; findings: number; counts: Record<string, number> }[];
  coverage: { byType: CoverageRow[]; byResource: CoverageRow[] };
  groups: GroupRow[];
  /** The findings shown in detail: all of them up to `limits.detailed`, else a sample (see `keepsDetails`). */
  findings: FindingView[];
  /** Accounts of the detailed findings, for the filter. */
  accounts: { id: string; label: string }[];
  limits: ReportLimits;
  /** Rows counted but not listed, per table, because of `limits.tableRows`. */
  unlisted: { groups: number; byType: number; byResource: number; rejected: number; suppressed: number; failed: number };
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
            actor: actorFacts(actorSummary(enriched.finding)),
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

/**
 * Which findings the page details once it has more than `limits.detailed`: the first half of the
 * budget goes to the first findings in input order; the rest to the first finding of each group
 * (type × severity × outcome × routes × targets) not yet shown, so every kind of decision has an
 * example however far into the input it first appears. Decided as records arrive (`kept` counts
 * the findings this rule kept so far); up to `limits.detailed` records every one is held, in case
 * the replay ends there.
 */
const keepsDetails = (kept: number, limits: ReportLimits, newGroup: boolean): boolean =>
  kept < limits.detailed && (kept < Math.floor(limits.detailed / 2) || newGroup);

interface GroupAccumulator {
  row: Omit<GroupRow, 'accounts' | 'regions'>;
  accounts: Set<string>;
  regions: Set<string>;
}

/** Receives report entries one at a time (the replay's `collect`), then builds the page data. */
class ReportCollector {
  readonly #limits: ReportLimits;
  readonly #outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  readonly #rejected = new Map<string, number>();
  readonly #suppressed = new Map<string, number>();
  readonly #failed: { source: string; reason: string }[] = [];
  #failedCount = 0;
  readonly #bySeverity = new Map<SeverityLabel, { findings: number; counts: Record<string, number> }>();
  readonly #byType = new Map<string, CoverageAccumulator>();
  readonly #byResource = new Map<string, CoverageAccumulator>();
  readonly #groups = new Map<string, GroupAccumulator>();
  /** Non-finding events (rejected, ignored) have no group; the first of each outcome counts as new. */
  readonly #seenOutcomes = new Set<string>();
  readonly #detailed: { index: number; entry: ReportEntry; group?: GroupAccumulator; byRule: boolean }[] = [];
  #keptByRule = 0;
  readonly #recordTargets = new Set<string>();
  readonly #deliveries = new Map<string, Record<DeliveryStatus, number>>();
  #total = 0;

  constructor(limits: ReportLimits = REPORT_LIMITS) {
    this.#limits = limits;
  }

  add(entry: ReportEntry): void {
    const { record, finding } = entry;
    const index = this.#total++;
    this.#outcomes[record.outcome]++;
    for (const target of record.targets) this.#recordTargets.add(target);
    for (const [target, status] of Object.entries((record as ReplayRecord & { deliveries?: Readonly<Record<string, DeliveryStatus>> }).deliveries ?? {})) {
      const counts = this.#deliveries.get(target) ?? (Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>);
      if (Object.hasOwn(counts, status)) counts[status]++;
      this.#deliveries.set(target, counts);
    }
    if (record.outcome === 'rejected') bump(this.#rejected, record.reason ?? 'unknown');
    if (record.outcome === 'suppressed') bump(this.#suppressed, record.reason ?? record.routes.join(', '));
    if (record.outcome === 'failed') {
      this.#failedCount++;
      if (this.#failed.length < this.#limits.tableRows) this.#failed.push({ source: record.source, reason: record.reason ?? '' });
    }
    if (record.severity !== null && (record.outcome === 'routed' || record.outcome === 'failed')) {
      const label = severityLabel(record.severity);
      const row = this.#bySeverity.get(label) ?? { findings: 0, counts: noCounts() };
      row.findings++;
      for (const target of record.targets) row.counts[target] = (row.counts[target] ?? 0) + 1;
      this.#bySeverity.set(label, row);
    }
    if (record.type !== null && (record.outcome === 'routed' || record.outcome === 'suppressed' || record.outcome === 'failed')) {
      addCoverage(this.#byType, record.type, record);
      if (finding) addCoverage(this.#byResource, finding.resourceType, record);
    }
    let newGroup: boolean;
    let group: GroupAccumulator | undefined;
    if (record.type === null) {
      newGroup = !this.#seenOutcomes.has(record.outcome);
      this.#seenOutcomes.add(record.outcome);
    } else {
      const label = record.severity === null ? null : severityLabel(record.severity);
      const key = JSON.stringify([record.type, label, record.outcome, record.routes, record.targets]);
      group = this.#groups.get(key);
      newGroup = group === undefined;
      if (group === undefined) {
        group = { row: { type: record.type, severityLabel: label, outcome: record.outcome, routes: [...record.routes], targets: [...record.targets], findings: 0 }, accounts: new Set(), regions: new Set() };
        this.#groups.set(key, group);
      }
      group.row.findings++;
      if (finding) {
        group.accounts.add(finding.accountId);
        group.regions.add(finding.region);
      }
    }
    const byRule = keepsDetails(this.#keptByRule, this.#limits, newGroup);
    if (byRule) this.#keptByRule++;
    if (this.#total === this.#limits.detailed + 1) {
      // More than the budget after all: keep only what the rule chose.
      const chosen = this.#detailed.filter((d) => d.byRule);
      this.#detailed.splice(0, this.#detailed.length, ...chosen);
    }
    if (byRule || this.#total <= this.#limits.detailed) {
      this.#detailed.push({ index, entry: { ...entry, payloads: entry.payloads.map((p) => ({ ...p, body: cut(p.body, this.#limits.payloadChars) })) }, ...(group ? { group } : {}), byRule });
    }
  }

  build(meta: ReportMeta): ReportData {
    const targets: ReportTarget[] = [...meta.targets];
    const known = new Set(targets.map((t) => t.name));
    for (const target of this.#recordTargets) {
      if (!known.has(target)) {
        known.add(target);
        targets.push({ name: target, type: 'unknown', kind: 'unknown' });
      }
    }
    const targetInfo = new Map(targets.map((t) => [t.name, t]));
    const rows = this.#limits.tableRows;
    const examples = new Map<GroupAccumulator, string>();
    for (const d of this.#detailed) if (d.group && !examples.has(d.group)) examples.set(d.group, anchorOf(d.index));
    const byType = coverageRows(this.#byType);
    const byResource = coverageRows(this.#byResource);
    const groups = [...this.#groups.values()]
      .map((g) => {
        const example = examples.get(g);
        return { ...g.row, accounts: g.accounts.size, regions: g.regions.size, ...(example ? { example } : {}) };
      })
      .sort((a, b) => b.findings - a.findings || a.type.localeCompare(b.type) || a.outcome.localeCompare(b.outcome));
    const rejected = sortedCounts(this.#rejected);
    const suppressed = sortedCounts(this.#suppressed);
    const accounts = new Map<string, string>();
    for (const { entry } of this.#detailed) {
      const f = entry.finding;
      if (f) accounts.set(f.accountId, f.accountName ? `${f.accountName} (${f.accountId})` : f.accountId);
    }
    return {
      routesFile: meta.routesFile,
      generatedAt: meta.generatedAt,
      targets,
      defaultTargets: [...meta.defaultTargets],
      summary: { total: this.#total, outcomes: { ...this.#outcomes } },
      deliveries: [...this.#deliveries]
        .sort(([a], [b]) => targetRank(targets, a) - targetRank(targets, b) || a.localeCompare(b))
        .map(([target, counts]) => ({ target, counts: { ...counts } })),
      skipped: { count: meta.skipped?.count ?? 0, first: [...(meta.skipped?.first ?? [])] },
      rejected: rejected.slice(0, rows),
      suppressed: suppressed.slice(0, rows),
      failed: [...this.#failed],
      severityTargets: [...SEVERITY_LABELS].reverse().map((severity) => ({ severity, findings: 0, counts: noCounts(), ...this.#bySeverity.get(severity) })),
      coverage: { byType: byType.slice(0, rows), byResource: byResource.slice(0, rows) },
      groups: groups.slice(0, rows),
      findings: this.#detailed.map(({ index, entry }) => ({
        anchor: anchorOf(index),
        record: entry.record,
        severityLabel: entry.record.severity === null ? null : severityLabel(entry.record.severity),
        ...(entry.finding ? { finding: entry.finding } : {}),
        ...(entry.decision ? { decision: entry.decision } : {}),
        payloads: entry.payloads.map((p) => ({ ...p, type: targetInfo.get(p.target)?.type ?? 'unknown', kind: targetInfo.get(p.target)?.kind ?? 'unknown' })),
      })),
      accounts: [...accounts].map(([id, label]) => ({ id, label })).sort((a, b) => a.label.localeCompare(b.label)),
      limits: { ...this.#limits },
      unlisted: {
        groups: Math.max(0, groups.length - rows),
        byType: Math.max(0, byType.length - rows),
        byResource: Math.max(0, byResource.length - rows),
        rejected: Math.max(0, rejected.length - rows),
        suppressed: Math.max(0, suppressed.length - rows),
        failed: this.#failedCount - this.#failed.length,
      },
    };
  }
}

/** All entries at once (tests, small callers). */
const buildReport = (input: ReportInput): ReportData => {
  const collector = new ReportCollector(input.limits);
  for (const entry of input.entries) collector.add(entry);
  return collector.build(input);
};

const targetRank = (targets: readonly ReportTarget[], name: string): number => {
  const index = targets.findIndex((t) => t.name === name);
  return index === -1 ? Number.MAX_SAFE_INTEGER : index;
};

/** Stable anchor of the n-th record (0-based) inside the page. */
const anchorOf = (index: number): string => `f${index + 1}`;

/** A payload body cut to `limit` characters, saying how much was left out. */
const cut = (body: string, limit: number): string =>
  body.length <= limit ? body : `${body.slice(0, limit)}\n… (${body.length - limit} more characters not shown)`;

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

export { buildReport, entryFromReplay, ReportCollector, OUTCOMES };
export type { ReportData, ReportEntry, ReportTarget, CoverageRow, FindingView };
