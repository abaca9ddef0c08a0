import { parseArgs } from 'node:util';
import { ACCOUNTS_CONFIG, staticAccountDirectory } from '../accounts/directory.ts';
import { loadConfig } from '../config/load.ts';
import type { RouterConfig } from '../config/compile.ts';
import { ROUTES_CONFIG } from '../config/routes-config.ts';
import { formatSeverity } from '../severity.ts';
import { runtimeSuppressionsFromFlags, suppressionOrigin, SUPPRESSION_FLAGS, SUPPRESSION_FLAGS_USAGE } from './suppressions/source.ts';
import { ingest, route, type RouteResult } from '../pipeline.ts';
import { memoryFindingState } from '../state/finding-state.ts';
import { terminalSafe } from './terminal-text.ts';
import { BUNDLED } from './paths.ts';
import { readInputsOrStdin } from './stdin-input.ts';
import { checkInputPaths, UsageError } from './usage.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

/**
 * `routes test`: the decision trace for each event (every route in order, matched or not,
 * and for a miss the first condition that failed) and the final targets; exit 1 when
 * `--expect` differs. `--matrix` prints finding types × targets over a corpus.
 */
const USAGE = `Usage: findings-router routes test EVENT... [--expect t1,t2] [--routes FILE] [--accounts FILE]
       findings-router routes test --matrix [PATH...]

For each event (a file as for replay, or - for standard input): every route in order, matched
or not (for a miss, the first condition that failed), suppression, quieted and refused
targets, the digest group a chat target would hold it in, and the final targets.
  --expect      the targets every event must reach (empty: none); exit 1 when one differs,
                naming the missing and extra targets
  --matrix      finding types × targets over a corpus (default: the bundled samples)
${SUPPRESSION_FLAGS_USAGE}Exit codes: 0 as expected, 1 a mismatch or a configuration error, 2 usage error.
`;

const runRoutesTest = async (argv: string[], io: Io): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      routes: { type: 'string' },
      accounts: { type: 'string' },
      expect: { type: 'string' },
      matrix: { type: 'boolean', default: false },
      region: { type: 'string' },
      ...SUPPRESSION_FLAGS,
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (!values.matrix && positionals.length === 0) throw new UsageError('give at least one EVENT file (or --matrix)');
  await checkInputPaths(positionals);
  const config = await loadConfig(ROUTES_CONFIG, { file: values.routes ?? BUNDLED.routes() });
  const accountsFile = values.accounts ?? BUNDLED.accounts();
  const accounts = staticAccountDirectory(await loadConfig(ACCOUNTS_CONFIG, { file: accountsFile }));
  const runtimeSuppressions = values.matrix ? undefined : await runtimeSuppressionsFromFlags(values, (line) => io.stderr.write(`warning: ${terminalSafe(line)}\n`));
  if (values.matrix) return printMatrix(positionals.length > 0 ? positionals : [BUNDLED.samples()], config, accounts, io);
  const expected = values.expect === undefined ? undefined : splitList(values.expect);
  const unknown = expected?.filter((name) => !config.targets.has(name)) ?? [];
  if (unknown.length > 0) {
    throw new UsageError(`--expect: no target named ${unknown.map((n) => `'${n}'`).join(', ')} in ${config.file} (targets: ${[...config.targets.keys()].join(', ')})`);
  }
  let mismatches = 0;
  for await (const item of readInputsOrStdin(positionals)) {
    const source = terminalSafe(item.source);
    if (item.error) {
      io.stdout.write(`${source}: rejected: ${terminalSafe(item.error)}\n`);
      mismatches += expected ? 1 : 0;
      continue;
    }
    const ingested = await ingest(item.value, accounts);
    if (ingested.kind !== 'enriched') {
      io.stdout.write(`${source}: ${ingested.kind}: ${terminalSafe(ingested.reason)}\n`);
      mismatches += expected ? 1 : 0;
      continue;
    }
    const result = await route(ingested.enriched, { config, state: memoryFindingState(), ...(runtimeSuppressions ? { runtimeSuppressions } : {}) });
    const { finding } = ingested.enriched;
    io.stdout.write(`${source}: ${terminalSafe(finding.type)} severity ${formatSeverity(finding.severity)} account ${finding.accountId} ${terminalSafe(finding.region)}\n`);
    for (const step of result.decision.trace) {
      const indent = '  '.repeat(step.depth + 1);
      io.stdout.write(`${indent}${step.matched ? '✓' : '✗'} ${step.route}${step.failed ? `  (failed: ${step.failed})` : ''}\n`);
    }
    if (result.decision.usedDefault) io.stdout.write('  → no route matched: default\n');
    if (result.suppression) io.stdout.write(`  → suppressed by ${result.suppression.name} (${terminalSafe(suppressionOrigin(result.suppression))}): ${terminalSafe(result.suppression.reason)}\n`);
    for (const q of result.quieted) io.stdout.write(`  → not notified: ${q.target} (${q.reason})\n`);
    for (const r of result.refused) io.stdout.write(`  → refused: ${r.target} (${r.reason})\n`);
    for (const line of groupingLines(result)) io.stdout.write(`  → ${line}\n`);
    const targets = result.jobs.map((job) => job.target);
    io.stdout.write(`  targets: ${targets.length > 0 ? targets.join(', ') : '(none)'}\n`);
    if (expected !== undefined) {
      const missing = expected.filter((t) => !targets.includes(t));
      const extra = targets.filter((t) => !expected.includes(t));
      const same = missing.length === 0 && extra.length === 0;
      const diff = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `extra ${extra.join(', ')}` : ''].filter(Boolean).join('; ');
      io.stdout.write(`  expect: ${expected.join(', ') || '(none)'} ${same ? 'OK' : `MISMATCH: ${diff}`}\n`);
      if (!same) mismatches++;
    }
  }
  return mismatches > 0 ? 1 : 0;
};

const printMatrix = async (
  paths: string[],
  config: RouterConfig,
  accounts: ReturnType<typeof staticAccountDirectory>,
  io: Io,
): Promise<number> => {
  const targetNames = [...config.targets.keys()];
  // One row per finding type and outcome: findings of one type that reach the same targets share a row.
  const rows = new Map<string, { type: string; targets: Set<string>; note: string; findings: number }>();
  let findings = 0;
  let skipped = 0;
  for await (const item of readInputsOrStdin(paths)) {
    if (item.error) {
      skipped++;
      continue;
    }
    const ingested = await ingest(item.value, accounts);
    if (ingested.kind !== 'enriched') {
      skipped++;
      continue;
    }
    findings++;
    const result = await route(ingested.enriched, { config, state: memoryFindingState() });
    const note = result.suppression ? `suppressed: ${result.suppression.name}` : result.decision.usedDefault ? 'default' : '';
    const targets = new Set(result.jobs.map((j) => j.target));
    const type = terminalSafe(ingested.enriched.finding.type);
    const key = JSON.stringify([type, [...targets].sort(), note]);
    const row = rows.get(key) ?? { type, targets, note, findings: 0 };
    row.findings++;
    rows.set(key, row);
  }
  const sorted = [...rows.values()].sort((a, b) => a.type.localeCompare(b.type) || a.note.localeCompare(b.note));
  const width = Math.max(12, ...sorted.map((r) => r.type.length));
  io.stdout.write(`${'finding type'.padEnd(width)}  ${'findings'}  ${targetNames.map((t) => t.padEnd(Math.max(3, t.length))).join('  ')}  note\n`);
  for (const { type, targets, note, findings: n } of sorted) {
    const cells = targetNames.map((t) => (targets.has(t) ? '●' : '·').padEnd(Math.max(3, t.length)));
    io.stdout.write(`${type.padEnd(width)}  ${String(n).padStart(8)}  ${cells.join('  ')}  ${note}\n`);
  }
  const types = new Set(sorted.map((r) => r.type)).size;
  const typesReachingNothing = new Set(sorted.filter((r) => r.targets.size === 0).map((r) => r.type)).size;
  const notRouted = skipped > 0 ? `; ${plural(skipped, 'event')} rejected or ignored (routes test EVENT says why)` : '';
  io.stdout.write(`\n${plural(findings, 'finding')} of ${plural(types, 'finding type')}; ${typesReachingNothing} type(s) reach no target${notRouted}\n`);
  return 0;
};

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Where a chat target would hold the finding for a digest (a route with `group`), or why it would not. */
const groupingLines = (result: RouteResult): string[] =>
  result.decision.targets.flatMap((target) => {
    const grouping = result.decision.via.get(target)?.find((r) => r.group);
    if (grouping?.group === undefined) return [];
    const job = result.jobs.find((j) => j.target === target);
    if (job?.digest !== undefined) {
      return [`grouped: ${target} joins digest group '${terminalSafe(job.digest.key)}' (route ${grouping.name}, by ${grouping.group.by.join(', ')}, window ${windowText(job.digest.windowMs)})`];
    }
    if (job === undefined) return [];
    const why = result.suppression ? 'suppressed findings are not grouped' : 'Critical findings and targets that are not chat go at once';
    return [`not grouped: ${target} (route ${grouping.name} groups, but ${why})`];
  });

const windowText = (ms: number): string => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

const splitList = (text: string): string[] => text.split(',').map((s) => s.trim()).filter(Boolean);

export { runRoutesTest };
