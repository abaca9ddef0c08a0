import { DeliveryError } from '../errors.ts';

/**
 * Attempts inside the time left: exponential backoff with full jitter, `Retry-After`
 * honoured. When the next wait does not fit before the deadline, RetryLaterError tells
 * the caller to hand the job back to its queue with that delay instead of sleeping.
 */
interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5_000 };

class RetryLaterError extends DeliveryError {
  readonly delayMs: number;
  constructor(last: DeliveryError, delayMs: number) {
    super(last.target, last.message, { retryable: true, ...(last.status === undefined ? {} : { status: last.status }) }, { cause: last });
    this.name = 'RetryLaterError';
    this.delayMs = delayMs;
  }
}

interface RetryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

const realClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const backoffDelay = (attempt: number, policy: RetryPolicy, random: () => number): number =>
  Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));

const withRetries = async (
  attemptOnce: (attempt: number) => Promise<void>,
  options: { deadline: number; policy?: RetryPolicy; clock?: RetryClock; onRetry?: (error: DeliveryError, delayMs: number) => void },
): Promise<number> => {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const clock = options.clock ?? realClock;
  for (let attempt = 1; ; attempt++) {
    try {
      await attemptOnce(attempt);
      return attempt;
    } catch (error) {
      if (!(error instanceof DeliveryError) || !error.retryable) throw error;
      const delay = error.retryAfterMs ?? backoffDelay(attempt, policy, clock.random);
      if (attempt >= policy.maxAttempts || clock.now() + delay >= options.deadline) throw new RetryLaterError(error, delay);
      options.onRetry?.(error, delay);
      await clock.sleep(delay);
    }
  }
};

/** The longest a queue can hide a message (SQS: 12 hours). */
const MAX_REQUEUE_DELAY_MS = 12 * 60 * 60 * 1000;

/**
 * How long a job handed back after its `receiveCount`-th receive waits before the next one:
 * the wait its last failure asked for (Retry-After, backoff), but at least 2^receiveCount
 * seconds, whole seconds, at most 12 h. The deliver Lambda sets it as the message's
 * visibility timeout; replay sleeps it, so both spend the same budget.
 */
const requeueDelayMs = (receiveCount: number, delayMs: number): number =>
  Math.min(MAX_REQUEUE_DELAY_MS, Math.max(Math.ceil(delayMs / 1000), 2 ** receiveCount) * 1000);

export { withRetries, RetryLaterError, requeueDelayMs };
export type { RetryPolicy, RetryClock };
