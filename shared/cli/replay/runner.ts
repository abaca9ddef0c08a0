import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountDirectory } from '../../accounts/directory.ts';
import type { RouterConfig } from '../../config/compile.ts';
import { makeJob, type DeliveryJob } from '../../delivery/job.ts';
import { digestGroupKey } from '../../delivery/digest.ts';
import { memoryRunOnce } from '../../delivery/idempotency.ts';
import { memoryJobSink } from '../delivery/memory-sink.ts';
import type { DeadLetter } from '../../delivery/sink.ts';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { dispatch, ingest, route, type DeliverOptions, type DeliverResult, type RouteResult } from '../../pipeline.ts';
import { memoryFindingState, toEpochMs, type FindingStateStore } from '../../state/finding-state.ts';
import { targetDefinition } from '../../targets/registry.ts';
import type { RenderedPayload, Target } from '../../targets/types.ts';
import { redactText } from '../../redact.ts';
import { deliveryStatuses, type DeliveryStatus } from '../delivery-status.ts';
import type { InputItem } from '../inputs.ts';
import { deliverWithBudget, LAMBDA_MAX_RECEIVES, type BudgetOutcome, type ReceiveBudget } from './delivery-budget.ts';
import { orderLanes, type OrderLanes } from './order-lanes.ts';
import { resentJobOf, type ResentJob } from './resent-job.ts';

/**
 * Runs the pipeline in-process over replay inputs, one record per input event. The bus
 * and the queue are in-memory stand-ins: enriched events go straight to `route`, and the
 * pipeline's `dispatch` hands jobs to an in-memory job sink. Every delivery (a job, or a
 * digest) spends the deliver Lambda's receive budget through the same code
 * (replay/delivery-budget.ts) and ends delivered or dead-lettered with its reason.
 *
 * Findings are taken in input order (validate, enrich, route: the finding state sees them
 * in that order); their deliveries overlap, up to `concurrency` findings at a time (see
 * replayStream). A target that keeps one record per finding (its definition `upserts`) gets
 * a finding's updates one at a time, in input order; any other delivery may overtake.
 */
type Outcome = 'routed' | 'suppressed' | 'rejected' | 'ignored' | 'failed';

interface ReplayRecord {
  source: string;
  findingId: string | null;
  type: string | null;
  severity: number | null;
  outcome: Outcome;
  routes: string[];
  targets: string[];
  reason: string | null;
  /** What became of each target's delivery (absent for rejected and ignored events). */
  deliveries?: Record<string, DeliveryStatus>;
}

/** `live`: local targets deliver, network targets only render; `send`: all deliver; `dry-run`: all render. */
type DeliveryMode = 'live' | 'send' | 'dry-run';

type RunOnce = (idempotencyKey: string, run: () => Promise<DeliverResult>) => Promise<DeliverResult & { duplicate: boolean }>;

interface ReplayOptions {
  config: RouterConfig;
  /** Finding high-water marks; in replay they live for the run. */
  state: FindingStateStore;
  /** Runtime suppressions (replay --suppressions / --suppressions-table), applied after the YAML ones. */
  runtimeSuppressions?: import('../../pipeline.ts').RouteDeps['runtimeSuppressions'];
  /** Runs a delivery at most once per idempotency key (see replaySession). */
  once: RunOnce;
  /** Keeps per-finding order for targets that need it (see replaySession). */
  lanes: OrderLanes;
  /** Receives every dead letter of a delivery (`--dead-letters`); absent: they are only reported. */
  deadLetters?: (letter: DeadLetter) => void;
  /** Holds chat jobs of grouping routes until their digest is due (absent: no grouping). */
  digests?: DigestBuffer;
  accounts: AccountDirectory;
  targets: ReadonlyMap<string, Target>;
  mode: DeliveryMode;
  payloadsDir?: string;
  /** The receive budget (default: the deliver Lambda's five receives of `jobTimeoutMs` each). */
  budget?: ReceiveBudget;
  jobTimeoutMs?: number;
  /** For `--report` only: receives each record with its decision and rendered payloads. Never changes the record. */
  collect?: (detail: ReplayDetail) => void;
}

/** What `collect` receives per input event, beside the (unchanged) record. */
interface ReplayDetail {
  record: ReplayRecord;
  /** The validated, enriched finding; absent for rejected and ignored events. */
  enriched?: EnrichedFinding;
  /** The route stage's result (decision trace, suppression, quieted and refused targets). */
  routed?: RouteResult;
  /** Each job's rendered payload, one per target. */
  payloads: { target: string; payload: RenderedPayload }[];
}

/** Builds a record with its keys in the documented order. */
const record = (r: ReplayRecord): ReplayRecord => ({
  source: r.source,
  findingId: r.findingId,
  type: r.type,
  severity: r.severity,
  outcome: r.outcome,
  routes: r.routes,
  targets: r.targets,
  reason: r.reason,
  ...(r.deliveries === undefined ? {} : { deliveries: r.deliveries }),
});

/** A finding whose routing is done and whose deliveries are under way. */
interface Started {
  done: Promise<ReplayRecord>;
}

/** One input event, start to end. */
const replayOne = async (item: InputItem, options: ReplayOptions): Promise<ReplayRecord> => (await startOne(item, options)).done;

/**
 * Validates, enriches and routes one event and starts its deliveries; `done` settles with its
 * record once every delivery ended. The next event may start as soon as this returns.
 */
const startOne = async (item: InputItem, options: ReplayOptions): Promise<Started> => {
  const detail: Omit<ReplayDetail, 'record'> | undefined = options.collect ? { payloads: [] } : undefined;
  const { result: started } = await startUnordered(item, options, detail);
  return {
    done: started.then((result) => {
      const finished = record(result);
      if (detail) options.collect?.({ ...detail, record: finished });
      return finished;
    }),
  };
};

/** Resolves once routed, with the record's promise (boxed: awaiting the start must not await the deliveries). */
const startUnordered = async (item: InputItem, options: ReplayOptions, detail?: Omit<ReplayDetail, 'record'>): Promise<{ result: Promise<ReplayRecord> }> => {
  const now = (result: ReplayRecord) => ({ result: Promise.resolve(result) });
  const base = { source: item.source, findingId: null, type: null, severity: null, routes: [], targets: [] };
  if (item.error !== undefined) return now({ ...base, outcome: 'rejected', reason: `$: ${item.error}` });

  const ingested = await ingest(item.value, options.accounts);
  if (ingested.kind === 'ignored') return now({ ...base, outcome: 'ignored', reason: ingested.reason });
  if (ingested.kind === 'rejected') {
    return now({ ...base, findingId: ingested.findingId ?? null, type: ingested.type ?? null, outcome: 'rejected', reason: ingested.reason });
  }

  const { finding } = ingested.enriched;
  const identity = { source: item.source, findingId: finding.id, type: finding.type, severity: finding.severity };
  const resent = resentJobOf(item.value);
  const routed = resent ? resentRoute(ingested.enriched, resent) : await route(ingested.enriched, { config: options.config, state: options.state, ...(options.runtimeSuppressions ? { runtimeSuppressions: options.runtimeSuppressions } : {}) });
  if (detail) Object.assign(detail, { enriched: ingested.enriched, routed });
  const onRendered = renderedHandler(options, detail);
  const digests = options.digests;
  const sink = memoryJobSink({
    run: (job) => options.lanes.run(laneKey(job, options.config), () => deliverJobs([job], options, onRendered)).then(settledOrThrow),
    hold: digests && ((job) => digests.hold(job, (jobs) => deliverJobs(jobs, options, onRendered).then(settledOrThrow))),
  });
  await dispatch(ingested.enriched, routed, sink);
  return { result: recordWhenSettled(identity, routed, sink, detail, options, resent) };
};

/** The record of a routed finding, once its jobs sent now have ended (held ones are named). */
const recordWhenSettled = async (
  identity: Pick<ReplayRecord, 'source' | 'findingId' | 'type' | 'severity'>,
  routed: RouteResult,
  sink: ReturnType<typeof memoryJobSink>,
  detail: Omit<ReplayDetail, 'record'> | undefined,
  options: ReplayOptions,
  resent: ResentJob | undefined,
): Promise<ReplayRecord> => {
  const failures: string[] = routed.refused.map((r) => `${r.target}: refused (jurisdiction): ${r.reason}`);
  const duplicates: string[] = [];
  // Results are read back in job order, so the record does not depend on timing.
  const results = await Promise.all(routed.jobs.map((job) => sink.settled(job)));
  const held = routed.jobs.filter((_, index) => results[index] === undefined).map((job) => job.target);
  routed.jobs.forEach((job, index) => {
    const result = results[index];
    if (result === undefined) return;
    if ('error' in result) failures.push(`${job.target}: ${redactText((result.error as Error).message)}`);
    else if (result.duplicate) duplicates.push(job.target);
  });
  if (detail) {
    const order = new Map(routed.jobs.map((job, index) => [job.target, index]));
    detail.payloads.sort((x, y) => (order.get(x.target) ?? Infinity) - (order.get(y.target) ?? Infinity));
  }
  if (detail) renderMissing(routed, options.targets, detail);
  const targets = routed.jobs.map((job) => job.target);
  const deliveries = deliveryStatuses(routed.jobs, results, (target) => shouldSend({ target } as DeliveryJob, options), routed.refused);
  const notes = [
    ...(resent ? [`from a dead letter: sent to ${resent.target} only`] : []),
    ...(routed.quieted.length > 0 ? [`not notified: ${routed.quieted.map((q) => `${q.target} (${q.reason})`).join(', ')}`] : []),
    ...(duplicates.length > 0 ? [`already delivered (idempotency key seen): ${duplicates.join(', ')}`] : []),
    ...(held.length > 0 ? [`grouped into a digest: ${held.join(', ')}`] : []),
  ];
  if (failures.length > 0) {
    return { ...identity, deliveries, outcome: 'failed', routes: routed.decision.routes, targets, reason: [...failures, ...notes].join('; ') };
  }
  if (routed.suppression) {
    const s = routed.suppression;
    return { ...identity, deliveries, outcome: 'suppressed', routes: [s.name], targets, reason: `suppressed by ${s.name}: ${s.reason}${s.owner ? ` (owner ${s.owner})` : ''}` };
  }
  if (routed.outcome === 'suppressed') {
    const why = routed.decision.targets.length === 0 ? `suppressed by route ${routed.decision.routes.join(', ')}` : notes.join('; ');
    return { ...identity, deliveries, outcome: 'suppressed', routes: routed.decision.routes, targets, reason: why };
  }
  return { ...identity, deliveries, outcome: 'routed', routes: routed.decision.routes, targets, reason: notes.length > 0 ? notes.join('; ') : null };
};

/**
 * A dead-lettered job read back (`dlq export`, `--dead-letters`): no routing, the one job
 * again, to its target only, under its routes, from the finding as this version enriches it.
 */
const resentRoute = (enriched: EnrichedFinding, resent: ResentJob): RouteResult => {
  const occurrence = resent.occurrence ?? enriched.enrichment.occurrence;
  const job = makeJob(resent.target, { finding: enriched.finding, enrichment: { ...enriched.enrichment, occurrence } }, resent.routes);
  return {
    outcome: 'routed',
    decision: { routes: resent.routes, targets: [resent.target], via: new Map(), usedDefault: false, trace: [] },
    relation: 'same',
    jobs: [job],
    quieted: [],
    refused: [],
  };
};

/** A dead-lettered delivery as the record shows it: the classified reason, and the receives it took. */
class DeadLetteredError extends Error {
  constructor(outcome: Extract<BudgetOutcome, { kind: 'dead-lettered' }>) {
    super(outcome.receives > 1 ? `${outcome.reason} (dead-lettered after ${outcome.receives} receives)` : outcome.reason);
    this.name = 'DeadLetteredError';
  }
}

const settledOrThrow = (outcome: BudgetOutcome): { duplicate: boolean } => {
  if (outcome.kind === 'dead-lettered') throw new DeadLetteredError(outcome);
  return { duplicate: outcome.duplicate };
};

/** Sends (or renders) one job, or one digest group, within the receive budget. */
const deliverJobs = (jobs: readonly DeliveryJob[], options: ReplayOptions, onRendered: ReturnType<typeof renderedHandler>): Promise<BudgetOutcome> =>
  deliverWithBudget(jobs, {
    targets: options.targets,
    budget: options.budget ?? { maxReceives: LAMBDA_MAX_RECEIVES, receiveTimeoutMs: options.jobTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS },
    deadLetter: async (letter) => options.deadLetters?.(letter),
    once: options.once,
    deliverOptions: (job): Omit<DeliverOptions, 'deadline'> => ({ dryRun: !shouldSend(job, options), ...(onRendered === undefined ? {} : { onRendered }) }),
  });

/** One receive's deadline in replay, retries inside it included (a hang costs this much). */
const DEFAULT_RECEIVE_TIMEOUT_MS = 10_000;

/**
 * The lane a job waits in: per (target, finding) for a target that keeps one record per
 * finding, so its updates arrive in order; else per idempotency key, so that the same update
 * twice in the input is sent once, the second seeing the first's result.
 */
const laneKey = (job: DeliveryJob, config: RouterConfig): string => {
  const type = config.targets.get(job.target)?.type;
  const upserts = type !== undefined && targetDefinition(type)?.upserts === true;
  const { finding } = job.enriched;
  return upserts ? JSON.stringify(['finding', job.target, finding.accountId, finding.region, finding.id]) : JSON.stringify(['job', job.idempotencyKey]);
};

/**
 * Replays a stream of input events with the deliveries of up to `concurrency` findings under
 * way, and hands each record to `onRecord` in input order. A finding whose deliveries wait
 * (retries, a lane behind an earlier update) holds a slot, not the findings after it: their
 * records wait, finished, until it is done.
 */
const replayStream = async (
  items: AsyncIterable<InputItem>,
  options: ReplayOptions,
  concurrency: number,
  onRecord: (record: ReplayRecord) => void | Promise<void>,
): Promise<void> => {
  const order: { done: Promise<ReplayRecord>; record?: ReplayRecord }[] = [];
  let running = 0;
  let wake: (() => void) | undefined;
  const emitFinished = async () => {
    while (order[0]?.record !== undefined) await onRecord(order.shift()!.record!);
  };
  for await (const item of items) {
    while (running >= concurrency) {
      await new Promise<void>((resolve) => (wake = resolve));
      await emitFinished();
    }
    const { done } = await startOne(item, options);
    const slot: (typeof order)[number] = { done };
    order.push(slot);
    running++;
    // A rejection (a bug, not a failed delivery) surfaces below, in input order.
    void done.then(
      (record) => void (slot.record = record),
      () => undefined,
    ).finally(() => {
      running--;
      wake?.();
    });
    await emitFinished();
  }
  for (const slot of order) await onRecord(await slot.done);
};

/**
 * Flood control in replay: chat jobs of a grouping route wait in their group until a
 * finding arrives after the group's window (by finding time), the group holds
 * DIGEST_BATCH_MAX jobs, or the run ends.
 */
interface DigestBuffer {
  hold(job: DeliveryJob, send: (jobs: DeliveryJob[]) => Promise<unknown>): Promise<void>;
  flushAll(): Promise<{ digests: number; findings: number; failures: string[]; byTarget: Record<string, number> }>;
}

/**
 * The most members a digest has: the deliver Lambda reads the digest queue in batches of at
 * most this many messages (serverless.yml, the digest queue's batchSize), so no digest in AWS
 * is larger. A group that fills up is sent at once; it also bounds the memory a burst of one
 * group's findings holds (a replay of 200,000 findings within one window held every one).
 */
const DIGEST_BATCH_MAX = 100;

const digestBuffer = (): DigestBuffer => {
  const groups = new Map<string, { startMs: number; jobs: DeliveryJob[]; send: (jobs: DeliveryJob[]) => Promise<unknown> }>();
  const stats = { digests: 0, findings: 0, failures: [] as string[], byTarget: {} as Record<string, number> };
  // A digest due mid-run is sent while the run goes on (its retries may take minutes).
  const sending = new Set<Promise<void>>();
  const flush = async (id: string) => {
    const group = groups.get(id);
    if (!group) return;
    groups.delete(id);
    try {
      await group.send(group.jobs);
      stats.digests++;
      stats.findings += group.jobs.length;
      const target = group.jobs[0]!.target;
      stats.byTarget[target] = (stats.byTarget[target] ?? 0) + 1;
    } catch (error) {
      stats.failures.push(`${group.jobs[0]?.target}: digest of ${group.jobs.length}: ${redactText((error as Error).message)}`);
    }
  };
  const sendInBackground = (id: string) => {
    const sent = flush(id);
    sending.add(sent);
    void sent.then(() => sending.delete(sent));
  };
  return {
    hold: async (job, send) => {
      const id = digestGroupKey({ target: job.target, digest: job.digest! });
      const at = toEpochMs(job.enriched.finding.updatedAt);
      const group = groups.get(id);
      if (group && at - group.startMs > job.digest!.windowMs) sendInBackground(id);
      const current = groups.get(id) ?? { startMs: at, jobs: [], send };
      current.jobs.push(job);
      groups.set(id, current);
      if (current.jobs.length >= DIGEST_BATCH_MAX) sendInBackground(id);
    },
    flushAll: async () => {
      await Promise.all([...sending, ...[...groups.keys()].map(flush)]);
      return stats;
    },
  };
};

/**
 * Memory bounds of one replay run: idempotency records (one per job) and finding high-water
 * marks are kept for the most recent this-many keys, so a replay of millions of findings
 * streams in bounded memory. A duplicate (or an update of a finding) further apart than that
 * in the input is treated as new: delivered again, counted as a first occurrence.
 */
const REPLAY_MEMORY_KEYS = 20_000;

/** The in-process stand-ins that live for one replay run: finding state, idempotency records, order lanes, digests. */
const replaySession = (): Pick<ReplayOptions, 'state' | 'once' | 'lanes' | 'digests'> & { digests: DigestBuffer } => {
  // Powertools' semantics in memory, without its persistence machinery (shared/delivery/idempotency.ts).
  const once = memoryRunOnce({ maxEntries: REPLAY_MEMORY_KEYS });
  return {
    state: memoryFindingState({ maxFindings: REPLAY_MEMORY_KEYS }),
    digests: digestBuffer(),
    once,
    lanes: orderLanes(),
  };
};

const shouldSend = (job: DeliveryJob, options: ReplayOptions): boolean => {
  if (options.mode === 'dry-run') return false;
  if (options.mode === 'send') return true;
  return options.config.targets.get(job.target)?.local === true;
};

/** Writes `--payloads` files and/or hands each payload to the report collector. */
const renderedHandler = (options: ReplayOptions, detail?: Omit<ReplayDetail, 'record'>) => {
  if (options.payloadsDir === undefined && detail === undefined) return undefined;
  return async (job: DeliveryJob, payload: RenderedPayload): Promise<void> => {
    detail?.payloads.push({ target: job.target, payload });
    if (options.payloadsDir !== undefined) await writePayload(options.payloadsDir, job, payload.body, payload.extension);
  };
};

/** For the report: jobs that were not rendered (a duplicate, or failed before rendering) are rendered here; render is pure. */
const renderMissing = (routed: RouteResult, targets: ReadonlyMap<string, Target>, detail: Omit<ReplayDetail, 'record'>): void => {
  for (const job of routed.jobs) {
    if (detail.payloads.some((p) => p.target === job.target)) continue;
    try {
      const target = targets.get(job.target);
      if (target) detail.payloads.push({ target: job.target, payload: target.render(job.enriched) });
    } catch {
      // The failure is already in the record's reason.
    }
  }
};

const safeFileName = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || '_';

const writePayload = async (dir: string, job: DeliveryJob, body: string, extension: string): Promise<void> => {
  const folder = join(dir, safeFileName(job.target));
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, `${safeFileName(job.enriched.finding.id)}.${extension}`), body);
};

export { replayOne, replayStream, replaySession };
export type { ReplayRecord, ReplayDetail, DeliveryMode, Outcome };
