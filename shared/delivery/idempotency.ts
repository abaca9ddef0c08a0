import { randomUUID } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { DeliveryJob } from './job.ts';

/**
 * Exactly once per idempotency key: Powertools idempotency keyed on the job's
 * `idempotencyKey` (composed from target, finding id and updatedAt; see shared/keys.ts).
 * Records live 25 h, longer than EventBridge's 24 h of retries. A job without a key is an error, never a free pass.
 * Lambda persists in DynamoDB; replay keeps the same records in memory.
 */
const IDEMPOTENCY_EXPIRY_SECONDS = 25 * 60 * 60;

interface DeliveryOutcome {
  status: 'delivered' | 'rendered';
  attempts: number;
  /** Which execution produced this result: a different one means the job was a duplicate. */
  execution: string;
}

const deliveryIdempotencyConfig = (): IdempotencyConfig =>
  new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    // A missing key must fail loudly rather than deliver without protection.
    expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
    throwOnNoIdempotencyKey: true,
  });

type DeliverFn = (job: DeliveryJob) => Promise<Omit<DeliveryOutcome, 'execution'>>;
type RunOnce = (idempotencyKey: string, run: () => Promise<Omit<DeliveryOutcome, 'execution'>>) => Promise<DeliveryOutcome & { duplicate: boolean }>;

/**
 * Runs a delivery (one job, or one digest of several) at most once per idempotency key: a
 * repeat returns the stored outcome instead of sending again, and `duplicate` says which
 * happened. The run stays in this process; only the key and an execution id reach the
 * persistence store.
 */
const idempotentRunner = (persistenceStore: BasePersistenceLayer, context?: Context): RunOnce => {
  const config = deliveryIdempotencyConfig();
  if (context) config.registerLambdaContext(context);
  const runs = new Map<string, () => Promise<Omit<DeliveryOutcome, 'execution'>>>();
  const wrapped = makeIdempotent(
    async ({ execution }: { execution: string; idempotencyKey: string }): Promise<DeliveryOutcome> => {
      const run = runs.get(execution);
      if (run === undefined) throw new Error('no delivery registered for this execution');
      return { ...(await run()), execution };
    },
    { persistenceStore, config },
  );
  return async (idempotencyKey, run) => {
    const execution = randomUUID();
    runs.set(execution, run);
    try {
      const outcome = (await wrapped({ execution, idempotencyKey })) as DeliveryOutcome;
      return { ...outcome, duplicate: outcome.execution !== execution };
    } finally {
      runs.delete(execution);
    }
  };
};

/** One job at most once per its idempotency key (see idempotentRunner). */
const idempotentDelivery = (deliverJob: DeliverFn, persistenceStore: BasePersistenceLayer, context?: Context) => {
  const once = idempotentRunner(persistenceStore, context);
  return (job: DeliveryJob): Promise<DeliveryOutcome & { duplicate: boolean }> => once(job.idempotencyKey, () => deliverJob(job));
};

/**
 * An in-memory cache client with the SET NX/EX semantics CachePersistenceLayer needs. With
 * `maxEntries`, the least recently written key is forgotten beyond that many (a replay of
 * millions of findings stays in bounded memory; a repeat that far apart is delivered again).
 */
const memoryCacheClient = (maxEntries = Number.POSITIVE_INFINITY) => {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) entries.delete(key);
    return entries.get(key);
  };
  return {
    get: async (key: string) => live(key)?.value ?? null,
    set: async (key: string, value: unknown, options?: unknown) => {
      const { EX, NX } = (options ?? {}) as { EX?: number; NX?: boolean };
      if (NX && live(key)) return null;
      entries.delete(key); // re-insert: Map order is write order, oldest first
      entries.set(key, { value: String(value), expiresAt: EX ? Date.now() + EX * 1000 : Number.POSITIVE_INFINITY });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return 'OK';
    },
    del: async (keys: string | string[]) => {
      let removed = 0;
      for (const key of Array.isArray(keys) ? keys : [keys]) removed += entries.delete(key) ? 1 : 0;
      return removed;
    },
  };
};

const memoryIdempotencyStore = (options: { maxEntries?: number } = {}): BasePersistenceLayer =>
  new CachePersistenceLayer({ client: memoryCacheClient(options.maxEntries) as never });

export { idempotentDelivery, idempotentRunner, memoryIdempotencyStore, deliveryIdempotencyConfig, IDEMPOTENCY_EXPIRY_SECONDS };
export type { DeliveryOutcome };
