import { terminalSafe } from '../terminal-text.ts';
import { UsageError } from '../usage.ts';
import type { CompiledSuppression } from '../../config/compile.ts';
import { compileRuntimeSuppression } from '../../suppressions/compile.ts';
import { fileSuppressionStore } from './file-store.ts';
import { actorLabel, isExpired, type BadSuppressionRow, type RuntimeSuppression, type SuppressionStore } from '../../suppressions/model.ts';

/**
 * Where the CLI reads runtime suppressions from: a DynamoDB table (`--suppressions-table` in
 * replay, routes test and config check; `--table` in `suppressions`), or a local file of JSON
 * lines (`--suppressions FILE`; `--file`), the lines `suppressions list --json` prints. Replay
 * takes either: the table for "what would happen now", the file to replay the same
 * suppressions offline and in CI without AWS credentials.
 */
interface SuppressionSourceFlags {
  table?: string | undefined;
  file?: string | undefined;
  region?: string | undefined;
}

interface OpenedSource {
  store: SuppressionStore;
  /** `table NAME` or `file PATH`, for messages. */
  label: string;
}

/** Undefined when neither flag is given; the DynamoDB client is loaded only for a table. */
const openSuppressionSource = async (flags: SuppressionSourceFlags): Promise<OpenedSource | undefined> => {
  if (flags.table !== undefined && flags.file !== undefined) throw new UsageError('give either a suppressions table or a suppressions file, not both');
  if (flags.file !== undefined) return { store: fileSuppressionStore(flags.file), label: `file ${flags.file}` };
  if (flags.table === undefined) return undefined;
  const { suppressionsTable } = await import('../../aws/suppressions-table.ts');
  return { store: suppressionsTable(flags.region, flags.table), label: `table ${flags.table}` };
};

interface LoadedRuntimeSuppressions {
  /** Those that apply at `now`, in the form the route stage takes. */
  active: CompiledSuppression[];
  expired: RuntimeSuppression[];
  bad: BadSuppressionRow[];
  truncated: boolean;
  label: string;
}

const loadRuntimeSuppressions = async (source: OpenedSource, now: number): Promise<LoadedRuntimeSuppressions> => {
  const listing = await source.store.list();
  return {
    active: listing.suppressions.filter((s) => !isExpired(s, now)).map(compileRuntimeSuppression),
    expired: listing.suppressions.filter((s) => isExpired(s, now)),
    bad: listing.bad,
    truncated: listing.truncated === true,
    label: source.label,
  };
};

/** The warning lines `config check` and replay print: expired ones (no longer applying), bad rows, a cut-off read. */
const runtimeSuppressionWarnings = (loaded: LoadedRuntimeSuppressions): string[] => [
  ...loaded.expired.map(
    (s) => `${loaded.label}: runtime suppression runtime:${s.id} expired on ${s.expiresAt} and no longer applies: ${s.conditions.type} on ${s.conditions.resourceId} in ${s.conditions.accountId} (owner ${actorLabel(s.createdBy)})`,
  ),
  ...loaded.bad.map((b) => `${loaded.label}: ${b.where}: skipped, not a valid runtime suppression: ${b.reason}`),
  ...(loaded.truncated ? [`${loaded.label}: more suppressions than one read takes; only the first ones were read`] : []),
];


/**
 * For replay, routes test and config check: the runtime suppressions named by `--suppressions
 * FILE` / `--suppressions-table NAME` (`--region`), warnings (expired, bad rows) written through
 * `warn` (terminal-safe); undefined when neither flag was given.
 */
const runtimeSuppressionsFromFlags = async (
  flags: { suppressions?: string | undefined; 'suppressions-table'?: string | undefined; region?: string | undefined },
  warn: (line: string) => void,
  now: number = Date.now(),
): Promise<CompiledSuppression[] | undefined> => {
  const source = await openSuppressionSource({ file: flags.suppressions, table: flags['suppressions-table'], region: flags.region });
  if (source === undefined) return undefined;
  const loaded = await loadRuntimeSuppressions(source, now);
  for (const line of runtimeSuppressionWarnings(loaded)) warn(terminalSafe(line));
  return loaded.active;
};

/** How routes test names where a suppression came from: a runtime one with its owner and expiry. */
const suppressionOrigin = (suppression: CompiledSuppression): string =>
  suppression.name.startsWith('runtime:')
    ? `runtime suppression, owner ${suppression.owner ?? 'unknown'}, until ${suppression.untilMs === undefined ? '?' : new Date(suppression.untilMs).toISOString()}`
    : 'routes.yml suppress:';

/** The flags, for parseArgs in each command that takes them. */
const SUPPRESSION_FLAGS = {
  suppressions: { type: 'string' },
  'suppressions-table': { type: 'string' },
} as const;
const SUPPRESSION_FLAGS_USAGE = `  --suppressions FILE        also apply these runtime suppressions (JSON lines: suppressions list --json)
  --suppressions-table NAME  also apply the runtime suppressions in this DynamoDB table (--region)
`;

export { openSuppressionSource, runtimeSuppressionWarnings, runtimeSuppressionsFromFlags, suppressionOrigin, SUPPRESSION_FLAGS, SUPPRESSION_FLAGS_USAGE };
export type { OpenedSource };
