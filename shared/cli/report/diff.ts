import { formatSeverity, severityLabel, type SeverityLabel } from '../../severity.ts';
import type { ReportTarget } from './model.ts';
import { unifiedDiff, type UnifiedDiff } from './text-diff.ts';

/**
 * `routes diff`: the same events routed under two configurations, compared finding by
 * finding. Pure: decisions in → plan out (text for a terminal or a pull request, data for
 * `--json` and the page). A finding changes when its targets change, when it becomes (or
 * stops being) suppressed, or when it falls to (or leaves) the default route.
 */
interface DiffDecision {
  outcome: 'routed' | 'suppressed';
  routes: string[];
  targets: string[];
  usedDefault: boolean;
  suppression?: { name: string; reason: string; owner?: string };
  /** For each target, the (leaf) routes that sent the finding there. */
  via: Record<string, string[]>;
}

interface DiffFinding {
  source: string;
  findingId: string;
  type: string;
  severity: number;
  accountId: string;
  /** From the account registry, when it knows the account. */
  accountName?: string;
  region: string;
  title: string;
}

type DiffEvent =
  | { kind: 'finding'; finding: DiffFinding; old: DiffDecision; new: DiffDecision }
  | { kind: 'skipped'; source: string; outcome: 'rejected' | 'ignored'; reason: string };

interface DiffInput {
  oldLabel: string;
  newLabel: string;
  /** Targets of both files, new first (their types label the groups). */
  targets: readonly ReportTarget[];
  events: readonly DiffEvent[];
  /** The two routes files' text (secrets already redacted), for the YAML change itself. */
  files?: { old: string; new: string };
}

interface ChangedFinding extends DiffFinding {
  severityLabel: SeverityLabel;
  added: string[];
  removed: string[];
  old: { routes: string[]; targets: string[]; suppression?: string; usedDefault: boolean };
  new: { routes: string[]; targets: string[]; suppression?: string; usedDefault: boolean };
}

interface RouteGroup {
  /** `route critical`, `default`, `suppression pentest (audit)`. */
  via: string;
  findings: ChangedFinding[];
}

interface TargetChange {
  target: string;
  type: string;
  added: RouteGroup[];
  removed: RouteGroup[];
  addedCount: number;
  removedCount: number;
}

interface StatusGroup {
  name: string;
  detail: string;
  findings: ChangedFinding[];
}

interface DiffData {
  oldLabel: string;
  newLabel: string;
  events: number;
  findings: number;
  skipped: { rejected: number; ignored: number };
  changed: ChangedFinding[];
  targets: TargetChange[];
  nowSuppressed: StatusGroup[];
  noLongerSuppressed: StatusGroup[];
  nowDefault: ChangedFinding[];
  noLongerDefault: ChangedFinding[];
  counts: { changed: number; gained: number; lost: number; nowSuppressed: number; noLongerSuppressed: number; nowDefault: number; noLongerDefault: number };
  /** The change to the routes file itself, as a unified diff; absent when the texts were not given. */
  routesChange?: UnifiedDiff;
}

const viaLabel = (decision: DiffDecision, target: string): string => {
  if (decision.suppression) return `suppression ${decision.suppression.name} (audit)`;
  if (decision.usedDefault) return 'default';
  const routes = Object.hasOwn(decision.via, target) ? decision.via[target]! : [];
  return routes.length === 0 ? 'no route' : `${routes.length === 1 ? 'route' : 'routes'} ${routes.join(', ')}`;
};

const brief = (decision: DiffDecision) => ({
  routes: decision.routes,
  targets: decision.targets,
  ...(decision.suppression ? { suppression: decision.suppression.name } : {}),
  usedDefault: decision.usedDefault,
});

const buildDiff = (input: DiffInput): DiffData => {
  const targetType = new Map<string, string>();
  for (const t of input.targets) if (!targetType.has(t.name)) targetType.set(t.name, t.type);
  const targetOrder = [...targetType.keys()];
  const groups = new Map<string, { added: Map<string, ChangedFinding[]>; removed: Map<string, ChangedFinding[]> }>();
  const group = (target: string) => {
    let g = groups.get(target);
    if (g === undefined) {
      g = { added: new Map(), removed: new Map() };
      groups.set(target, g);
    }
    return g;
  };
  const push = <K>(map: Map<K, ChangedFinding[]>, key: K, finding: ChangedFinding) => map.set(key, [...(map.get(key) ?? []), finding]);

  const changed: ChangedFinding[] = [];
  const nowSuppressed = new Map<string, ChangedFinding[]>();
  const noLongerSuppressed = new Map<string, ChangedFinding[]>();
  const suppressionDetail = new Map<string, string>();
  const nowDefault: ChangedFinding[] = [];
  const noLongerDefault: ChangedFinding[] = [];
  let rejected = 0;
  let ignored = 0;

  for (const event of input.events) {
    if (event.kind === 'skipped') {
      if (event.outcome === 'rejected') rejected++;
      else ignored++;
      continue;
    }
    const { old: before, new: after } = event;
    const added = after.targets.filter((t) => !before.targets.includes(t));
    const removed = before.targets.filter((t) => !after.targets.includes(t));
    const suppressionChanged = before.suppression?.name !== after.suppression?.name;
    const defaultChanged = before.usedDefault !== after.usedDefault && !before.suppression && !after.suppression;
    if (added.length === 0 && removed.length === 0 && !suppressionChanged && !defaultChanged) continue;

    const finding: ChangedFinding = {
      ...event.finding,
      severityLabel: severityLabel(event.finding.severity),
      added,
      removed,
      old: brief(before),
      new: brief(after),
    };
    changed.push(finding);
    for (const target of added) push(group(target).added, viaLabel(after, target), finding);
    for (const target of removed) push(group(target).removed, viaLabel(before, target), finding);
    if (suppressionChanged && after.suppression) {
      push(nowSuppressed, after.suppression.name, finding);
      suppressionDetail.set(after.suppression.name, describeSuppression(after.suppression));
    }
    if (suppressionChanged && before.suppression) {
      push(noLongerSuppressed, before.suppression.name, finding);
      suppressionDetail.set(before.suppression.name, describeSuppression(before.suppression));
    }
    if (defaultChanged && after.usedDefault) nowDefault.push(finding);
    if (defaultChanged && before.usedDefault) noLongerDefault.push(finding);
  }

  const rank = (target: string) => {
    const index = targetOrder.indexOf(target);
    return index === -1 ? Number.MAX_SAFE_INTEGER : index;
  };
  const routeGroups = (map: Map<string, ChangedFinding[]>): RouteGroup[] =>
    [...map].map(([via, findings]) => ({ via, findings })).sort((a, b) => a.via.localeCompare(b.via));
  const statusGroups = (map: Map<string, ChangedFinding[]>): StatusGroup[] =>
    [...map].map(([name, findings]) => ({ name, detail: suppressionDetail.get(name) ?? '', findings })).sort((a, b) => a.name.localeCompare(b.name));
  const targets = [...groups]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([target, g]) => {
      const added = routeGroups(g.added);
      const removed = routeGroups(g.removed);
      return {
        target,
        type: targetType.get(target) ?? 'unknown',
        added,
        removed,
        addedCount: added.reduce((n, r) => n + r.findings.length, 0),
        removedCount: removed.reduce((n, r) => n + r.findings.length, 0),
      };
    });

  const findings = input.events.length - rejected - ignored;
  return {
    oldLabel: input.oldLabel,
    newLabel: input.newLabel,
    events: input.events.length,
    findings,
    skipped: { rejected, ignored },
    changed,
    targets,
    nowSuppressed: statusGroups(nowSuppressed),
    noLongerSuppressed: statusGroups(noLongerSuppressed),
    nowDefault,
    noLongerDefault,
    counts: {
      changed: changed.length,
      gained: changed.filter((f) => f.added.length > 0).length,
      lost: changed.filter((f) => f.removed.length > 0).length,
      nowSuppressed: [...nowSuppressed.values()].reduce((n, f) => n + f.length, 0),
      noLongerSuppressed: [...noLongerSuppressed.values()].reduce((n, f) => n + f.length, 0),
      nowDefault: nowDefault.length,
      noLongerDefault: noLongerDefault.length,
    },
    ...(input.files ? { routesChange: unifiedDiff(input.files.old, input.files.new) } : {}),
  };
};

const describeSuppression = (s: { reason: string; owner?: string }): string => `${s.reason}${s.owner ? ` (owner ${s.owner})` : ''}`;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** The one written form (shared/severity.ts): `High 8.0`. */
const severityText = (f: ChangedFinding) => formatSeverity(f.severity);
const list = (items: readonly string[]) => (items.length === 0 ? '(none)' : items.join(', '));

/** The one-line plan summary, also the last line of the text output. */
const planLine = (data: DiffData): string => {
  if (data.counts.changed === 0) return `No changes: all ${plural(data.findings, 'finding')} route the same under both configurations.`;
  const parts = [
    `${data.counts.gained} gain a target`,
    `${data.counts.lost} lose a target`,
    `${data.counts.nowSuppressed} now suppressed`,
    `${data.counts.nowDefault} now dropped to default`,
    ...(data.counts.noLongerSuppressed > 0 ? [`${data.counts.noLongerSuppressed} no longer suppressed`] : []),
    ...(data.counts.noLongerDefault > 0 ? [`${data.counts.noLongerDefault} no longer default-only`] : []),
  ];
  return `Plan: ${data.counts.changed} of ${plural(data.findings, 'finding')} change routing: ${parts.join(', ')}.`;
};

/**
 * Text for a terminal or a pull-request comment. Finding lines start with `+`, `-` or `!`
 * in the first column, so a ```diff code block colours them.
 */
const renderDiffText = (data: DiffData): string => {
  const width = Math.min(70, Math.max(0, ...data.changed.map((f) => f.type.length)));
  const sevWidth = Math.max(0, ...data.changed.map((f) => severityText(f).length));
  const line = (marker: string, f: ChangedFinding, extra = '') =>
    `${marker}     ${f.type.padEnd(width)}  ${severityText(f).padEnd(sevWidth)}  ${f.accountId} ${f.region.padEnd(14)}  ${f.source}${extra}`.trimEnd();
  const out: string[] = [
    `Routing diff: ${plural(data.events, 'event')} replayed, ${data.oldLabel} → ${data.newLabel}`,
    `(rejected ${data.skipped.rejected}, ignored ${data.skipped.ignored}: the same under both configurations)`,
  ];
  for (const t of data.targets) {
    out.push('', `target ${t.target} (${t.type}): +${t.addedCount} -${t.removedCount}`);
    for (const g of t.added) {
      out.push(`    now via ${g.via}: ${plural(g.findings.length, 'finding')}`);
      for (const f of g.findings) out.push(line('+', f));
    }
    for (const g of t.removed) {
      out.push(`    was via ${g.via}: ${plural(g.findings.length, 'finding')}`);
      for (const f of g.findings) out.push(line('-', f));
    }
  }
  const status = (title: string, groups: StatusGroup[]) => {
    for (const g of groups) {
      out.push('', `${title} by ${g.name}: ${plural(g.findings.length, 'finding')}${g.detail ? ` (${g.detail})` : ''}`);
      for (const f of g.findings) out.push(line('!', f, `  targets: ${list(f.old.targets)} → ${list(f.new.targets)}`));
    }
  };
  status('Now suppressed', data.nowSuppressed);
  status('No longer suppressed', data.noLongerSuppressed);
  const fallback = (title: string, findings: ChangedFinding[]) => {
    if (findings.length === 0) return;
    out.push('', `${title}: ${plural(findings.length, 'finding')}`);
    for (const f of findings) out.push(line('!', f, `  routes: ${list(f.old.routes)} → ${list(f.new.routes)}`));
  };
  fallback('Now dropped to default (no route matches)', data.nowDefault);
  fallback('No longer default-only (a route matches now)', data.noLongerDefault);
  out.push('', planLine(data));
  return `${out.join('\n')}\n`;
};

export { buildDiff, renderDiffText, planLine };
export type { DiffData, DiffDecision, DiffEvent, DiffFinding, ChangedFinding, RouteGroup };
