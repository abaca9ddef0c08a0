import type { EnrichedFinding } from '../schemas/enriched.ts';
import type { AccountDirectory } from './accounts.ts';
import type { CompiledSuppression, RouterConfig } from './config/load.ts';
import { buildDigest, digestIdempotencyKey, digestRef } from './delivery/digest.ts';
import { makeJob, type DeliveryJob } from './delivery/job.ts';
import { withRetries, type RetryPolicy } from './delivery/retry.ts';
import { enrichFinding } from './enrich.ts';
import { DeliveryError } from './errors.ts';
import { evaluateRoutes, type RoutingDecision } from './routing/evaluate.ts';
import { shouldNotify } from './routing/policy.ts';
import { findingStateKey, snapshotOf, type FindingStateStore, type Relation } from './state/finding-state.ts';
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
interface SkippedTarget {
  target: string;
  reason: string;
}

interface RouteResult {
  outcome: 'routed' | 'suppressed';
  decision: RoutingDecision;
  relation: Relation;
  /** The suppression that applied, if any (its audit targets still get the finding). */
  suppression?: CompiledSuppression;
  jobs: DeliveryJob[];
  /** Chosen targets not notified: update policy or a stale update. */
  quieted: SkippedTarget[];
  /** Chosen targets refused by the jurisdiction guard: never sent, dead-lettered. */
  refused: SkippedTarget[];
}

interface RouteDeps {
  config: RouterConfig;
  state: FindingStateStore;
  now?: () => number;
}

const route = async (incoming: EnrichedFinding, deps: RouteDeps): Promise<RouteResult> => {
  const now = deps.now?.() ?? Date.now();
  const { config } = deps;
  const key = findingStateKey(incoming.finding);
  const snapshot = snapshotOf(incoming.finding);
  const transition = await deps.state.advance(key, snapshot);
  const enriched: EnrichedFinding = {
    finding: incoming.finding,
    enrichment: {
      ...incoming.enrichment,
      occurrence: transition.relation === 'first' || (transition.relation === 'same' && !transition.previous) ? 'first' : 'update',
      ...(transition.relation === 'stale' ? { stale: true } : {}),
    },
  };

  const decision = evaluateRoutes(config.routes, config.defaultTargets, enriched);
  const suppression = config.suppressions.find(
    (s) => (s.untilMs === undefined || now <= s.untilMs) && s.conditions.every((c) => c.test(enriched)),
  );
  const chosen = suppression
    ? [...config.targets.values()].filter((t) => t.common.audit === true).map((t) => t.name)
    : decision.targets;

  const quieted: SkippedTarget[] = [];
  const refused: SkippedTarget[] = [];
  const jobs: DeliveryJob[] = [];
  let notified = false;
  for (const target of chosen) {
    const settings = config.targets.get(target);
    const jurisdiction = settings?.common.jurisdiction;
    if (jurisdiction !== undefined && !(config.jurisdictions.get(jurisdiction) ?? []).some((re) => re.test(enriched.finding.region))) {
      refused.push({ target, reason: `region ${enriched.finding.region} is outside jurisdiction '${jurisdiction}' of target '${target}'` });
      continue;
    }
    if (settings?.kind === 'chat' || settings?.kind === 'ticket') {
      const routes = decision.via.get(target) ?? [];
      const verdicts = (routes.length > 0 ? routes : [undefined]).map((r) => shouldNotify(r?.notify, transition, snapshot, now));
      const yes = verdicts.find((v) => v.notify);
      if (!yes) {
        quieted.push({ target, reason: verdicts[0]!.why });
        continue;
      }
      notified = true;
    }
    const job = makeJob(target, enriched, suppression ? [suppression.name] : decision.routes);
    // Flood control: chat targets of a grouping route get one digest per window; Critical goes at once.
    const grouping = settings?.kind === 'chat' && !suppression ? decision.via.get(target)?.find((r) => r.group) : undefined;
    if (grouping?.group && enriched.enrichment.severityLabel !== 'critical') job.digest = digestRef(grouping.name, grouping.group, enriched);
    jobs.push(job);
  }
  if (notified) await deps.state.markNotified(key, now);

  return {
    outcome: suppression || jobs.length === 0 ? 'suppressed' : 'routed',
    decision,
    relation: transition.relation,
    ...(suppression ? { suppression } : {}),
    jobs,
    quieted,
    refused,
  };
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

/**
 * Sends a group of held chat jobs as one digest when the target can render one, else one by
 * one. The digest has its own idempotency key (target + every member's key).
 */
const deliverDigest = async (jobs: readonly DeliveryJob[], targets: ReadonlyMap<string, Target>, options: DeliverOptions): Promise<DeliverResult> => {
  const first = jobs[0];
  if (first === undefined) return { status: 'rendered', attempts: 0 };
  const target = targets.get(first.target);
  if (target === undefined) throw new DeliveryError(first.target, `no target named '${first.target}' in this configuration`, { retryable: false });
  if (target.renderDigest === undefined || first.digest === undefined || jobs.length === 1) {
    let attempts = 0;
    let status: DeliverResult['status'] = 'rendered';
    for (const job of jobs) ({ attempts, status } = await deliver(job, targets, options));
    return { status, attempts };
  }
  const payload = target.renderDigest(buildDigest(first.digest, jobs.map((job) => job.enriched)));
  const idempotencyKey = digestIdempotencyKey(first.target, jobs.map((job) => job.idempotencyKey));
  await options.onRendered?.({ ...first, idempotencyKey }, payload);
  if (options.dryRun) return { status: 'rendered', attempts: 0 };
  const attempts = await withRetries(
    (attempt) => target.send(payload, { idempotencyKey, attempt, deadline: options.deadline }),
    { deadline: options.deadline, ...(options.retryPolicy ? { policy: options.retryPolicy } : {}) },
  );
  return { status: 'delivered', attempts };
};

export { ingest, route, deliver, deliverDigest };
export type { IngestResult, RouteResult, RouteDeps, DeliverOptions, DeliverResult, SkippedTarget };
