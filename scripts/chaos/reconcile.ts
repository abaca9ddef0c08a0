import type { ReceiverLedger } from './receivers.ts';
import type { JobPlan } from './plan.ts';
import type { ExpectedJob } from './scenario.ts';

/**
 * Per (finding, target): what the routes say must exist against what the receivers hold and
 * what the dead-letter queue holds.
 *
 *   delivered      the receiver processed it (one idempotency key accepted)
 *   dead-lettered  not processed, and a dead letter with a reason names it
 *   lost           neither (a job redriven by SQS without a reason counts here too)
 *   duplicates     every processing beyond the first (a second key for the same update, a
 *                  delivery the routes never asked for), every request the receiver answered
 *                  for a key after the router had reported that job done, every second letter
 *
 * The fault plan adds: a job fated to fail (4xx, or 5xx on every request) must be the one
 * dead-lettered, with its status in the reason; a job whose faults stay under the retry
 * budget must be delivered. So the dead-letter share is bounded by the fated share.
 */
interface DeadLetterBody {
  stage?: unknown;
  reason?: unknown;
  target?: unknown;
  findingId?: unknown;
  /** A raw job redriven by SQS has these instead. */
  idempotencyKey?: unknown;
  enriched?: { finding?: { id?: unknown; updatedAt?: unknown } };
}

interface ReconcileInput {
  expected: readonly ExpectedJob[];
  planOf: (job: ExpectedJob) => JobPlan;
  ledgers: Readonly<Record<string, ReceiverLedger>>;
  /** Bodies of the messages in the delivery dead-letter queue. */
  deadLetters: readonly string[];
  /** Messages in the route stage's quarantine (an enriched event it refused). */
  quarantined: number;
  /** Must never appear in a dead letter. */
  secret: string;
  /**
   * Jobs that were in an invocation that timed out (a starved machine): Lambda ended it with
   * its environment, so a receive may have passed without a request and the plan's budget no
   * longer holds. Such a job may end dead-lettered (with a reason) whatever its fate, or
   * delivered and dead-lettered; never lost, never sent twice.
   */
  disturbed?: readonly { target: string; findingId: string }[];
  /**
   * How many times the queue handed the job out. A receive that sent no request at all (the
   * invocation's deadline passed before its turn on a starved machine) breaks the budget's
   * premise as a timeout does: a dead letter of such a job is reported, not failed.
   */
  receives?: (job: ExpectedJob) => number;
}

interface Reconciliation {
  jobs: number;
  delivered: number;
  deadLettered: number;
  lost: number;
  duplicates: number;
  line: string;
  /** Empty when the run passes. */
  failures: string[];
  figures: {
    fatedToFail: number;
    transientFaults: number;
    absorbedRetries: number;
    requests: number;
    afterDone: number;
    secondKeys: number;
    unexpected: number;
    redrivenWithoutReason: number;
    transientDeadLettered: number;
    fatedButDelivered: number;
    deadLetteredButDelivered: number;
    wrongReason: number;
    retryAfterViolations: number;
    malformedRequests: number;
    leaks: number;
    disturbed: number;
    /**
     * Requests earlier than a Retry-After the receiver sent (after a duplicate receive excepted).
     * Shown, not failed: a client that timed out reading the 429 (a starved machine) never saw it.
     */
    earlyRetries: string[];
    /** Raw jobs SQS's redrive policy moved to the dead-letter queue (after maxReceiveCount receives). */
    redriven: number;
    /** Dead-lettered jobs with fewer requests than receives (less their planned queue faults). */
    starved: number;
  };
}

/** Each chaos finding has one update, so (target, finding id) names a job whatever shape a letter's payload has. */
const idOf = (target: string, findingId: string): string => JSON.stringify([target, findingId]);

const parse = (body: string): DeadLetterBody | undefined => {
  try {
    return JSON.parse(body) as DeadLetterBody;
  } catch {
    return undefined;
  }
};

const reconcile = (input: ReconcileInput): Reconciliation => {
  const figures: Reconciliation['figures'] = {
    fatedToFail: 0,
    transientFaults: 0,
    absorbedRetries: 0,
    requests: 0,
    afterDone: 0,
    secondKeys: 0,
    unexpected: 0,
    redrivenWithoutReason: 0,
    transientDeadLettered: 0,
    fatedButDelivered: 0,
    deadLetteredButDelivered: 0,
    wrongReason: 0,
    retryAfterViolations: 0,
    malformedRequests: 0,
    leaks: 0,
    disturbed: 0,
    redriven: 0,
    starved: 0,
    earlyRetries: [],
  };
  const failures: string[] = [];

  const requestsById = new Map<string, number>();
  // What the receivers processed, by (target, finding update).
  const early = figures.earlyRetries;
  const wronglyDeadLettered: string[] = [];
  const processed = new Map<string, number>();
  for (const [target, ledger] of Object.entries(input.ledgers)) {
    figures.malformedRequests += ledger.malformed.count;
    for (const entry of ledger.entries) {
      const id = idOf(target, entry.findingId);
      processed.set(id, (processed.get(id) ?? 0) + entry.accepted.length);
      requestsById.set(id, (requestsById.get(id) ?? 0) + entry.requests);
      figures.requests += entry.requests;
      figures.absorbedRetries += entry.absorbed;
      figures.afterDone += entry.afterDone;
      // A duplicate receive may retry at once after the other consumer's 429: SQS at-least-once, not the router.
      if (entry.retryAfterViolations > 0 && !input.planOf({ target, findingId: entry.findingId, updatedAt: entry.updatedAt }).duplicateReceive) {
        figures.retryAfterViolations += entry.retryAfterViolations;
        early.push(`${target} ${entry.findingId}`);
      }
    }
  }

  // What the dead-letter queue holds, by (target, finding update): reasons, or raw redriven jobs.
  const letters = new Map<string, string[]>();
  const redriven = new Map<string, number>();
  for (const body of input.deadLetters) {
    if (body.includes(input.secret)) figures.leaks++;
    const letter = parse(body);
    if (typeof letter?.reason === 'string' && typeof letter.target === 'string' && typeof letter.findingId === 'string') {
      const id = idOf(letter.target, letter.findingId);
      letters.set(id, [...(letters.get(id) ?? []), letter.reason]);
    } else if (typeof letter?.target === 'string' && typeof letter.enriched?.finding?.id === 'string') {
      const id = idOf(letter.target, letter.enriched.finding.id);
      redriven.set(id, (redriven.get(id) ?? 0) + 1);
      figures.redriven++;
    } else {
      failures.push(`a dead letter names no job: ${body.slice(0, 120)}`);
    }
  }

  const disturbed = new Set((input.disturbed ?? []).map((job) => idOf(job.target, job.findingId)));
  let strictDeadLettered = 0;
  let delivered = 0;
  let deadLettered = 0;
  let lost = 0;
  let duplicates = figures.afterDone;
  const expectedIds = new Set<string>();
  for (const job of input.expected) {
    const id = idOf(job.target, job.findingId);
    expectedIds.add(id);
    const plan = input.planOf(job);
    const { fate } = plan;
    const fatedToFail = fate.kind === 'permanent' || fate.kind === 'down';
    if (fatedToFail) figures.fatedToFail++;
    if (fate.kind === 'transient') figures.transientFaults += fate.faults.length;
    const keys = processed.get(id) ?? 0;
    const reasons = letters.get(id) ?? [];
    const spentWithoutRequest =
      input.receives !== undefined && keys === 0 && (requestsById.get(id) ?? 0) < input.receives(job) - Number(plan.duplicateReceive);
    if (spentWithoutRequest && !disturbed.has(id)) figures.starved++;
    const strict = !disturbed.has(id) && !spentWithoutRequest;
    if (disturbed.has(id)) figures.disturbed++;
    if (keys > 0) {
      delivered++;
      duplicates += keys - 1;
      figures.secondKeys += keys - 1;
      if (fatedToFail) figures.fatedButDelivered++;
      if (reasons.length > 0 && strict) figures.deadLetteredButDelivered++;
    } else if (reasons.length > 0) {
      deadLettered++;
      if (strict) strictDeadLettered++;
      duplicates += reasons.length - 1;
      if (!fatedToFail && strict) {
        figures.transientDeadLettered++;
        wronglyDeadLettered.push(`${job.target} ${job.findingId}: ${reasons[0]}`);
      }
      const want = fate.kind === 'permanent' ? /HTTP 4\d\d rejected/ : /HTTP 503 rejected/;
      if (fatedToFail && strict && !reasons.every((r) => want.test(r))) figures.wrongReason++;
    } else {
      lost++;
      if (redriven.has(id)) figures.redrivenWithoutReason++;
    }
  }
  for (const [id, keys] of processed) {
    if (expectedIds.has(id) || keys === 0) continue;
    figures.unexpected++;
    duplicates += keys;
  }

  const jobs = input.expected.length;
  const check = (ok: boolean, failure: string) => {
    if (!ok) failures.push(failure);
  };
  check(lost === 0, `${lost} job(s) lost (neither delivered nor dead-lettered with a reason; ${figures.redrivenWithoutReason} redriven by SQS without one)`);
  check(duplicates === 0, `${duplicates} duplicate(s): ${figures.afterDone} request(s) after the job was done, ${figures.secondKeys} second key(s), ${figures.unexpected} unexpected delivery(ies)`);
  check(delivered + deadLettered + lost === jobs, 'delivered + dead-lettered + lost differs from the expected jobs');
  check(
    figures.transientDeadLettered === 0,
    `${figures.transientDeadLettered} job(s) dead-lettered although their faults stayed under the retry budget (${wronglyDeadLettered.slice(0, 2).join('; ')})`,
  );
  check(
    strictDeadLettered <= figures.fatedToFail,
    `dead-letter share ${share(strictDeadLettered, jobs)} above the bound ${share(figures.fatedToFail, jobs)} (jobs fated to fail)`,
  );
  check(figures.fatedButDelivered === 0, `${figures.fatedButDelivered} job(s) the receiver refused on every request counted as delivered`);
  check(figures.deadLetteredButDelivered === 0, `${figures.deadLetteredButDelivered} job(s) both delivered and dead-lettered`);
  check(figures.wrongReason === 0, `${figures.wrongReason} dead letter(s) without the refusing status in the reason`);
  check(figures.malformedRequests === 0, `${figures.malformedRequests} request(s) without an idempotency key or a finding body`);
  check(figures.leaks === 0, `${figures.leaks} dead letter(s) contain the target URL's secret path`);
  check(input.quarantined === 0, `${input.quarantined} enriched event(s) quarantined by the route stage`);

  return {
    jobs,
    delivered,
    deadLettered,
    lost,
    duplicates,
    line: `chaos: ${jobs} jobs, delivered ${delivered}, dead-lettered ${deadLettered}, lost ${lost}, duplicates ${duplicates}`,
    failures,
    figures,
  };
};

const share = (part: number, whole: number): string => `${whole === 0 ? 0 : ((100 * part) / whole).toFixed(1)}%`;

export { reconcile };
export type { Reconciliation, ReconcileInput };
