import { join } from 'node:path';
import { ROOT, runNode, runReplay, succeeded, writeCorpus } from './child.ts';
import { atMost, median, round2, show, type Judged } from './stats.ts';

/**
 * Figure 1: CPU per finding of the whole replay path (`replay --dry-run --json`: validate,
 * enrich, state, route, idempotency, render, record), start-up excluded, ÷ CPU per finding of
 * reading and JSON.parse-ing the same events. Replay: the CLI as users run it; its CPU from its
 * first write of --json records to its exit, ÷ the findings whose records came after that
 * write (report-usage.mjs; replay writes its records in batches):
 * subtracting an empty replay's start-up instead left the small sizes to the start-up's noise.
 * Baseline: parse-baseline.mjs, its loop timed inside.
 * Rounds interleave replay and baseline so load on the machine hits both alike.
 */
const cpuFigure = async (events: { detail: { id: string } }[], work: string, sizes: number[], rounds: number, log: (line: string) => void) => {
  const routes = join(ROOT, 'routes.example.yml');
  const accounts = join(ROOT, 'accounts.example.yml');
  for (const n of sizes) await writeCorpus(events, n, join(work, `cpu-${n}.ndjson`));
  const replayUsPerFinding = async (file: string, n: number) => {
    const run = succeeded(`replay of ${n}`, await runReplay([file, '--routes', routes, '--accounts', accounts, '--dry-run', '--json'], { stdoutFile: join(work, 'cpu-out.ndjson') }));
    if (run.stdoutLines !== n || run.firstStdoutCpuMs === undefined || run.firstStdoutLines === undefined) throw new Error(`replay of ${n} wrote ${run.stdoutLines} records`);
    if (n - run.firstStdoutLines < n / 2) throw new Error(`replay of ${n} wrote ${run.firstStdoutLines} records in its first write: too few left to measure`);
    return ((run.cpuMs - run.firstStdoutCpuMs) * 1000) / (n - run.firstStdoutLines);
  };
  const ratios = new Map<number, number[]>(sizes.map((n) => [n, []]));
  const detail = new Map<number, { replayUs: number[]; parseUs: number[] }>(sizes.map((n) => [n, { replayUs: [], parseUs: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const n of sizes) {
      const file = join(work, `cpu-${n}.ndjson`);
      const replayUs = await replayUsPerFinding(file, n);
      const parse = succeeded('parse baseline', await runNode([join(ROOT, 'scripts/bench/parse-baseline.mjs'), file, '300']));
      const parseUs = (JSON.parse(parse.stdout) as { usPerFinding: number }).usPerFinding;
      ratios.get(n)!.push(replayUs / parseUs);
      detail.get(n)!.replayUs.push(replayUs);
      detail.get(n)!.parseUs.push(parseUs);
    }
  }
  const byN: Record<string, Judged> = {};
  for (const n of sizes) {
    byN[String(n)] = atMost(ratios.get(n)!, 3.0);
    const d = detail.get(n)!;
    log(`1. CPU per finding at ${n}: replay ${round2(median(d.replayUs))} µs vs JSON.parse ${round2(median(d.parseUs))} µs → ratio ${show(byN[String(n)]!)}`);
  }
  const all = atMost([...ratios.values()].flat(), 3.0);
  // Flat in N: every size's median within ±15% of the mean of the medians.
  const medians = sizes.map((n) => byN[String(n)]!.median);
  const mean = medians.reduce((a, b) => a + b, 0) / medians.length;
  const deviationPct = Math.round(Math.max(...medians.map((m) => Math.abs(m / mean - 1))) * 1000) / 10;
  const flatInN = { maxDeviationPct: deviationPct, goal: '≤ 15', met: deviationPct <= 15 };
  log(`1. CPU per finding, all sizes: ratio ${show(all)}; flat in N: largest deviation from the mean ${deviationPct}% (goal ≤ 15%: ${flatInN.met ? 'met' : 'NOT met'})`);
  return { cpuRatio: all, cpuRatioByN: byN, cpuFlatInN: flatInN };
};

export { cpuFigure };
