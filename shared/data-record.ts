/**
 * A record keyed by data (tag keys, target names, jurisdictions): no prototype, so
 * `constructor`, `toString` and `__proto__` are ordinary keys, present only when given; the
 * last of duplicate keys wins. Built from entries, not with Object.create(null): V8 keeps such an
 * object in dictionary mode, and JSON.stringify's fast path gives up at the first one and starts
 * the whole document over on its slow path. An enriched finding whose resource tags were made
 * that way took 10 µs to stringify instead of 6.4 (issue 17, docs/performance-history.md).
 */
const dataRecord = <V>(entries: Iterable<readonly [string, V]>): Record<string, V> =>
  Object.setPrototypeOf(Object.fromEntries(entries), null) as Record<string, V>;

export { dataRecord };
