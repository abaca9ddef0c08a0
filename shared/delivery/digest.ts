import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { GroupPolicy } from '../routing/evaluate.ts';
import { composeKey } from '../keys.ts';
import { SEVERITY_LABELS, type SeverityLabel } from '../severity.ts';
import { toEpochMs } from '../state/finding-state.ts';

/**
 * Flood control: a burst of similar findings becomes one digest per group and window for
 * chat targets. Critical findings are never held back. A group is the route plus the values
 * of the route's `group.by` fields (in their order): `key` says it for people, `values` keeps
 * the parts the group's key is composed from.
 */
interface DigestRef {
  route: string;
  key: string;
  windowMs: number;
  values?: string[];
}

const GROUP_FIELDS: Record<string, (f: EnrichedFinding) => string> = {
  type: (f) => f.finding.type,
  accountId: (f) => f.finding.accountId,
  region: (f) => f.finding.region,
  resourceType: (f) => f.enrichment.resourceType,
  severityLabel: (f) => f.enrichment.severityLabel,
  threatPurpose: (f) => f.enrichment.typeParts.threatPurpose,
};

const digestRef = (routeName: string, group: GroupPolicy, enriched: EnrichedFinding): DigestRef => {
  const values = group.by.map((field) => GROUP_FIELDS[field]?.(enriched) ?? '');
  return {
    route: routeName,
    key: [routeName, ...group.by.map((field, index) => `${field}=${values[index]}`)].join(' '),
    windowMs: group.windowMs,
    values,
  };
};

/**
 * Which held jobs become one digest: the same target and the same group. A job queued by an
 * earlier version (no `values`) is grouped by its readable key.
 */
const digestGroupKey = (job: { target: string; digest: DigestRef }): string =>
  composeKey('digest-group', job.target, job.digest.route, job.digest.values ?? job.digest.key);

/** What a digest message says: counts, worst severity, top resources, time span. */
interface Digest {
  key: string;
  route: string;
  count: number;
  worst: SeverityLabel;
  worstScore: number;
  types: [string, number][];
  accounts: [string, number][];
  topResources: [string, number][];
  firstSeen: string;
  lastSeen: string;
  findingIds: string[];
}

const countBy = (values: string[], limit: number): [string, number][] => {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit);
};

const isoOf = (value: string | number): string => {
  const ms = toEpochMs(value);
  return ms === 0 ? String(value) : new Date(ms).toISOString();
};

/** Pure: the same members (in any order) give the same digest. */
const buildDigest = (ref: { key: string; route: string }, members: readonly EnrichedFinding[]): Digest => {
  const sorted = [...members].sort((a, b) => a.finding.id.localeCompare(b.finding.id));
  const worstScore = Math.max(...sorted.map((m) => m.finding.severity));
  const worst = sorted.reduce<SeverityLabel>(
    (acc, m) => (SEVERITY_LABELS.indexOf(m.enrichment.severityLabel) > SEVERITY_LABELS.indexOf(acc) ? m.enrichment.severityLabel : acc),
    'low',
  );
  const times = sorted.map((m) => isoOf(m.finding.updatedAt)).sort();
  return {
    key: ref.key,
    route: ref.route,
    count: sorted.length,
    worst,
    worstScore,
    types: countBy(sorted.map((m) => m.finding.type), 5),
    accounts: countBy(sorted.map((m) => (m.enrichment.account.name ? `${m.enrichment.account.name} (${m.finding.accountId})` : m.finding.accountId)), 5),
    topResources: countBy(sorted.map((m) => m.enrichment.resourceSummary), 3),
    firstSeen: times[0] ?? '',
    lastSeen: times.at(-1) ?? '',
    findingIds: sorted.map((m) => m.finding.id),
  };
};

/** One idempotency key per digest: the target plus every member's own key (in any order). */
const digestIdempotencyKey = (target: string, memberKeys: readonly string[]): string =>
  composeKey('digest', target, [...memberKeys].sort());

export { digestRef, digestGroupKey, buildDigest, digestIdempotencyKey };
export type { Digest };
