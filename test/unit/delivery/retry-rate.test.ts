import { describe, expect, it } from 'vitest';
import { RetryLaterError, withRetries, type RetryClock } from '../../../shared/delivery/retry.ts';
import { tokenBucket } from '../../../shared/delivery/rate-limit.ts';
import { DeliveryError } from '../../../shared/errors.ts';

/** A clock that only moves when someone sleeps. */
const fakeClock = (): RetryClock & { slept: number[] } => {
  let now = 1_000_000;
  const slept: number[] = [];
  return { now: () => now, sleep: async (ms) => { slept.push(ms); now += ms; }, random: () => 0.5, slept };
};

const failing = (errors: DeliveryError[]) => {
  let calls = 0;
  return {
    calls: () => calls,
    attempt: async () => {
      const error = errors[calls++];
      if (error) throw error;
    },
  };
};

const retryable = (extra: { retryAfterMs?: number; status?: number } = {}) => new DeliveryError('t', 'HTTP 503', { retryable: true, ...extra });

describe('Delivery: withRetries', () => {
  it('retries retryable errors with exponential backoff and full jitter', async () => {
    // Prepare
    const clock = fakeClock();
    const target = failing([retryable(), retryable()]);
    // Act
    const attempts = await withRetries(target.attempt, { deadline: clock.now() + 60_000, clock, policy: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 } });
    // Assess
    expect(attempts).toBe(3);
    expect(clock.slept).toEqual([100, 200]);
  });

  it('honours Retry-After over the backoff', async () => {
    // Prepare
    const clock = fakeClock();
    const target = failing([retryable({ retryAfterMs: 3_000 })]);
    // Act
    await withRetries(target.attempt, { deadline: clock.now() + 60_000, clock });
    // Assess
    expect(clock.slept).toEqual([3_000]);
  });

  it('hands the job back (RetryLaterError with the delay) when the wait does not fit the deadline', async () => {
    // Prepare
    const clock = fakeClock();
    const target = failing([retryable({ retryAfterMs: 30_000 })]);
    // Act
    const error = await withRetries(target.attempt, { deadline: clock.now() + 10_000, clock }).catch((e) => e);
    // Assess
    expect(error).toBeInstanceOf(RetryLaterError);
    expect(error.delayMs).toBe(30_000);
    expect(clock.slept).toEqual([]);
    expect(target.calls()).toBe(1);
  });

  it('stops at once on a permanent error', async () => {
    // Prepare
    const clock = fakeClock();
    const target = failing([new DeliveryError('t', 'HTTP 400', { retryable: false, status: 400 })]);
    // Act
    const error = await withRetries(target.attempt, { deadline: clock.now() + 60_000, clock }).catch((e) => e);
    // Assess
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(target.calls()).toBe(1);
  });

  it('gives up after the attempt budget with the last classified error', async () => {
    // Prepare
    const clock = fakeClock();
    const target = failing([retryable(), retryable(), retryable({ status: 502 })]);
    // Act
    const error = await withRetries(target.attempt, { deadline: clock.now() + 60_000, clock, policy: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 } }).catch((e) => e);
    // Assess
    expect(error).toBeInstanceOf(RetryLaterError);
    expect(error.status).toBe(502);
    expect(target.calls()).toBe(3);
  });
});

describe('Delivery: token bucket', () => {
  it('lets a burst through, then paces to the rate', async () => {
    // Prepare
    const clock = fakeClock();
    const bucket = tokenBucket({ perSecond: 1, burst: 3 }, 'slack', clock);
    const start = clock.now();
    // Act
    for (let i = 0; i < 5; i++) await bucket.take(start + 60_000);
    // Assess
    expect(clock.slept).toEqual([1_000, 1_000]);
    expect(clock.now() - start).toBe(2_000);
  });

  it('refuses (retryable, with the wait) rather than sleeping past the deadline', async () => {
    // Prepare
    const clock = fakeClock();
    const bucket = tokenBucket({ perSecond: 2, burst: 1 }, 'pd', clock);
    await bucket.take(clock.now() + 10_000);
    // Act
    const error = await bucket.take(clock.now() + 100).catch((e) => e);
    // Assess
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 500 });
    expect(clock.slept).toEqual([]);
  });
});
