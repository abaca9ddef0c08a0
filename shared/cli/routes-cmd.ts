import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadAccounts, staticAccountDirectory } from '../accounts.ts';
import { loadRoutesFile } from '../config/load.ts';
import { ingest, route } from '../pipeline.ts';
import { memoryFindingState } from '../state/finding-state.ts';
import { readInputs } from './inputs.ts';
import { BUNDLED } from './paths.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

/**
 * `routes test`: the decision trace for each event (every route in order, matched or not,
 * and for a miss the first condition that failed) and the final targets; exit 1 when
 * `--expect` differs. `--matrix` prints finding types × targets over a corpus.
 */
const runRoutesTest = async (argv: string[], io: Io): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      routes: { type: 'string' },
      accounts: { type: 'string' },
      expect: { type: 'string' },
      matrix: { type: 'boolean', default: false },
    },
  });
  const config = await loadRoutesFile(values.routes ?? BUNDLED.routes());
  const accountsFile = values.accounts ?? BUNDLED.accounts();
  const accounts = staticAccountDirectory(loadAccounts(await readFile(accountsFile, 'utf8'), accountsFile));
  if (values.matrix) return printMatrix(positionals.length > 0 ? positionals : [BUNDLED.samples()], config, accounts, io);
  if (positionals.length === 0) {
    io.stderr.write('routes test: give at least one EVENT file (or --matrix)\n');
    return 2;
  }
  const expected = values.expect === undefined ? undefined : splitList(values.expect);
  let mismatches = 0;
  for await (const item of readInputs(positionals)) {
    if (item.error) {
      io.stdout.write(`${item.source}: rejected: ${item.error}\n`);
      mismatches += expected ? 1 : 0;
      continue;
    }
    const ingested = await ingest(item.value, accounts);
    if (ingested.kind !== 'enriched') {
      io.stdout.write(`${item.source}: ${ingested.kind}: ${ingested.reason}\n`);
      mismatches += expected ? 1 : 0;
      continue;
    }
    const result = await route(ingested.enriched, { config, state: memoryFindingState() });
    const { finding } = ingested.enriched;
    io.stdout.write(`${item.source}: ${finding.type} severity ${finding.severity} account ${finding.accountId} ${finding.region}\n`);
    for (const step of result.decision.trace) {
      const indent = '  '.repeat(step.depth + 1);
      io.stdout.write(`${indent}${step.matched ? '✓' : '✗'} ${step.route}${step.failed ? `  (failed: ${step.failed})` : ''}\n`);
    }
    if (result.decision.usedDefault) io.stdout.write('  → no route matched: default\n');
    if (result.suppression) io.stdout.write(`  → suppressed by ${result.suppression.name}: ${result.suppression.reason}\n`);
    for (const q of result.quieted) io.stdout.write(`  → not notified: ${q.target} (${q.reason})\n`);
    for (const r of result.refused) io.stdout.write(`  → refused: ${r.target} (${r.reason})\n`);
    const targets = result.jobs.map((job) => job.target);
    io.stdout.write(`  targets: ${targets.length > 0 ? targets.join(', ') : '(none)'}\n`);
    if (expected !== undefined) {
      const same = sameSet(targets, expected);
      io.stdout.write(`  expect: ${expected.join(', ') || '(none)'} ${same ? 'OK' : 'MISMATCH'}\n`);
      if (!same) mismatches++;
    }
  }
  return mismatches > 0 ? 1 : 0;
};

const printMatrix = async (
  paths: string[],
  config: Awaited<ReturnType<typeof loadRoutesFile>>,
  accounts: ReturnType<typeof staticAccountDirectory>,
  io: Io,
): Promise<number> => {
  const targetNames = [...config.targets.keys()];
  const rows: [string, Set<string>, string][] = [];
  for await (const item of readInputs(paths)) {
    if (item.error) continue;
    const ingested = await ingest(item.value, accounts);
    if (ingested.kind !== 'enriched') continue;
    const result = await route(ingested.enriched, { config, state: memoryFindingState() });
    const note = result.suppression ? `suppressed: ${result.suppression.name}` : result.decision.usedDefault ? 'default' : '';
    rows.push([ingested.enriched.finding.type, new Set(result.jobs.map((j) => j.target)), note]);
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const width = Math.max(12, ...rows.map((r) => r[0].length));
  io.stdout.write(`${'finding type'.padEnd(width)}  ${targetNames.map((t) => t.padEnd(Math.max(3, t.length))).join('  ')}  note\n`);
  for (const [type, targets, note] of rows) {
    const cells = targetNames.map((t) => (targets.has(t) ? '●' : '·').padEnd(Math.max(3, t.length)));
    io.stdout.write(`${type.padEnd(width)}  ${cells.join('  ')}  ${note}\n`);
  }
  const reachesNothing = rows.filter(([, targets]) => targets.size === 0).length;
  io.stdout.write(`\n${rows.length} finding types; ${reachesNothing} reach no target\n`);
  return 0;
};

const splitList = (text: string): string[] => text.split(',').map((s) => s.trim()).filter(Boolean);
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

export { runRoutesTest };
