import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { AccountDirectory } from '../accounts.ts';
import type { RouterConfig } from '../config/load.ts';
import type { DeliveryJob } from '../delivery/job.ts';
import { digestGroupKey } from '../delivery/digest.ts';
import { idempotentRunner, memoryIdempotencyStore } from '../delivery/idempotency.ts';
import { memoryJobSink } from '../delivery/memory-sink.ts';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { deliver, deliverDigest, dispatch, ingest, route, type DeliverResult, type RouteResult } from '../pipeline.ts';
import { memoryFindingState, toEpochMs, type FindingStateStore } from '../state/finding-state.ts';
import type { RenderedPayload, Target } from '../targets/types.ts';
import { redactText } from '../redact.ts';
import type { InputItem } from './inputs.ts';

/**
 * Runs the pipeline in-process over replay inputs, one record per input event. The bus
 * and the queue are in-memory stand-ins: enriched events go straight to `route`, and the
 * pipeline's `dispatch` hands jobs to an in-memory job sink that delivers them at once or
 * holds them in the run's digest buffer.
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
}

/** `live`: local targets deliver, network targets only render; `send`: all deliver; `dry-run`: all render. */
type DeliveryMode = 'live' | 'send' | 'dry-run';

interface ReplayOptions {
  config: RouterConfig;
  /** Finding high-water marks; in replay they live for the run. */
  state: FindingStateStore;
  /** Delivers a job at most once per idempotency key (see replaySession). */
  deliverOnce: (job: DeliveryJob, run: () => Promise<DeliverResult>) => Promise<{ duplicate: boolean }>;
  /** Holds chat jobs of grouping routes until their digest is due (absent: no grouping). */
  digests?: DigestBuffer;
  accounts: AccountDirectory;
  targets: ReadonlyMap<string, Target>;
  mode: DeliveryMode;
  payloadsDir?: string;
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
});

const replayOne = async (item: InputItem, options: ReplayOptions): Promise<ReplayRecord> => {
  const detail: Omit<ReplayDetail, 'record'> | undefined = options.collect ? { payloads: [] } : undefined;
  const result = record(await replayUnordered(item, options, detail));
  if (detail) options.collect?.({ ...detail, record: result });
  return result;
};

const replayUnordered = async (item: InputItem, options: ReplayOptions, detail?: Omit<ReplayDetail, 'record'>): Promise<ReplayRecord> => {
  const base = { source: item.source, findingId: null, type: null, severity: null, routes: [], targets: [] };
  if (item.error !== undefined) return { ...base, outcome: 'rejected', reason: `$: ${item.error}` };

  const ingested = await ingest(item.value, options.accounts);
  if (ingested.kind === 'ignored') return { ...base, outcome: 'ignored', reason: ingested.reason };
  if (ingested.kind === 'rejected') {
    return { ...base, findingId: ingested.findingId ?? null, type: ingested.type ?? null, outcome: 'rejected', reason: ingested.reason };
  }

  const { finding } = ingested.enriched;
  const identity = { source: item.source, findingId: finding.id, type: finding.type, severity: finding.severity };
  const routed = await route(ingested.enriched, { config: options.config, state: options.state });
  if (detail) Object.assign(detail, { enriched: ingested.enriched, routed });
  const onRendered = renderedHandler(options, detail);
  const failures: string[] = routed.refused.map((r) => `${r.target}: refused (jurisdiction): ${r.reason}`);
  const duplicates: string[] = [];
  const digests = options.digests;
  // Jobs sent now (one per target, each with its own idempotency key) run concurrently, as the
  // deliver Lambda would receive them from the queue; held jobs wait in the digest buffer.
  const sink = memoryJobSink({
    run: (job) =>
      options.deliverOnce(job, () =>
        deliver(job, options.targets, {
          deadline: Date.now() + (options.jobTimeoutMs ?? 10_000),
          dryRun: !shouldSend(job, options),
          ...(onRendered === undefined ? {} : { onRendered }),
        }),
      ),
    hold: digests && ((job) => digests.hold(job, (jobs) => runDigest(jobs, options, onRendered))),
  });
  await dispatch(ingested.enriched, routed, sink);
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
  const notes = [
    ...(routed.quieted.length > 0 ? [`not notified: ${routed.quieted.map((q) => `${q.target} (${q.reason})`).join(', ')}`] : []),
    ...(duplicates.length > 0 ? [`already delivered (idempotency key seen): ${duplicates.join(', ')}`] : []),
    ...(held.length > 0 ? [`grouped into a digest: ${held.join(', ')}`] : []),
  ];
  if (failures.length > 0) {
    return { ...identity, outcome: 'failed', routes: routed.decision.routes, targets, reason: [...failures, ...notes].join('; ') };
  }
  if (routed.suppression) {
    const s = routed.suppression;
    return { ...identity, outcome: 'suppressed', routes: [s.name], targets, reason: `suppressed by ${s.name}: ${s.reason}${s.owner ? ` (owner ${s.owner})` : ''}` };
  }
  if (routed.outcome === 'suppressed') {
    const why = routed.decision.targets.length === 0 ? `suppressed by route ${routed.decision.routes.join(', ')}` : notes.join('; ');
    return { ...identity, outcome: 'suppressed', routes: routed.decision.routes, targets, reason: why };
  }
  return { ...identity, outcome: 'routed', routes: routed.decision.routes, targets, reason: notes.length > 0 ? notes.join('; ') : null };
};

/** Sends (or renders) one flushed digest group the way the deliver stage would. */
const runDigest = async (jobs: DeliveryJob[], options: ReplayOptions, onRendered: ReturnType<typeof renderedHandler>) => {
  const first = jobs[0]!;
  await deliverDigest(jobs, options.targets, {
    deadline: Date.now() + (options.jobTimeoutMs ?? 10_000),
    dryRun: !shouldSend(first, options),
    ...(onRendered === undefined ? {} : { onRendered }),
  });
};

/**
 * Flood control in replay: chat jobs of a grouping route wait in their group until a
 * finding arrives after the group's window (by finding time), or the run ends.
 */
interface DigestBuffer {
  hold(job: DeliveryJob, send: (jobs: DeliveryJob[]) => Promise<void>): Promise<void>;
  flushAll(): Promise<{ digests: number; findings: number; failures: string[] }>;
}

const digestBuffer = (): DigestBuffer => {
  const groups = new Map<string, { startMs: number; jobs: DeliveryJob[]; send: (jobs: DeliveryJob[]) => Promise<void> }>();
  const stats = { digests: 0, findings: 0, failures: [] as string[] };
  const flush = async (id: string) => {
    const group = groups.get(id);
    if (!group) return;
    groups.delete(id);
    try {
      await group.send(group.jobs);
      stats.digests++;
      stats.findings += group.jobs.length;
    } catch (error) {
      stats.failures.push(`${group.jobs[0]?.target}: digest of ${group.jobs.length}: ${redactText((error as Error).message)}`);
    }
  };
  return {
    hold: async (job, send) => {
      const id = digestGroupKey({ target: job.target, digest: job.digest! });
      const at = toEpochMs(job.enriched.finding.updatedAt);
      const group = groups.get(id);
      if (group && at - group.startMs > job.digest!.windowMs) await flush(id);
      const current = groups.get(id) ?? { startMs: at, jobs: [], send };
      current.jobs.push(job);
      groups.set(id, current);
    },
    flushAll: async () => {
      for (const id of [...groups.keys()]) await flush(id);
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

/** The in-process stand-ins that live for one replay run: finding state and idempotency records. */
const replaySession = (): Pick<ReplayOptions, 'state' | 'deliverOnce' | 'digests'> & { digests: DigestBuffer } => {
  const store = memoryIdempotencyStore({ maxEntries: REPLAY_MEMORY_KEYS });
  // Replay has no Lambda deadline; give in-progress records the same bound a job has.
  const context = { getRemainingTimeInMillis: () => 60_000 } as Context;
  const once = idempotentRunner(store, context);
  return {
    state: memoryFindingState({ maxFindings: REPLAY_MEMORY_KEYS }),
    digests: digestBuffer(),
    deliverOnce: (job, run) => once(job.idempotencyKey, run),
  };
};

const shouldSend = (job: DeliveryJob, options: ReplayOptions): boolean => {
  if (options.mode === 'dry-run') return false;
  if (options.mode === 'send') return true;
  return options.targets.get(job.target)?.kind === 'local' || options.targets.get(job.target)?.type === 'file';
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

export { replayOne, replaySession, safeFileName, REPLAY_MEMORY_KEYS };
export type { ReplayRecord, ReplayOptions, ReplayDetail, DeliveryMode, Outcome };
