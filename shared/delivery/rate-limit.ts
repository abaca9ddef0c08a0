import { DeliveryError } from '../errors.ts';

/**
 * A token bucket per target, so a burst of findings turns into a steady stream instead of
 * a 429 storm. When the next token would arrive after the deadline, the job is handed
 * back (retryable, with the wait as Retry-After) rather than sleeping past it.
 */
interface RateLimit {
  perSecond: number;
  burst: number;
}

interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const systemClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

const tokenBucket = (limit: RateLimit, target: string, clock: Clock = systemClock) => {
  let tokens = limit.burst;
  let updatedAt = clock.now();
  let queue: Promise<void> = Promise.resolve();
  const refill = () => {
    const now = clock.now();
    tokens = Math.min(limit.burst, tokens + ((now - updatedAt) / 1000) * limit.perSecond);
    updatedAt = now;
  };
  /** Waits for a token (callers are served in order); throws when it cannot arrive in time. */
  const take = (deadline: number): Promise<void> => {
    const turn = queue.then(async () => {
      refill();
      if (tokens < 1) {
        const waitMs = Math.ceil(((1 - tokens) / limit.perSecond) * 1000);
        if (clock.now() + waitMs >= deadline) {
          throw new DeliveryError(target, `rate limit of ${limit.perSecond}/s reached; retry later`, { retryable: true, retryAfterMs: waitMs });
        }
        await clock.sleep(waitMs);
        refill();
      }
      tokens -= 1;
    });
    queue = turn.catch(() => undefined);
    return turn;
  };
  return { take, available: () => (refill(), tokens) };
};

export { tokenBucket };
export type { RateLimit, Clock };
