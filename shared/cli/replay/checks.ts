import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RouterConfig } from '../../config/compile.ts';
import { formatProblem } from '../../errors.ts';
import type { Outcome } from './runner.ts';
import { checkInputPaths, checkOutputFile, checkOutputFolder, UsageError } from '../usage.ts';

/**
 * What `replay` checks and prepares before the first event: flag combinations, the paths it
 * reads and writes (a typo or an unwritable `--report` stops the run before it starts, not
 * after an hour), `--fail-on`, fresh file-target outputs, and expired suppressions.
 */

/** Exit code when `--fail-on` finds an event of an outcome it names (1 and 2 keep their meaning). */
const FAIL_ON_EXIT = 3;
const FAIL_ON_OUTCOMES = ['failed', 'rejected', 'ignored', 'suppressed', 'skipped'] as const;
type FailOn = (typeof FAIL_ON_OUTCOMES)[number];

interface ReplayFlags {
  'dry-run'?: boolean;
  send?: boolean;
  payloads?: string | undefined;
  report?: string | undefined;
  'summary-json'?: string | undefined;
  'fail-on'?: string | undefined;
}

const checkReplayFlags = async (values: ReplayFlags, paths: readonly string[]): Promise<{ failOn: FailOn[] }> => {
  if (values['dry-run'] && values.send) throw new UsageError('--dry-run and --send exclude each other (--dry-run sends nothing, --send sends everything)');
  const failOn = parseFailOn(values['fail-on']);
  await checkInputPaths(paths);
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('- (standard input) can be given once');
  if (values.report !== undefined) await checkOutputFile('--report', values.report);
  if (values['summary-json'] !== undefined && values['summary-json'] !== '-') await checkOutputFile('--summary-json', values['summary-json']);
  if (values.payloads !== undefined) await checkOutputFolder('--payloads', values.payloads);
  return { failOn };
};

const parseFailOn = (text: string | undefined): FailOn[] => {
  if (text === undefined) return [];
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(FAIL_ON_OUTCOMES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--fail-on: ${unknown.length > 0 ? `unknown outcome '${unknown[0]}'` : 'give at least one outcome'}; choose from ${FAIL_ON_OUTCOMES.join(', ')}`);
  }
  return names as FailOn[];
};

/** The exit code `--fail-on` asks for, and the line that says why. */
const failOnVerdict = (failOn: readonly FailOn[], counts: { outcomes: Record<string, number>; skipped: number }): { exitCode: number; line?: string } => {
  const hits = failOn.map((name) => [name, name === 'skipped' ? counts.skipped : (counts.outcomes[name as Outcome] ?? 0)] as const).filter(([, n]) => n > 0);
  if (hits.length === 0) return { exitCode: 0 };
  return { exitCode: FAIL_ON_EXIT, line: `replay: --fail-on ${failOn.join(',')}: ${hits.map(([name, n]) => `${n} ${name}`).join(', ')} (exit ${FAIL_ON_EXIT})` };
};

/**
 * Each run starts the files of `file` targets afresh: `out/siem.ndjson` holds this run's
 * findings, not every run's since the clone. Only when the run writes them (not --dry-run).
 */
const startFileTargets = async (config: RouterConfig, dryRun: boolean): Promise<string[]> => {
  if (dryRun) return [];
  const files = [...config.targets.values()].filter((t) => t.type === 'file').map((t) => String(t.settings.path));
  for (const file of new Set(files)) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, '');
  }
  return files;
};

/** One warning per suppression whose `until` has passed: it silently stopped suppressing. */
const expiredSuppressionWarnings = (config: RouterConfig, now = Date.now()): string[] =>
  config.suppressions
    .filter((s) => s.untilMs !== undefined && s.untilMs < now)
    .map((s) =>
      `warning: ${formatProblem({ file: config.file, ...s.location, message: `suppression '${s.name}' expired on ${new Date(s.untilMs!).toISOString()} and no longer applies: the findings it matched are routed${s.owner ? ` (owner ${s.owner})` : ''}` })}`,
    );

export { checkReplayFlags, failOnVerdict, startFileTargets, expiredSuppressionWarnings };
