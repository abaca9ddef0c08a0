import type { CompiledSuppression } from '../config/compile.ts';
import { compileRuntimeSuppression } from './compile.ts';
import { isExpired, type BadSuppressionRow, type SuppressionStore } from './model.ts';

/**
 * The route stage's view of the runtime suppressions: read from the store at most once per
 * `maxAgeMs` (60 s in the Lambda), shared by every finding in between.
 *
 * Why a cache, and why 60 s: the route stage runs once per finding, and a burst is thousands a
 * minute; a Scan per finding would cost more than the routing. A minute is short next to how
 * long a suppression lasts (days) and matches the SSM routes cache, so "suppressed a minute ago"
 * is the one delay to explain. Expiry is not delayed by the cache: the pipeline compares each
 * suppression's `untilMs` with its own clock on every finding.
 *
 * When the store cannot be read, the last good list stays (a suppression an analyst made does
 * not flap back on during a throttle); with no good list yet, none applies. That fails open on
 * purpose: a missed suppression sends findings someone asked not to see, a wrongly applied one
 * hides findings nobody reviewed, and only the first is safe to get wrong in a security router.
 * A failed read is tried again after the same `maxAgeMs`, not on every finding.
 */
interface RuntimeSuppressionReports {
  /** Rows that fail the checks: reported on every read that sees them (once per `maxAgeMs`), skipped. */
  badRows?(bad: readonly BadSuppressionRow[]): void;
  /** The store could not be read; `kept` suppressions from the last good read stay in use. */
  readFailed?(error: Error, kept: number): void;
  /** The store holds more than one read takes; the rest are not applied. */
  truncated?(read: number): void;
}

interface CacheOptions {
  maxAgeMs: number;
  now?: () => number;
  reports?: RuntimeSuppressionReports;
}

const cachedRuntimeSuppressions = (store: Pick<SuppressionStore, 'list'>, options: CacheOptions): (() => Promise<readonly CompiledSuppression[]>) => {
  const now = options.now ?? Date.now;
  let current: readonly CompiledSuppression[] = [];
  let readAt: number | undefined;
  let inFlight: Promise<readonly CompiledSuppression[]> | undefined;
  const refresh = async (): Promise<readonly CompiledSuppression[]> => {
    const at = now();
    try {
      const listing = await store.list();
      if (listing.bad.length > 0) options.reports?.badRows?.(listing.bad);
      if (listing.truncated) options.reports?.truncated?.(listing.suppressions.length + listing.bad.length);
      current = listing.suppressions.filter((s) => !isExpired(s, at)).map(compileRuntimeSuppression);
    } catch (error) {
      options.reports?.readFailed?.(error as Error, current.length);
    }
    readAt = at;
    return current;
  };
  return async () => {
    if (readAt !== undefined && now() - readAt < options.maxAgeMs) return current;
    // One read at a time: findings routed concurrently while it runs wait for the same answer.
    inFlight ??= refresh().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
};

export { cachedRuntimeSuppressions };
