import { boundedMap } from '../bounded-map.ts';
import { composeKey } from '../keys.ts';

/**
 * Per-finding high-water mark. GuardDuty re-publishes a finding with the same id, a
 * newer `updatedAt` and a higher `service.count`, and EventBridge may deliver updates out
 * of order or twice. `advance` moves the mark forward only (conditional write) and says
 * how this update relates to what was seen before.
 */
interface FindingSnapshot {
  updatedAtMs: number;
  count: number;
  severity: number;
}

interface StoredState {
  mark: FindingSnapshot;
  /** The mark before `mark`: lets a retried update recompute the same decision. */
  prior?: FindingSnapshot;
  /** When a chat or ticket target was last notified about this finding. */
  lastNotifiedAtMs?: number;
}

/** first: never seen; newer: moves the mark; same: a repeat of the current mark; stale: older than the mark. */
type Relation = 'first' | 'newer' | 'same' | 'stale';

interface Transition {
  relation: Relation;
  /** The state this update is compared with (for `same`, the one before the mark). */
  previous?: FindingSnapshot;
  lastNotifiedAtMs?: number;
}

interface FindingStateStore {
  advance(key: string, snapshot: FindingSnapshot): Promise<Transition>;
  markNotified(key: string, atMs: number): Promise<void>;
}

const compareSnapshots = (a: FindingSnapshot, b: FindingSnapshot): number =>
  a.updatedAtMs !== b.updatedAtMs ? a.updatedAtMs - b.updatedAtMs : a.count - b.count;

/** Decides the relation of `incoming` to a stored state (shared by every store). */
const relate = (stored: StoredState | undefined, incoming: FindingSnapshot): Transition => {
  if (stored === undefined) return { relation: 'first' };
  const order = compareSnapshots(incoming, stored.mark);
  const notified = stored.lastNotifiedAtMs === undefined ? {} : { lastNotifiedAtMs: stored.lastNotifiedAtMs };
  if (order > 0) return { relation: 'newer', previous: stored.mark, ...notified };
  if (order === 0) return { relation: 'same', ...(stored.prior ? { previous: stored.prior } : {}), ...notified };
  return { relation: 'stale', previous: stored.mark, ...notified };
};

/**
 * Finding high-water marks in memory. With `maxFindings`, the least recently seen finding is
 * forgotten beyond that many (at least that many are kept; bounded memory for long replays): a later update of a forgotten
 * finding counts as its first occurrence.
 */
const memoryFindingState = (options: { maxFindings?: number } = {}): FindingStateStore => {
  // Write order is recency order: every advance re-writes its key (batched eviction: see boundedMap).
  const states = boundedMap<string, StoredState>(options.maxFindings);
  return {
    advance: async (key, snapshot) => {
      const stored = states.get(key);
      const transition = relate(stored, snapshot);
      if (transition.relation === 'first' || transition.relation === 'newer') {
        states.set(key, { mark: snapshot, ...(stored ? { prior: stored.mark } : {}), ...(stored?.lastNotifiedAtMs ? { lastNotifiedAtMs: stored.lastNotifiedAtMs } : {}) });
      } else if (stored !== undefined) {
        states.set(key, stored);
      }
      return transition;
    },
    markNotified: async (key, atMs) => {
      const stored = states.get(key);
      if (stored) stored.lastNotifiedAtMs = Math.max(atMs, stored.lastNotifiedAtMs ?? 0);
    },
  };
};

const toEpochMs = (value: string | number): number => {
  if (typeof value === 'number') return value > 1e12 ? value : value * 1000;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? 0 : parsed;
};

const snapshotOf = (finding: { updatedAt: string | number; severity: number; service?: { count?: number | undefined } | undefined }): FindingSnapshot => ({
  updatedAtMs: toEpochMs(finding.updatedAt),
  count: finding.service?.count ?? 1,
  severity: finding.severity,
});

/** Finding ids are unique per account and region; the `finding#` prefix tells state items from ledger items. */
const findingStateKey = (finding: { id: string; accountId: string; region: string }): string =>
  `finding#${composeKey('finding-state', finding.accountId, finding.region, finding.id)}`;

export { memoryFindingState, relate, snapshotOf, findingStateKey, toEpochMs };
export type { FindingSnapshot, StoredState, Relation, Transition, FindingStateStore };
