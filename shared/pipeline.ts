import type { EnrichedFinding } from '../schemas/enriched.ts';
import type { AccountDirectory } from './accounts.ts';
import type { RouterConfig } from './config/load.ts';
import { makeJob, type DeliveryJob } from './delivery/job.ts';
import { withRetries, type RetryPolicy } from './delivery/retry.ts';
import { enrichFinding } from './enrich.ts';
import { DeliveryError } from './errors.ts';
import { evaluateRoutes, type RoutingDecision } from './routing/evaluate.ts';
import type { RenderedPayload, Target } from './targets/types.ts';
import { validateEvent } from './validate.ts';

/**
 * THE data path: validate → enrich → route → deliver. The three Lambdas each run one
 * stage with AWS in between (bus, queue); `replay` runs all three in-process with
 * stand-ins for the bus and the queue. Nothing here knows which.
 */

// ── Stage 1 (enrich Lambda): validate and enrich ─────────────────────────────
type IngestResult =
  | { kind: 'enriched'; enriched: EnrichedFinding }
  | { kind: 'ignored'; reason: string }
  | { kind: 'rejected'; path: string; reason: string; findingId?: string; type?: string };

const ingest = async (event: unknown, accounts: AccountDirectory): Promise<IngestResult> => {
  const validated = validateEvent(event);
  if (validated.kind !== 'finding') return validated;
  return { kind: 'enriched', enriched: await enrichFinding(validated.finding, accounts) };
};

// ── Stage 2 (route Lambda): decide the targets, one job per target ──────────
interface RouteResult {
  outcome: 'routed' | 'suppressed';
  decision: RoutingDecision;
  jobs: DeliveryJob[];
}

const route = (enriched: EnrichedFinding, config: RouterConfig): RouteResult => {
  const decision = evaluateRoutes(config.routes, config.defaultTargets, enriched);
  const jobs = decision.targets.map((target) => makeJob(target, enriched, decision.routes));
  return { outcome: jobs.length === 0 ? 'suppressed' : 'routed', decision, jobs };
};

// ── Stage 3 (deliver Lambda): render and send one job ───────────────────────
interface DeliverOptions {
  /** Absolute deadline (ms since epoch) for this job, retries included. */
  deadline: number;
  /** Render only; send nothing. */
  dryRun?: boolean;
  retryPolicy?: RetryPolicy;
  onRendered?: (job: DeliveryJob, payload: RenderedPayload) => void | Promise<void>;
}

interface DeliverResult {
  status: 'delivered' | 'rendered';
  attempts: number;
}

const deliver = async (job: DeliveryJob, targets: ReadonlyMap<string, Target>, options: DeliverOptions): Promise<DeliverResult> => {
  const target = targets.get(job.target);
  if (target === undefined) throw new DeliveryError(job.target, `no target named '${job.target}' in this configuration`, { retryable: false });
  const payload = target.render(job.enriched);
  await options.onRendered?.(job, payload);
  if (options.dryRun) return { status: 'rendered', attempts: 0 };
  const attempts = await withRetries(
    (attempt) => target.send(payload, { idempotencyKey: job.idempotencyKey, attempt, deadline: options.deadline }),
    { deadline: options.deadline, ...(options.retryPolicy ? { policy: options.retryPolicy } : {}) },
  );
  return { status: 'delivered', attempts };
};

export { ingest, route, deliver };
export type { IngestResult, RouteResult, DeliverOptions, DeliverResult };
