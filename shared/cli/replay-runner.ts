import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountDirectory } from '../accounts.ts';
import type { RouterConfig } from '../config/load.ts';
import type { DeliveryJob } from '../delivery/job.ts';
import { deliver, ingest, route } from '../pipeline.ts';
import type { Target } from '../targets/types.ts';
import { redactText } from '../redact.ts';
import type { InputItem } from './inputs.ts';

/**
 * Runs the pipeline in-process over replay inputs, one record per input event. The bus
 * and the queue are in-memory stand-ins: enriched events go straight to `route`, and
 * jobs straight to `deliver`.
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
  accounts: AccountDirectory;
  targets: ReadonlyMap<string, Target>;
  mode: DeliveryMode;
  payloadsDir?: string;
  jobTimeoutMs?: number;
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

const replayOne = async (item: InputItem, options: ReplayOptions): Promise<ReplayRecord> => record(await replayUnordered(item, options));

const replayUnordered = async (item: InputItem, options: ReplayOptions): Promise<ReplayRecord> => {
  const base = { source: item.source, findingId: null, type: null, severity: null, routes: [], targets: [] };
  if (item.error !== undefined) return { ...base, outcome: 'rejected', reason: `$: ${item.error}` };

  const ingested = await ingest(item.value, options.accounts);
  if (ingested.kind === 'ignored') return { ...base, outcome: 'ignored', reason: ingested.reason };
  if (ingested.kind === 'rejected') {
    return { ...base, findingId: ingested.findingId ?? null, type: ingested.type ?? null, outcome: 'rejected', reason: ingested.reason };
  }

  const { finding } = ingested.enriched;
  const identity = { source: item.source, findingId: finding.id, type: finding.type, severity: finding.severity };
  const routed = route(ingested.enriched, options.config);
  if (routed.outcome === 'suppressed') {
    return { ...identity, outcome: 'suppressed', routes: routed.decision.routes, targets: [], reason: `suppressed by route ${routed.decision.routes.join(', ')}` };
  }

  const failures: string[] = [];
  for (const job of routed.jobs) {
    try {
      await deliver(job, options.targets, {
        deadline: Date.now() + (options.jobTimeoutMs ?? 10_000),
        dryRun: !shouldSend(job, options),
        onRendered: options.payloadsDir === undefined ? undefined : (j, payload) => writePayload(options.payloadsDir!, j, payload.body, payload.extension),
      });
    } catch (error) {
      failures.push(`${job.target}: ${redactText((error as Error).message)}`);
    }
  }
  return {
    ...identity,
    outcome: failures.length > 0 ? 'failed' : 'routed',
    routes: routed.decision.routes,
    targets: routed.jobs.map((job) => job.target),
    reason: failures.length > 0 ? failures.join('; ') : null,
  };
};

const shouldSend = (job: DeliveryJob, options: ReplayOptions): boolean => {
  if (options.mode === 'dry-run') return false;
  if (options.mode === 'send') return true;
  return options.targets.get(job.target)?.kind === 'local' || options.targets.get(job.target)?.type === 'file';
};

const safeFileName = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || '_';

const writePayload = async (dir: string, job: DeliveryJob, body: string, extension: string): Promise<void> => {
  const folder = join(dir, safeFileName(job.target));
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, `${safeFileName(job.enriched.finding.id)}.${extension}`), body);
};

export { replayOne, safeFileName };
export type { ReplayRecord, ReplayOptions, DeliveryMode, Outcome };
