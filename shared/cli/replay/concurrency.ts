import { UsageError } from '../usage.ts';

/**
 * `replay --concurrency N`: how many findings' deliveries may be under way at once. Sixteen
 * keeps slow or retried deliveries (a hang costs a whole receive) from stalling the run, well below what a
 * receiver or the rate limits (per target, shared by all findings) would notice.
 */
const DEFAULT_CONCURRENCY = 16;
const MAX_CONCURRENCY = 256;

const concurrencyOf = (value: string | undefined): number => {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got '${value.slice(0, 20)}'`);
  }
  return Number(value);
};

export { concurrencyOf, DEFAULT_CONCURRENCY };
