import { composeKey } from '../keys.ts';

/**
 * Durable memory for targets that upsert (tickets, incidents): finding key → the remote
 * record it created (e.g. a Jira issue key). Lookups never depend on the remote service's
 * search, which lags behind writes and so duplicates tickets on retries.
 * In Lambda it is backed by DynamoDB (FindingStateTable); in replay, by memory.
 */
interface Ledger {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` unless the key already holds one; returns the value now stored. */
  putIfAbsent(key: string, value: string): Promise<string>;
  set(key: string, value: string): Promise<void>;
}

const memoryLedger = (): Ledger => {
  const entries = new Map<string, string>();
  return {
    get: async (key) => entries.get(key),
    putIfAbsent: async (key, value) => {
      const existing = entries.get(key);
      if (existing !== undefined) return existing;
      entries.set(key, value);
      return value;
    },
    set: async (key, value) => {
      entries.set(key, value);
    },
  };
};

/** The ledger key of one finding at one target: finding ids are unique per account and region. */
const ledgerKey = (target: string, finding: { id: string; accountId: string; region: string }): string =>
  composeKey('ledger', target, finding.accountId, finding.region, finding.id);

export { memoryLedger, ledgerKey };
export type { Ledger };
