import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTING_KEY, startReceivers, writeScenario } from './replay-send-faults.scenario.ts';

/**
 * `replay --send` against receivers in another process that fail about a third of requests
 * (503, 429 Retry-After: 1, resets, hangs): every delivery ends delivered exactly once at the
 * receiver or, only when the deliver Lambda's budget (5 receives of 3 attempts) is spent or
 * the failure is permanent, in the `--dead-letters` file; a finding's updates reach the
 * PagerDuty target (one alert per finding) in updatedAt order; replaying the dead-letter file
 * against healthy receivers sends exactly those deliveries.
 */
const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const TARGETS = ['hook', 'pager'] as const;

const run = (args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> =>
  new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, PD_ROUTING_KEY: ROUTING_KEY } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });

interface ReplayRecord {
  findingId: string;
  outcome: string;
  targets: string[];
  reason: string | null;
}
interface Letter {
  stage: string;
  reason: string;
  target: string;
  findingId: string;
  payload: { target: string; enriched: { finding: { id: string; updatedAt: string } } };
}

const lines = <T>(text: string): T[] => text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as T);
const updateKey = (target: string, findingId: string, updatedAt: string) => JSON.stringify([target, findingId, updatedAt]);

/** Per (target, finding update): how often the receiver processed it. */
const processedAt = async (receivers: Awaited<ReturnType<typeof startReceivers>>) => {
  const ledgers = await receivers.ledgers();
  const processed = new Map<string, number>();
  for (const entry of ledgers.webhook) processed.set(updateKey('hook', entry.findingId, entry.updatedAt), entry.accepted.length);
  for (const arrival of ledgers.pagerduty.accepted) {
    const key = updateKey('pager', arrival.findingId, arrival.updatedAt);
    processed.set(key, (processed.get(key) ?? 0) + 1);
  }
  /** Per dedup key, the updatedAt of each accepted update in arrival order. */
  const pagerOrder = new Map<string, string[]>();
  for (const arrival of ledgers.pagerduty.accepted) pagerOrder.set(arrival.dedupKey, [...(pagerOrder.get(arrival.dedupKey) ?? []), arrival.updatedAt]);
  return { ledgers, processed, pagerOrder };
};

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

describe('CLI: replay --send under faults', () => {
  it('delivers every (finding, target) once or dead-letters it after the budget, in order for PagerDuty; the dead-letter file re-sends exactly those', async () => {
    // Prepare: 150 events (50 findings × 3 updates); one finding the webhook always refuses with 503, one both refuse with 400
    const faulty = await startReceivers('faulty');
    cleanups.push(faulty.close);
    const cwd = mkdtempSync(join(tmpdir(), 'replay-faults-'));
    const scenario = writeScenario(cwd, { events: 150, doomed: { fail503: 1, fail400: 1 }, origins: faulty.origins });

    // Act
    const first = await run(['replay', scenario.input, '--routes', scenario.routes, '--send', '--json', '--dead-letters', 'dead-letters.ndjson'], cwd);
    console.log(`replay --send over ${scenario.events.length} findings against faulty receivers: ${first.seconds.toFixed(1)} s`);

    // Assess: every (finding update, target) processed exactly once, or dead-lettered (never both, never neither)
    expect(first.code).toBe(0);
    const records = lines<ReplayRecord>(first.stdout);
    expect(records).toHaveLength(150);
    const letters = lines<Letter>(readFileSync(join(cwd, 'dead-letters.ndjson'), 'utf8'));
    const lettered = new Map(letters.map((l) => [updateKey(l.target, l.findingId, l.payload.enriched.finding.updatedAt), l]));
    expect(lettered.size).toBe(letters.length);
    const { ledgers, processed, pagerOrder } = await processedAt(faulty);
    const expected = scenario.events.flatMap((event) => TARGETS.map((target) => updateKey(target, event.id, event.updatedAt)));
    const fates = expected.map((key) => ({ key, processed: processed.get(key) ?? 0, lettered: lettered.has(key) }));
    expect(fates.filter((f) => f.processed > 1)).toEqual([]);
    expect(fates.filter((f) => (f.processed === 1) === f.lettered)).toEqual([]);
    expect([...processed.keys()].filter((key) => !expected.includes(key))).toEqual([]);

    // Transient faults under the budget end delivered: only the doomed findings are dead-lettered, each with its reason
    expect(letters.map((l) => `${l.target} ${l.findingId}`).sort()).toEqual(
      [...['hook', 'pager'].flatMap((t) => Array(3).fill(`${t} doomed-400-0`)), ...Array(3).fill('hook doomed-503-0')].sort(),
    );
    expect(letters.every((l) => l.stage === 'deliver' && l.payload.target === l.target)).toBe(true);
    expect(letters.filter((l) => l.findingId === 'doomed-400-0').every((l) => l.reason.includes('HTTP 400'))).toBe(true);
    expect(letters.filter((l) => l.findingId === 'doomed-503-0').every((l) => l.reason.includes('HTTP 503'))).toBe(true);
    // The Lambda's budget, not one deadline: five receives of three attempts each before a 503 is given up
    const doomed503 = ledgers.webhook.filter((e) => e.findingId === 'doomed-503-0');
    expect(doomed503.map((e) => e.requests)).toEqual([15, 15, 15]);
    expect(records.filter((r) => r.findingId === 'doomed-503-0').every((r) => r.reason?.includes('dead-lettered after 5 receives'))).toBe(true);
    expect(records.filter((r) => r.outcome === 'failed').map((r) => r.findingId).sort()).toEqual([...Array(3).fill('doomed-400-0'), ...Array(3).fill('doomed-503-0')]);
    // Retry-After was honoured
    expect(ledgers.webhook.reduce((sum, e) => sum + e.retryAfterViolations, 0)).toBe(0);
    // One alert per finding: its updates arrived in updatedAt order
    const outOfOrder = [...pagerOrder].filter(([, updates]) => updates.some((at, i) => i > 0 && at <= updates[i - 1]!));
    expect(outOfOrder).toEqual([]);
    expect([...pagerOrder.values()].filter((updates) => updates.length === 3).length).toBe(49);

    // Act: the dead-letter file, against healthy receivers
    const healthy = await startReceivers('healthy');
    cleanups.push(healthy.close);
    const again = mkdtempSync(join(tmpdir(), 'replay-letters-'));
    const resend = writeScenario(again, { events: 0, doomed: { fail503: 0, fail400: 0 }, origins: healthy.origins });
    const second = await run(['replay', join(cwd, 'dead-letters.ndjson'), '--routes', resend.routes, '--send', '--json'], again);

    // Assess: exactly the dead-lettered deliveries, each once, to its target only, PagerDuty in order
    expect(second.code).toBe(0);
    const resent = lines<ReplayRecord>(second.stdout);
    expect(resent.map((r) => r.outcome)).toEqual(letters.map(() => 'routed'));
    expect(resent.map((r) => r.targets)).toEqual(letters.map((l) => [l.target]));
    const after = await processedAt(healthy);
    expect([...after.processed].sort()).toEqual([...lettered.keys()].map((key) => [key, 1] as const).sort());
    expect([...after.pagerOrder.values()]).toEqual([[...new Set(letters.filter((l) => l.target === 'pager').map((l) => l.payload.enriched.finding.updatedAt))].sort()]);
  }, 240_000);
});
