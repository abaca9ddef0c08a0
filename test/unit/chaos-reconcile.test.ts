import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../helpers/fault-receiver.ts';
import type { JobPlan } from '../../scripts/chaos/plan.ts';
import { reconcile, type ReconcileInput } from '../../scripts/chaos/reconcile.ts';
import type { ExpectedJob } from '../../scripts/chaos/scenario.ts';

/** The chaos verdict on hand-built ledgers and dead letters: each kind of breakage shows. */
const SECRET = 'hook-token-123';
const jobs: ExpectedJob[] = [
  { target: 'steady', findingId: 'f1', updatedAt: '2026-01-01T00:00:00Z' },
  { target: 'flaky', findingId: 'f1', updatedAt: '2026-01-01T00:00:00Z' },
  { target: 'flaky', findingId: 'f2', updatedAt: '2026-01-02T00:00:00Z' },
];
const fates: Record<string, JobPlan['fate']> = {
  'steady f1': { kind: 'transient', faults: ['5xx', 'hang'] },
  'flaky f1': { kind: 'clean' },
  'flaky f2': { kind: 'permanent' },
};
const planOf = (job: ExpectedJob): JobPlan => ({ fate: fates[`${job.target} ${job.findingId}`]!, duplicateReceive: false, lostDelete: false });

const entry = (job: ExpectedJob, overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({
  findingId: job.findingId,
  updatedAt: job.updatedAt,
  requests: 1,
  keys: [`k-${job.target}-${job.findingId}`],
  accepted: [`k-${job.target}-${job.findingId}`],
  absorbed: 0,
  afterDone: 0,
  retryAfterViolations: 0,
  answers: { ok: 1 },
  ...overrides,
});
const letter = (job: ExpectedJob, reason: string) =>
  JSON.stringify({ stage: 'deliver', reason, target: job.target, findingId: job.findingId, payload: { target: job.target } });

/** Steady and flaky f1 delivered, flaky f2 refused with 422 and dead-lettered. */
const healthy = (): ReconcileInput => ({
  expected: jobs,
  planOf,
  ledgers: {
    steady: { entries: [entry(jobs[0]!, { requests: 3, answers: { '5xx': 1, hang: 1, ok: 1 } })], malformed: { count: 0 } },
    flaky: { entries: [entry(jobs[1]!), entry(jobs[2]!, { accepted: [], answers: { '4xx': 1 } })], malformed: { count: 0 } },
  },
  deadLetters: [letter(jobs[2]!, 'DeliveryError: HTTP 422 rejected: payload rejected')],
  quarantined: 0,
  secret: SECRET,
});

describe('chaos reconciliation', () => {
  it('passes when every expected job is delivered once or dead-lettered with its reason', () => {
    // Act
    const result = reconcile(healthy());
    // Assess
    expect(result.failures).toEqual([]);
    expect(result.line).toBe('chaos: 3 jobs, delivered 2, dead-lettered 1, lost 0, duplicates 0');
  });

  it('counts a job the receiver never saw and no letter names as lost', () => {
    // Prepare
    const input = healthy();
    input.ledgers = { ...input.ledgers, steady: { entries: [], malformed: { count: 0 } } };
    // Act
    const result = reconcile(input);
    // Assess
    expect(result.lost).toBe(1);
    expect(result.failures[0]).toMatch(/^1 job\(s\) lost/);
  });

  it('counts a job SQS redrove without a reason as lost', () => {
    // Prepare
    const input = healthy();
    input.ledgers = { ...input.ledgers, steady: { entries: [], malformed: { count: 0 } } };
    input.deadLetters = [...input.deadLetters, JSON.stringify({ target: 'steady', idempotencyKey: 'k', enriched: { finding: { id: 'f1' } } })];
    // Act
    const result = reconcile(input);
    // Assess
    expect(result.lost).toBe(1);
    expect(result.figures.redrivenWithoutReason).toBe(1);
  });

  it('counts a request answered after the job was reported done, and a second key, as duplicates', () => {
    // Prepare
    const input = healthy();
    input.ledgers = {
      ...input.ledgers,
      steady: { entries: [entry(jobs[0]!, { afterDone: 1, accepted: ['a', 'b'] })], malformed: { count: 0 } },
    };
    // Act
    const result = reconcile(input);
    // Assess
    expect(result.duplicates).toBe(2);
    expect(result.failures.some((f) => f.startsWith('2 duplicate(s): 1 request(s) after the job was done, 1 second key(s)'))).toBe(true);
  });

  it('fails a transient job that was dead-lettered, and the dead-letter share above the fated share', () => {
    // Prepare
    const input = healthy();
    input.ledgers = { ...input.ledgers, steady: { entries: [entry(jobs[0]!, { accepted: [] })], malformed: { count: 0 } } };
    input.deadLetters = [...input.deadLetters, letter(jobs[0]!, 'RetryLaterError: HTTP 503 rejected')];
    // Act
    const result = reconcile(input);
    // Assess
    expect(result.line).toBe('chaos: 3 jobs, delivered 1, dead-lettered 2, lost 0, duplicates 0');
    expect(result.failures).toEqual([
      '1 job(s) dead-lettered although their faults stayed under the retry budget (steady f1: RetryLaterError: HTTP 503 rejected)',
      'dead-letter share 66.7% above the bound 33.3% (jobs fated to fail)',
    ]);
  });

  it('relaxes the budget checks, and only those, for jobs of a timed-out invocation', () => {
    // Prepare
    const input = healthy();
    input.ledgers = { ...input.ledgers, steady: { entries: [entry(jobs[0]!, { accepted: [] })], malformed: { count: 0 } } };
    input.deadLetters = [...input.deadLetters, letter(jobs[0]!, 'DeliveryError: request failed: timed out')];
    input.disturbed = [{ target: 'steady', findingId: 'f1' }];
    // Act
    const result = reconcile(input);
    // Assess
    expect(result.failures).toEqual([]);
    expect(result.figures.disturbed).toBe(1);
  });

  it('reports, without failing, a transient job dead-lettered after a receive that sent no request', () => {
    // Prepare: five receives, four requests (one receive's deadline passed before its turn)
    const input = healthy();
    input.ledgers = { ...input.ledgers, steady: { entries: [entry(jobs[0]!, { accepted: [], requests: 4 })], malformed: { count: 0 } } };
    input.deadLetters = [...input.deadLetters, letter(jobs[0]!, 'RetryLaterError: HTTP 503 rejected')];
    input.receives = (job) => (job.target === 'steady' ? 5 : 1);
    // Act
    const starved = reconcile(input);
    input.receives = (job) => (job.target === 'steady' ? 4 : 1);
    const budgetHeld = reconcile(input);
    // Assess
    expect(starved.failures).toEqual([]);
    expect(starved.figures.starved).toBe(1);
    expect(budgetHeld.failures[0]).toMatch(/^1 job\(s\) dead-lettered although their faults stayed under the retry budget/);
  });

  it('fails a refusal delivered anyway, a leaked secret and a request without a key; shows an early retry', () => {
    // Prepare
    const input = healthy();
    input.ledgers = {
      steady: { entries: [entry(jobs[0]!, { retryAfterViolations: 1 })], malformed: { count: 1, last: 'missing Idempotency-Key' } },
      flaky: { entries: [entry(jobs[1]!), entry(jobs[2]!)], malformed: { count: 0 } },
    };
    input.deadLetters = [letter(jobs[2]!, `DeliveryError: request failed: ECONNRESET /hooks/${SECRET}`)];
    // Act
    const result = reconcile(input);
    // Assess
    expect(result.failures).toEqual([
      '1 job(s) the receiver refused on every request counted as delivered',
      '1 job(s) both delivered and dead-lettered',
      "1 request(s) without an idempotency key or a finding body",
      "1 dead letter(s) contain the target URL's secret path",
    ]);
    expect(result.figures.earlyRetries).toEqual(['steady f1']);
  });
});
