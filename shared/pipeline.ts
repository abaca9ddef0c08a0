import type { EnrichedFinding } from '../schemas/enriched.ts';
import type { AccountDirectory } from './accounts/directory.ts';
import type { CompiledSuppression, RouterConfig } from './config/compile.ts';
import { buildDigest, digestGroupKey, digestIdempotencyKey, digestRef } from './delivery/digest.ts';
import { makeJob, parseJob, type DeliveryJob } from './delivery/job.ts';
import { RetryLaterError, withRetries, type RetryPolicy } from './delivery/retry.ts';
import type { DeadLetter, JobSink } from './delivery/sink.ts';
import { enrichFinding } from './enrich.ts';
import { DeliveryError } from './errors.ts';
import { redactText } from './redact.ts';
import { evaluateRoutes, type RoutingDecision } from './routing/evaluate.ts';
import { shouldNotify } from './routing/policy.ts';
import { findingStateKey, snapshotOf, type FindingStateStore, type Relation } from './state/finding-state.ts';
import type { RenderedPayload, Target } from './targets/types.ts';
import { validateEvent } from './validate.ts';

/**
 * THE data path: validate → enrich → route → deliver. The three Lambdas each run one
 * stage with AWS in between (bus, queue); `replay` runs all three in-process with
 * stand-ins for the bus and the queue. Nothing here knows which: the queue decisions
 * (deliver now, hold for a digest, dead-letter with a reason) are made here, once, and
 * carried out by a JobSink (SQS in Lambda, memory in replay).
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
  /** Runtime suppressions ("Suppress similar", shared/suppressions/), tried after the YAML ones; expired ones never apply. */
  runtimeSuppressions?: readonly CompiledSuppression[];
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
  const applies = (s: CompiledSuppression) => (s.untilMs === undefined || now <= s.untilMs) && s.conditions.every((c) => c.test(enriched));
  // The reviewed YAML entry is named when both match: it is the one a reader of routes.yml can find.
  const suppression = config.suppressions.find(applies) ?? deps.runtimeSuppressions?.find(applies);
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
    if (settings?.updates === 'notify-policy') {
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
    // Flood control: targets that take digests, of a grouping route, get one digest per window; Critical goes at once.
    const grouping = settings?.digest === true && !suppression ? decision.via.get(target)?.find((r) => r.group) : undefined;
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

/**
 * Stage 2's queue decisions for one routed finding: a job refused by the jurisdiction guard
 * is dead-lettered (never sent, kept where an operator sees it); a job of a grouping route
 * is held for its digest where the sink can hold; every other job goes now.
 */
const dispatch = async (enriched: EnrichedFinding, result: RouteResult, sink: JobSink, now: () => Date = () => new Date()): Promise<void> => {
  const { finding } = enriched;
  for (const refusal of result.refused) {
    await sink.deadLetter({
      stage: 'route',
      reason: `jurisdiction: ${refusal.reason}`,
      target: refusal.target,
      findingId: finding.id,
      payload: { finding: { id: finding.id, accountId: finding.accountId, region: finding.region, type: finding.type } },
      deadLetteredAt: now().toISOString(),
    });
  }
  const held = sink.hold === undefined ? [] : result.jobs.filter((job) => job.digest !== undefined);
  const deliverNow = result.jobs.filter((job) => !held.includes(job)).map(withoutDigest);
  if (deliverNow.length > 0) await sink.deliverNow(deliverNow);
  if (held.length > 0) await sink.hold?.(held);
};

/** A job sent now is not part of a digest, whatever its route asked. */
const withoutDigest = (job: DeliveryJob): DeliveryJob => {
  const { digest: _digest, ...rest } = job;
  return rest;
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

const targetNamed = (name: string, targets: ReadonlyMap<string, Target>): Target => {
  const target = targets.get(name);
  if (target === undefined) throw new DeliveryError(name, `no target named '${name}' in this configuration`, { retryable: false });
  return target;
};

/**
 * The one send-with-retries: hands the rendered payload to the caller, then sends it inside the
 * deadline; `send` gives the target the whole job (payload, finding or digest, key, attempt, deadline).
 */
const sendRendered = async (job: DeliveryJob, payload: RenderedPayload, send: (attempt: number) => Promise<void>, options: DeliverOptions): Promise<DeliverResult> => {
  await options.onRendered?.(job, payload);
  if (options.dryRun) return { status: 'rendered', attempts: 0 };
  const attempts = await withRetries(send, { deadline: options.deadline, ...(options.retryPolicy ? { policy: options.retryPolicy } : {}) });
  return { status: 'delivered', attempts };
};

const deliver = async (job: DeliveryJob, targets: ReadonlyMap<string, Target>, options: DeliverOptions): Promise<DeliverResult> => {
  const target = targetNamed(job.target, targets);
  const payload = target.render(job.enriched);
  const { idempotencyKey, enriched: finding } = job;
  return sendRendered(job, payload, (attempt) => target.send({ payload, finding, idempotencyKey, attempt, deadline: options.deadline }), options);
};

/**
 * Sends a group of held chat jobs as one digest when the target can render one, else one by
 * one. The digest has its own idempotency key (target + every member's key).
 */
const deliverDigest = async (jobs: readonly DeliveryJob[], targets: ReadonlyMap<string, Target>, options: DeliverOptions): Promise<DeliverResult> => {
  const first = jobs[0];
  if (first === undefined) return { status: 'rendered', attempts: 0 };
  const target = targetNamed(first.target, targets);
  if (target.renderDigest === undefined || first.digest === undefined || jobs.length === 1) {
    let attempts = 0;
    let status: DeliverResult['status'] = 'rendered';
    for (const job of jobs) ({ attempts, status } = await deliver(job, targets, options));
    return { status, attempts };
  }
  const digest = buildDigest(first.digest, jobs.map((job) => job.enriched));
  const payload = target.renderDigest(digest);
  const idempotencyKey = digestIdempotencyKey(first.target, jobs.map((job) => job.idempotencyKey));
  return sendRendered({ ...first, idempotencyKey }, payload, (attempt) => target.send({ payload, digest, idempotencyKey, attempt, deadline: options.deadline }), options);
};

// ── Stage 3 over a queue batch: one path for single and digest jobs ─────────
interface QueuedMessage {
  id: string;
  body: string;
  /** How often the queue has handed this message out (1 on the first receive). */
  receiveCount: number;
  /** The job itself, when it never left the process (replay): not parsed from `body` again. */
  job?: DeliveryJob;
}

/** What became of queued messages; a digest group's members share one outcome. */
type QueuedOutcome =
  | { kind: 'delivered'; messages: QueuedMessage[]; jobs: DeliveryJob[]; digest: boolean; attempts: number; duplicate: boolean }
  | { kind: 'retry'; messages: QueuedMessage[]; jobs: DeliveryJob[]; delayMs: number; reason: string }
  | { kind: 'dead-lettered'; messages: QueuedMessage[]; jobs: DeliveryJob[]; reason: string };

interface DeliverQueuedDeps {
  targets: ReadonlyMap<string, Target>;
  sink: Pick<JobSink, 'deadLetter'>;
  /** Receives after which a retryable failure is dead-lettered instead of retried. */
  maxReceives: number;
  /** The absolute deadline of a delivery that starts now. */
  deadline: () => number;
  /** Runs a delivery at most once per idempotency key (absent: always runs). */
  once?: (idempotencyKey: string, run: () => Promise<DeliverResult>) => Promise<DeliverResult & { duplicate: boolean }>;
  /** Per delivery, from its first job: render only, the rendered payload's observer, the retry policy (replay). */
  deliverOptions?: (job: DeliveryJob) => Omit<DeliverOptions, 'deadline'>;
  now?: () => Date;
}

interface DeliveryGroup {
  members: { message: QueuedMessage; job: DeliveryJob }[];
  /** The distinct jobs to send (a message handed out twice in one batch is one job). */
  jobs: DeliveryJob[];
  digest: boolean;
}

/**
 * Stage 3 for a batch of queued messages. Every message is checked the same way: one that is
 * not a valid job is dead-lettered with the reason. Valid jobs held for the same digest group
 * (and a target that renders digests) go out as one digest; any other job alone. A failure
 * is retried while it is retryable and the receive budget lasts, else dead-lettered with its
 * classified reason. Never both, never neither.
 */
const deliverQueued = async (messages: readonly QueuedMessage[], deps: DeliverQueuedDeps): Promise<QueuedOutcome[]> => {
  const now = deps.now ?? (() => new Date());
  /** Dead-letters each message; one whose letter cannot be sent is retried instead (never dropped). */
  const deadLetter = async (reason: string, members: readonly { message: QueuedMessage; job?: DeliveryJob | undefined }[]): Promise<QueuedOutcome[]> => {
    const kept: typeof members[number][] = [];
    const outcomes: QueuedOutcome[] = [];
    for (const { message, job } of members) {
      const letter: DeadLetter = {
        stage: 'deliver',
        reason,
        ...(job ? { target: job.target, findingId: job.enriched.finding.id, idempotencyKey: job.idempotencyKey } : {}),
        payload: job ?? message.body,
        deadLetteredAt: now().toISOString(),
      };
      try {
        await deps.sink.deadLetter(letter);
        kept.push({ message, job });
      } catch (error) {
        const why = `dead letter not sent (${redactText((error as Error).message)}): ${reason}`;
        outcomes.push({ kind: 'retry', messages: [message], jobs: job ? [job] : [], delayMs: 0, reason: why });
      }
    }
    const jobs = kept.flatMap(({ job }) => (job ? [job] : []));
    if (kept.length > 0) outcomes.unshift({ kind: 'dead-lettered', messages: kept.map(({ message }) => message), jobs, reason });
    return outcomes;
  };

  const outcomes: QueuedOutcome[] = [];
  const groups = new Map<string, DeliveryGroup>();
  for (const message of messages) {
    const parsed = message.job ? { ok: true as const, job: message.job } : parseJob(message.body);
    if (!parsed.ok) {
      outcomes.push(...(await deadLetter(parsed.reason, [{ message }])));
      continue;
    }
    const { job } = parsed;
    const digest = job.digest !== undefined && deps.targets.get(job.target)?.renderDigest !== undefined;
    const id = digest && job.digest ? digestGroupKey({ target: job.target, digest: job.digest }) : `message ${message.id}`;
    const group = groups.get(id) ?? { members: [], jobs: [], digest };
    group.members.push({ message, job });
    if (!group.jobs.some((member) => member.idempotencyKey === job.idempotencyKey)) group.jobs.push(job);
    groups.set(id, group);
  }

  const settle = async (group: DeliveryGroup): Promise<QueuedOutcome[]> => {
    const [first] = group.jobs;
    if (first === undefined) return [];
    // The key the send carries: a digest's own key, or the job's when it goes alone (see deliverDigest).
    const key = group.digest && group.jobs.length > 1 ? digestIdempotencyKey(first.target, group.jobs.map((job) => job.idempotencyKey)) : first.idempotencyKey;
    const run = () => deliverDigest(group.jobs, deps.targets, { ...deps.deliverOptions?.(first), deadline: deps.deadline() });
    try {
      const result = deps.once ? await deps.once(key, run) : { ...(await run()), duplicate: false };
      const delivered = group.members.map((member) => member.message);
      return [{ kind: 'delivered', messages: delivered, jobs: group.jobs, digest: group.digest, attempts: result.attempts, duplicate: result.duplicate }];
    } catch (error) {
      const reason = redactText(`${(error as Error).name}: ${(error as Error).message}`);
      const retryable = !(error instanceof DeliveryError) || error.retryable;
      const spent = group.members.filter(({ message }) => !retryable || message.receiveCount >= deps.maxReceives);
      const again = group.members.filter((member) => !spent.includes(member));
      const delayMs = error instanceof RetryLaterError ? error.delayMs : 0;
      return [
        ...(spent.length > 0 ? await deadLetter(reason, spent) : []),
        ...(again.length > 0 ? [{ kind: 'retry' as const, messages: again.map((m) => m.message), jobs: again.map((m) => m.job), delayMs, reason }] : []),
      ];
    }
  };
  for (const settled of await Promise.all([...groups.values()].map(settle))) outcomes.push(...settled);
  return outcomes;
};

export { ingest, route, dispatch, deliverDigest, deliverQueued };
export type { RouteResult, RouteDeps, DeliverOptions, DeliverResult, QueuedMessage, QueuedOutcome };
