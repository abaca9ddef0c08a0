import { createHash } from 'node:crypto';

/**
 * The fault plan: what every receiver answers to the n-th request for one finding update,
 * and which queue faults hit its job, all derived from the seed. Nothing depends on timing
 * or scheduling, so a seed gives the same outcome for every (finding, target) on every run:
 *
 *   clean      every request answered 2xx (some with a slowly dribbled body)
 *   transient  the first k requests fail (5xx, 429 + Retry-After, resets before and after the
 *              body was processed, hangs past the deadline, 2xx bodies cut past the deadline),
 *              then 2xx — must end DELIVERED
 *   permanent  400/422 — must end DEAD-LETTERED at once, with the status in the reason
 *   down       503 to every request — must end DEAD-LETTERED after the retry budget
 *
 * The retry budget is the delivery queue's maxReceiveCount (5): every receive makes at least
 * one request, so a job survives any k ≤ 4 failed requests. Queue faults (a duplicate receive,
 * a lost delete) also spend a receive each, so a transient job gets k ≤ 4 − (its queue faults).
 * Within that budget a dead letter is never acceptable; see README "Chaos run".
 */
type TransientFault = '5xx' | '429' | 'reset' | 'reset-after-accept' | 'hang' | 'cut-body';
type AnswerKind = TransientFault | 'ok' | 'slow-ok' | '4xx' | 'down';

interface Answer {
  kind: AnswerKind;
  status?: number;
  retryAfterSeconds?: number;
}

type Fate =
  | { kind: 'clean' }
  | { kind: 'transient'; faults: readonly TransientFault[] }
  | { kind: 'permanent' }
  | { kind: 'down' };

interface JobPlan {
  fate: Fate;
  /** SQS hands the message to a second consumer while the first works on it (first receive). */
  duplicateReceive: boolean;
  /** The event source's delete after the job is done is lost: the message comes back after the visibility timeout. */
  lostDelete: boolean;
}

interface Profile {
  /** Shares of jobs by fate; the rest are clean. */
  permanent: number;
  down: number;
  transient: number;
  /** Relative weights of the transient faults. */
  faults: Partial<Record<TransientFault, number>>;
  /** Share of 2xx answers whose body is dribbled slowly (well inside any deadline). */
  slowOk: number;
}

/** One receiver (and webhook target) per profile. */
const PROFILES = {
  steady: { permanent: 0.01, down: 0.01, transient: 0.25, faults: { '5xx': 3, '429': 2, reset: 2, 'reset-after-accept': 2, hang: 1, 'cut-body': 1 }, slowOk: 0.1 },
  flaky: { permanent: 0.02, down: 0.03, transient: 0.5, faults: { '5xx': 4, reset: 3, 'reset-after-accept': 3, hang: 1, 'cut-body': 1, '429': 1 }, slowOk: 0.05 },
  throttled: { permanent: 0.01, down: 0.01, transient: 0.45, faults: { '429': 6, '5xx': 1, 'reset-after-accept': 1 }, slowOk: 0.05 },
  slow: { permanent: 0.01, down: 0.02, transient: 0.35, faults: { hang: 3, 'cut-body': 3, '5xx': 1, '429': 1 }, slowOk: 0.4 },
} as const satisfies Record<string, Profile>;
type TargetName = keyof typeof PROFILES;
const TARGETS = Object.keys(PROFILES) as TargetName[];

/** maxReceiveCount of the delivery queue (serverless.yml custom.deliveryMaxReceiveCount). */
const RETRY_BUDGET = 5;
const QUEUE_FAULTS = { duplicateReceive: 0.05, lostDelete: 0.05 };
/** Retry-After values: 1 s fits inside one invocation's deadline, 5 s sends the job back to the queue. */
const RETRY_AFTER_SECONDS = [1, 5] as const;

/** Deterministic uniform [0, 1) from the seed and labelled parts (JSON keeps the parts apart). */
const uniform = (seed: number, ...parts: readonly (string | number)[]): number =>
  createHash('sha256').update(JSON.stringify([seed, ...parts])).digest().readUInt32BE(0) / 2 ** 32;

const weighted = <K extends string>(weights: Partial<Record<K, number>>, r: number): K => {
  const entries = Object.entries(weights) as [K, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let acc = 0;
  for (const [key, weight] of entries) {
    acc += weight / total;
    if (r < acc) return key;
  }
  return entries.at(-1)![0];
};

interface JobIdentity {
  target: string;
  findingId: string;
  updatedAt: string;
}

const planFor = (seed: number, job: JobIdentity): JobPlan => {
  const profile: Profile | undefined = (PROFILES as Record<string, Profile>)[job.target];
  const at = (label: string, ...more: (string | number)[]) => uniform(seed, label, job.target, job.findingId, job.updatedAt, ...more);
  if (profile === undefined) return { fate: { kind: 'clean' }, duplicateReceive: false, lostDelete: false };
  const r = at('fate');
  if (r < profile.permanent) return { fate: { kind: 'permanent' }, duplicateReceive: false, lostDelete: false };
  // The delete after a down job's dead letter is lost: back at receive count 5, SQS's redrive
  // (maxReceiveCount) moves it to the dead-letter queue, and nothing may send it again.
  if (r < profile.permanent + profile.down) return { fate: { kind: 'down' }, duplicateReceive: false, lostDelete: true };
  const duplicateReceive = at('duplicate-receive') < QUEUE_FAULTS.duplicateReceive;
  const lostDelete = at('lost-delete') < QUEUE_FAULTS.lostDelete;
  if (r >= profile.permanent + profile.down + profile.transient) return { fate: { kind: 'clean' }, duplicateReceive, lostDelete };
  const maxFaults = RETRY_BUDGET - 1 - Number(duplicateReceive) - Number(lostDelete);
  const count = 1 + Math.floor(at('fault-count') * maxFaults);
  const faults = Array.from({ length: count }, (_, i) => weighted(profile.faults, at('fault', i)));
  return { fate: { kind: 'transient', faults }, duplicateReceive, lostDelete };
};

/** The answer to the request with this index (0-based) for one (finding, target). */
const answerFor = (seed: number, job: JobIdentity, requestIndex: number): Answer => {
  const { fate } = planFor(seed, job);
  const detail = uniform(seed, 'detail', job.target, job.findingId, job.updatedAt, requestIndex);
  const profile: Profile | undefined = (PROFILES as Record<string, Profile>)[job.target];
  const good = (): Answer => ({ kind: detail < (profile?.slowOk ?? 0) ? 'slow-ok' : 'ok', status: 200 });
  switch (fate.kind) {
    case 'permanent':
      return { kind: '4xx', status: detail < 0.5 ? 400 : 422 };
    case 'down':
      return { kind: 'down', status: 503 };
    case 'clean':
      return good();
    case 'transient': {
      const fault = fate.faults[requestIndex];
      if (fault === undefined) return good();
      if (fault === '5xx') return { kind: fault, status: [500, 502, 503, 504][Math.floor(detail * 4)]! };
      if (fault === '429') return { kind: fault, status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS[detail < 0.6 ? 0 : 1] };
      return { kind: fault };
    }
  }
};

export { TARGETS, RETRY_BUDGET, planFor, answerFor, uniform };
export type { JobPlan };
