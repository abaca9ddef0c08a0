/**
 * The small state the actions endpoint keeps: signatures seen (replay guard), actions done
 * (idempotency per action, finding and actor) and requests per actor per minute (rate
 * limit). Every key expires. DynamoDB in Lambda (shared/aws/action-store.ts), memory in
 * `actions simulate` and unit tests: the engine cannot tell them apart.
 */
interface ActionStore {
  /** True when the key was free and is now held until `ttlSeconds` from now; false when someone holds it. */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
  /** Frees a claim (an action that failed may be tried again). */
  release(key: string): Promise<void>;
  /** Adds one to the counter under `key` (created with `ttlSeconds`) and returns the new value. */
  increment(key: string, ttlSeconds: number): Promise<number>;
}

/** Bounded: past this many live keys the oldest are dropped (simulate and tests hold a handful). */
const MEMORY_MAX_KEYS = 10_000;

const memoryActionStore = (now: () => number = Date.now): ActionStore => {
  const claims = new Map<string, number>();
  const counters = new Map<string, { count: number; expires: number }>();
  const live = (expires: number | undefined) => expires !== undefined && expires > now();
  const trim = (map: Map<string, unknown>) => {
    while (map.size > MEMORY_MAX_KEYS) map.delete(map.keys().next().value as string);
  };
  return {
    claim: async (key, ttlSeconds) => {
      if (live(claims.get(key))) return false;
      claims.set(key, now() + ttlSeconds * 1000);
      trim(claims);
      return true;
    },
    release: async (key) => {
      claims.delete(key);
    },
    increment: async (key, ttlSeconds) => {
      const current = counters.get(key);
      const next = current !== undefined && live(current.expires) ? { count: current.count + 1, expires: current.expires } : { count: 1, expires: now() + ttlSeconds * 1000 };
      counters.set(key, next);
      trim(counters);
      return next.count;
    },
  };
};

export { memoryActionStore };
export type { ActionStore };
