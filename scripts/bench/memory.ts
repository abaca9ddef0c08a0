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
  // Judged only at the goal's size: --small runs fewer findings, and memory may grow with N.
  const atGoalSize = findings >= 200_000;
  const figure = { findings, peakRssMb, peakRssGoalMb: 200, met: atGoalSize ? peakRssMb <= 200 : null, findingsPerSec: Math.round(findings / (run.wallMs / 1000)) };
  log(`4. Memory: replay --json of ${findings} findings: peak RSS ${peakRssMb} MB (goal ≤ 200 MB at 200,000: ${figure.met === null ? 'not judged at this size' : figure.met ? 'met' : 'NOT met'}), ${figure.findingsPerSec} findings/s`);
  return figure;
};

export { memoryFigure };
