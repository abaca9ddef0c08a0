import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { DeliveryJobSchema } from '../../shared/delivery/job.ts';
import { runChaos, URL_SECRET, type ChaosResult } from '../../scripts/chaos.ts';

/**
 * The chaos suite in-process at a small N with a fixed seed: nothing lost, nothing
 * delivered twice, and — so that this cannot pass vacuously — the faults really happened
 * and the duplicate counter really counts when the idempotency layer is taken away.
 */
describe('chaos: delivery under injected faults', () => {
  let guarded: ChaosResult;
  let unguarded: ChaosResult;

  it('loses nothing and delivers nothing twice while every kind of fault fires', { timeout: 90_000 }, async () => {
    // Act (both runs at once: separate receivers, queues and stores)
    [guarded, unguarded] = await Promise.all([
      runChaos({ findings: 40, seed: 7, deadlineMs: 1_200 }),
      runChaos({ findings: 12, seed: 7, deadlineMs: 1_200, idempotency: false, lostDeleteRate: 0.5 }),
    ]);
    // Assess: the one-line verdict
    expect(guarded.line).toMatch(/^chaos: \d+ jobs, delivered \d+, dead-lettered \d+, lost 0, duplicates 0$/);
    expect(guarded.jobs).toBe(40 * 4);
    expect(guarded.lost).toBe(0);
    expect(guarded.duplicates).toBe(0);
    expect(guarded.delivered + guarded.deadLettered).toBe(guarded.jobs);
    // Faults really happened, each kind of them
    const { stats } = guarded;
    for (const fault of ['5xx', '429', 'reset-before-body', 'reset-after-body', 'hang', 'slow-body', 'slow-body-cut'] as const) {
      expect(stats.faults[fault], fault).toBeGreaterThan(0);
    }
    expect(stats.retries).toBeGreaterThan(0);
    // The dangerous case: accepted by the receiver, an error for the client, retried, deduplicated by the key
    expect(stats.absorbed).toBeGreaterThan(0);
    // Queue faults: a lost delete came back and the idempotency store answered it
    expect(stats.lostDeletes).toBeGreaterThan(0);
    expect(stats.idempotentSkips).toBeGreaterThan(0);
    expect(stats.missingKey).toBe(0);
  });

  it('dead-letters with the classified, redacted reason and the job to redrive', () => {
    // Assess
    expect(guarded.deadLettered).toBeGreaterThan(0);
    for (const letter of guarded.letters) {
      expect(letter.stage).toBe('deliver');
      expect(letter.reason).toMatch(/^\w+Error: /);
      expect(letter.reason).not.toContain(URL_SECRET);
      const job = z.parse(DeliveryJobSchema, letter.payload);
      expect(letter.idempotencyKey).toBe(job.idempotencyKey);
      expect(letter.target).toBe(job.target);
    }
    expect(guarded.stats.leaks).toBe(0);
    // A permanent rejection is dead-lettered on the spot, with its status
    expect(guarded.letters.some((l) => /HTTP 4\d\d rejected/.test(l.reason))).toBe(true);
  });

  it('counts duplicates when the idempotency layer is removed (the counter is not blind)', () => {
    // Assess
    expect(unguarded.lost).toBe(0);
    expect(unguarded.duplicates).toBeGreaterThan(0);
    expect(unguarded.line).toMatch(/duplicates [1-9]\d*$/);
  });
});
