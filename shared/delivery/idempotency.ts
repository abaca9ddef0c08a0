import { randomUUID } from 'node:crypto';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { DeliveryJob } from './job.ts';
import { boundedMap } from '../bounded-map.ts';

/**
 * Exactly once per idempotency key: Powertools idempotency keyed on the job's
 * `idempotencyKey` (composed from target, finding id and updatedAt; see shared/keys.ts).
 * Records live 25 h, longer than EventBridge's 24 h of retries. A job without a key is an error, never a free pass.
 * Lambda persists in DynamoDB through Powertools; replay keeps the same records in memory (memoryRunOnce).
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
 * Replay's runner: Powertools' semantics without its persistence machinery (which the Lambda
 * path needs for DynamoDB). The first run of a key stores its outcome for 25 h and a repeat
 * returns it with `duplicate: true`; a run that throws leaves no record (the next try runs
 * again); a key whose run is still under way throws IdempotencyAlreadyInProgressError, as
 * Powertools does. The `maxEntries` most recent keys are remembered (see boundedMap). Measured
 * (issue 17): Powertools' lookups were ~30% of a 50k-finding replay's CPU.
 */
const memoryRunOnce = (options: { maxEntries?: number } = {}): RunOnce => {
  const IN_PROGRESS = Symbol('in progress');
  const records = boundedMap<string, { outcome: DeliveryOutcome | typeof IN_PROGRESS; expiresAt: number }>(options.maxEntries);
  // Executions only need to differ within this process: a counter, not a UUID (randomUUID's
  // string is a rope of ~17 pieces: ~0.6 KB in each of the 20,000 records kept, issue 17).
  let executions = 0;
  return async (idempotencyKey, run) => {
    const record = records.get(idempotencyKey);
    if (record !== undefined && record.expiresAt > Date.now()) {
      if (record.outcome === IN_PROGRESS) {
        throw new IdempotencyAlreadyInProgressError(`There is already an execution in progress with idempotency key: ${idempotencyKey}`);
      }
      return { ...record.outcome, duplicate: true };
    }
    const execution = String(++executions);
    records.set(idempotencyKey, { outcome: IN_PROGRESS, expiresAt: Number.POSITIVE_INFINITY });
    try {
      const outcome: DeliveryOutcome = { ...(await run()), execution };
      records.set(idempotencyKey, { outcome, expiresAt: Date.now() + IDEMPOTENCY_EXPIRY_SECONDS * 1000 });
      return { ...outcome, duplicate: false };
    } catch (error) {
      records.delete(idempotencyKey);
      throw error;
    }
  };
};

export { idempotentDelivery, idempotentRunner, memoryRunOnce };
