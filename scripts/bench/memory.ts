import { join } from 'node:path';
import { ROOT, runReplay, succeeded, writeCorpus } from './child.ts';

/**
 * Figure 4: one `replay --json` (example routes and accounts, the CLI as users run it) of
 * `findings` generated findings: peak RSS of the process and findings per second (wall time,
 * start-up included). The goal is ≤ 200 MB at 200,000 findings.
 */
const memoryFigure = async (events: { detail: { id: string } }[], work: string, findings: number, log: (line: string) => void) => {
  const corpus = join(work, `memory-${findings}.ndjson`);
  await writeCorpus(events, findings, corpus);
  const run = succeeded(`replay of ${findings}`, await runReplay([corpus, '--routes', join(ROOT, 'routes.example.yml'), '--accounts', join(ROOT, 'accounts.example.yml'), '--json'], { cwd: work, stdoutFile: join(work, 'memory-out.ndjson') }));
  const peakRssMb = Math.round(run.maxRssKb / 1024);
  const figure = { findings, peakRssMb, peakRssGoalMb: 200, met: peakRssMb <= 200, findingsPerSec: Math.round(findings / (run.wallMs / 1000)) };
  log(`4. Memory: replay --json of ${findings} findings: peak RSS ${peakRssMb} MB (goal ≤ 200 MB at 200,000: ${figure.met ? 'met' : 'NOT met'}), ${figure.findingsPerSec} findings/s`);
  return figure;
};

export { memoryFigure };
