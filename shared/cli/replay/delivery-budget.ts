import type { DeliveryJob } from '../../delivery/job.ts';
import { requeueDelayMs } from '../../delivery/retry.ts';
import type { DeadLetter } from '../../delivery/sink.ts';
import { deliverQueued, type DeliverOptions, type DeliverResult, type QueuedOutcome } from '../../pipeline.ts';
import type { Target } from '../../targets/types.ts';

/**
 * A replay delivery spends the budget a queued job has in Lambda, through the same code
 * (shared/pipeline.ts `deliverQueued`): each receive retries inside its own deadline; a job
 * handed back waits what the deliver Lambda would set as its visibility timeout
 * (`requeueDelayMs`), then is received again; a permanent failure, or a retryable one on the
 * last receive, is dead-lettered with its reason. Never both, never neither.
 */
interface ReceiveBudget {
  /** Receives after which a retryable failure is dead-lettered (the Lambda's MAX_RECEIVES). */
  maxReceives: number;
  /** The deadline of one receive, retries inside it included. */
  receiveTimeoutMs: number;
}

/** The deliver Lambda's: five receives (serverless.yml deliveryMaxReceiveCount). */
const LAMBDA_MAX_RECEIVES = 5;

interface BudgetDeps {
  targets: ReadonlyMap<string, Target>;
  budget: ReceiveBudget;
  deadLetter: (letter: DeadLetter) => Promise<void>;
  once?: (idempotencyKey: string, run: () => Promise<DeliverResult>) => Promise<DeliverResult & { duplicate: boolean }>;
  deliverOptions?: (job: DeliveryJob) => Omit<DeliverOptions, 'deadline'>;
  sleep?: (ms: number) => Promise<void>;
}

/** The end of one delivery (a job, or a digest group of jobs): delivered, or dead-lettered with the reason. */
type BudgetOutcome =
  | { kind: 'delivered'; duplicate: boolean; attempts: number; receives: number }
  | { kind: 'dead-lettered'; reason: string; receives: number };

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delivers `jobs` (one job, or the members of one digest group) within the receive budget.
 * The jobs were built in this process from validated findings: they go as they are, not as
 * JSON to be parsed again (a queue's message would be).
 */
const deliverWithBudget = async (jobs: readonly DeliveryJob[], deps: BudgetDeps): Promise<BudgetOutcome> => {
  const sleep = deps.sleep ?? realSleep;
  let pending = jobs.map((job, index) => ({ id: String(index), body: '', job }));
  let attempts = 0;
  let duplicate = false;
  let deadLettered: string | undefined;
  for (let receive = 1; ; receive++) {
    const outcomes: QueuedOutcome[] = await deliverQueued(
      pending.map((message) => ({ ...message, receiveCount: receive })),
      {
        targets: deps.targets,
        sink: { deadLetter: deps.deadLetter },
        maxReceives: deps.budget.maxReceives,
        deadline: () => Date.now() + deps.budget.receiveTimeoutMs,
        ...(deps.once ? { once: deps.once } : {}),
        ...(deps.deliverOptions ? { deliverOptions: deps.deliverOptions } : {}),
      },
    );
    const again = new Set<string>();
    let delayMs = 0;
    for (const outcome of outcomes) {
      if (outcome.kind === 'delivered') {
        attempts += outcome.attempts;
        duplicate ||= outcome.duplicate;
      } else if (outcome.kind === 'dead-lettered') {
        deadLettered ??= outcome.reason;
      } else {
        for (const message of outcome.messages) again.add(message.id);
        delayMs = Math.max(delayMs, outcome.delayMs);
      }
    }
    if (again.size === 0) {
      return deadLettered === undefined ? { kind: 'delivered', duplicate, attempts, receives: receive } : { kind: 'dead-lettered', reason: deadLettered, receives: receive };
    }
    pending = pending.filter((message) => again.has(message.id));
    await sleep(requeueDelayMs(receive, delayMs));
  }
};

export { deliverWithBudget, LAMBDA_MAX_RECEIVES };
export type { ReceiveBudget, BudgetOutcome };
