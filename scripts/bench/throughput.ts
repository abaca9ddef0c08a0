import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runNode, runReplay, succeeded, writeCorpus } from './child.ts';
import { atLeast, median, show } from './stats.ts';

const HOOKS = ['a', 'b', 'c'];
const CONCURRENCY = 16;

/** The receiver in its own process; resolves with its base URL and a stop. */
const startReceiver = () =>
  new Promise<{ base: string; stop: () => void }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/bench/receiver.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout.once('data', (c: Buffer) => resolve({ base: `http://127.0.0.1:${c.toString().trim()}`, stop: () => child.kill('SIGTERM') }));
  });

/**
 * Figure 2: deliveries per second of `replay --send --concurrency 16` (three webhook targets,
 * start-up excluded: from its first write of --json records to its exit, for the findings after those;
 * subtracting an empty replay's wall time left the figure to the start-up's noise) ÷ a bare node:http
 * keep-alive loop posting the very bodies replay rendered (captured with --payloads) to the same
 * receiver, with as many requests in flight as replay can have (16 findings × 3 targets).
 */
const throughputFigure = async (events: { detail: { id: string } }[], work: string, findings: number, rounds: number, log: (line: string) => void) => {
  const receiver = await startReceiver();
  try {
    const routes = join(work, 'throughput-routes.yml');
    writeFileSync(routes, ['targets:', ...HOOKS.map((h) => `  ${h}: { type: webhook, url: "${receiver.base}/${h}", allowPrivateNetwork: true }`), `default: { targets: [${HOOKS.join(', ')}] }`, ''].join('\n'));
    const corpus = join(work, 'throughput.ndjson');
    await writeCorpus(events, findings, corpus);
    const bodies = join(work, 'bodies');
    rmSync(bodies, { recursive: true, force: true });
    mkdirSync(bodies);
    succeeded('replay --payloads', await runReplay([corpus, '--routes', routes, '--dry-run', '--payloads', bodies, '--json'], { stdoutFile: join(work, 'throughput-out.ndjson') }));
    const deliveries = findings * HOOKS.length;
    // --fail-on: a delivery that failed would make replay look fast; it fails the figure instead.
    const replayArgs = (file: string) => [file, '--routes', routes, '--send', '--json', '--concurrency', String(CONCURRENCY), '--fail-on', 'failed,rejected'];
    const ratios: number[] = [];
    const replayRates: number[] = [];
    const loopRates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const sent = succeeded('replay --send', await runReplay(replayArgs(corpus), { stdoutFile: join(work, 'throughput-out.ndjson') }));
      if (sent.stdoutLines !== findings || sent.firstStdoutAtMs === undefined || sent.exitAtMs === undefined || sent.firstStdoutLines === undefined) throw new Error(`replay --send wrote ${sent.stdoutLines} records`);
      if (findings - sent.firstStdoutLines < findings / 2) throw new Error(`replay --send wrote ${sent.firstStdoutLines} records in its first write: too few left to measure`);
      // The findings after the first write of records, at the loop's rate of the same share of bodies.
      const replaySeconds = ((sent.exitAtMs - sent.firstStdoutAtMs) / 1000) * (findings / (findings - sent.firstStdoutLines));
      const loop = JSON.parse(succeeded('node:http loop', await runNode([join(ROOT, 'scripts/bench/http-loop.mjs'), bodies, receiver.base, String(CONCURRENCY * HOOKS.length)])).stdout) as { requests: number; seconds: number };
      if (loop.requests !== deliveries) throw new Error(`the loop posted ${loop.requests} bodies, replay ${deliveries}`);
      replayRates.push(deliveries / replaySeconds);
      loopRates.push(deliveries / loop.seconds);
      ratios.push(loop.seconds / replaySeconds);
    }
    const throughputRatio = atLeast(ratios, 0.8);
    log(`2. Delivery throughput: replay ${Math.round(median(replayRates))} deliveries/s vs node:http loop ${Math.round(median(loopRates))}/s (${deliveries} deliveries, ${CONCURRENCY * HOOKS.length} in flight) → ratio ${show(throughputRatio)}`);
    return { throughputRatio, replayDeliveriesPerSec: replayRates.map(Math.round), loopDeliveriesPerSec: loopRates.map(Math.round) };
  } finally {
    receiver.stop();
  }
};

export { throughputFigure };
