/**
 * `npm run bench [-- --small] [-- --json] [-- --out FILE] [-- --only 1,2,3,4]`: the router's
 * costs against baselines measured in the same run (issue 17), each with min/median/max over
 * rounds and met / not met:
 *   1. CPU per finding of `replay --dry-run --json` (start-up excluded) ÷ JSON.parse of the same events, at three N.
 *   2. Deliveries per second of `replay --send` ÷ a bare node:http keep-alive loop (receiver in its own process).
 *   3. Each Lambda bundle's cold-start bytes and import time over bare node (built here, example config).
 *   4. Peak RSS and findings per second of `replay --json` over 200,000 findings.
 * With --json, stdout carries the JSON document only (progress goes to stderr); run it as
 * `npm run -s bench -- --json` (npm prints its banner on stdout without -s) or use --out FILE.
 * A negative, non-finite or impossible figure fails the run (exit 1).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sampleEvents } from './bench/child.ts';
import { coldStartFigure } from './bench/cold-start.ts';
import { cpuFigure } from './bench/cpu.ts';
import { memoryFigure } from './bench/memory.ts';
import { impossibleFigures } from './bench/sanity.ts';
import { throughputFigure } from './bench/throughput.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    small: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
  },
});
const only = new Set((values.only ?? '1,2,3,4').split(',').map((s) => s.trim()));
const small = values.small;
const log = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

const work = mkdtempSync(join(tmpdir(), 'bench-'));
try {
  const events = sampleEvents();
  const result: Record<string, unknown> = { small };
  if (only.has('1')) Object.assign(result, await cpuFigure(events, work, small ? [1_000, 3_000, 10_000] : [5_000, 50_000, 200_000], 3, log));
  if (only.has('2')) Object.assign(result, await throughputFigure(events, work, small ? 200 : 2_000, small ? 3 : 5, log));
  if (only.has('3')) result.bundles = await coldStartFigure(work, small ? 5 : 15, log);
  if (only.has('4')) result.replay200k = await memoryFigure(events, work, small ? 5_000 : 200_000, log);
  const impossible = impossibleFigures(result);
  const document = `${JSON.stringify({ ...result, ok: impossible.length === 0, impossible })}\n`;
  if (values.out) writeFileSync(values.out, document);
  if (values.json) process.stdout.write(document);
  for (const problem of impossible) process.stderr.write(`bench: impossible figure: ${problem}\n`);
  if (impossible.length > 0) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
