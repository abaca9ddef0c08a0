import { parseArgs } from 'node:util';
import { suppressionsYaml } from './suppressions/export-yaml.ts';
import { actorLabel, ID_PATTERN, isExpired, SuppressionError, type RuntimeSuppression } from '../suppressions/model.ts';
import { openSuppressionSource, runtimeSuppressionWarnings, type OpenedSource } from './suppressions/source.ts';
import { terminalSafe } from './terminal-text.ts';
import { UsageError } from './usage.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

/**
 * `suppressions list|show|remove|export`: the runtime suppressions "Suppress similar" made, in
 * the DynamoDB table (`--table`, the stack output SuppressionsTableName) or a local file
 * (`--file`, JSON lines as `list --json` prints them). Finding-derived text is printed through
 * terminalSafe; `export` writes YAML through the YAML library, which quotes what needs it.
 */
const USAGE = `Usage: findings-router suppressions list [--json] [--table NAME [--region R] | --file FILE]
       findings-router suppressions show ID   (--table NAME | --file FILE)
       findings-router suppressions remove ID (--table NAME | --file FILE)
       findings-router suppressions export [--include-expired] (--table NAME | --file FILE)

Runtime suppressions ("Suppress similar" from chat): same meaning as routes.yml suppress: entries
(audit targets still receive), each expiring. ID is the 16-hex id (runtime:ID also accepted).
  --table     the DynamoDB table (stack output SuppressionsTableName); --region its region
  --file      a local file of JSON lines (what list --json prints; replay --suppressions reads it)
  --json      list: one stored suppression per line, the file format
  export      prints suppress: entries to paste into routes.yml (expired ones left out unless
              --include-expired); check the result with config check
Rows that fail the checks are reported on standard error and skipped.
Exit codes: 0 done, 1 not found or an AWS/file error, 2 usage error.
`;

const OPTIONS = {
  table: { type: 'string' },
  file: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean', default: false },
  'include-expired': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const parse = (argv: string[]) => parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });

/** The source, or the usage error naming what to give. */
const sourceOf = async (values: ReturnType<typeof parse>['values']): Promise<OpenedSource> => {
  const source = await openSuppressionSource({ table: values.table, file: values.file, region: values.region });
  if (source === undefined) throw new UsageError('give --table NAME (the stack output SuppressionsTableName) or --file FILE');
  return source;
};

const idArgument = (positionals: string[], command: string): string => {
  if (positionals.length !== 1) throw new UsageError(`${command} takes one suppression ID`);
  const id = positionals[0]!.replace(/^runtime:/, '');
  if (!ID_PATTERN.test(id)) throw new UsageError(`'${terminalSafe(positionals[0]!.slice(0, 80))}' is not a suppression id (16 hex digits, as list shows)`);
  return id;
};

const withHelp = (run: (values: ReturnType<typeof parse>['values'], positionals: string[], io: Io) => Promise<number>) =>
  async (argv: string[], io: Io): Promise<number> => {
    const { values, positionals } = parse(argv);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    return run(values, positionals, io);
  };

const reportBad = (io: Io, lines: readonly string[]) => {
  for (const line of lines) io.stderr.write(`warning: ${terminalSafe(line)}\n`);
};

const runSuppressionsList = withHelp(async (values, positionals, io) => {
  if (positionals.length > 0) throw new UsageError('list takes no arguments');
  const source = await sourceOf(values);
  const listing = await source.store.list();
  const now = Date.now();
  reportBad(io, runtimeSuppressionWarnings({ active: [], expired: [], bad: listing.bad, truncated: listing.truncated === true, label: source.label }));
  const rows = [...listing.suppressions].sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  if (values.json) {
    for (const row of rows) io.stdout.write(`${JSON.stringify(row)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.stdout.write(`no runtime suppressions in ${terminalSafe(source.label)}\n`);
    return 0;
  }
  for (const s of rows) {
    const state = isExpired(s, now) ? `expired ${s.expiresAt}` : `until ${s.expiresAt}`;
    io.stdout.write(`${s.id}  ${state}  ${terminalSafe(s.conditions.type)}  ${s.conditions.accountId}  ${terminalSafe(s.conditions.resourceId)}  by ${terminalSafe(actorLabel(s.createdBy))}: ${terminalSafe(s.reason)}\n`);
  }
  return 0;
});

const runSuppressionsShow = withHelp(async (values, positionals, io) => {
  const id = idArgument(positionals, 'show');
  const source = await sourceOf(values);
  let found: RuntimeSuppression | undefined;
  try {
    found = await source.store.get(id);
  } catch (error) {
    // A malformed row: its fields are untrusted text, so the one line goes through terminalSafe.
    if (!(error instanceof SuppressionError)) throw error;
    io.stderr.write(`findings-router suppressions show: ${terminalSafe(error.message)}\n`);
    return 1;
  }
  if (found === undefined) return notFound(io, 'show', id, source);
  io.stdout.write(describe(found, Date.now()));
  return 0;
});

const runSuppressionsRemove = withHelp(async (values, positionals, io) => {
  const id = idArgument(positionals, 'remove');
  const source = await sourceOf(values);
  if (!(await source.store.remove(id))) return notFound(io, 'remove', id, source);
  io.stdout.write(`removed runtime:${id} from ${terminalSafe(source.label)}; the route stage stops applying it within its cache time (60 s)\n`);
  return 0;
});

const runSuppressionsExport = withHelp(async (values, positionals, io) => {
  if (positionals.length > 0) throw new UsageError('export takes no arguments');
  const source = await sourceOf(values);
  const listing = await source.store.list();
  const now = Date.now();
  reportBad(io, runtimeSuppressionWarnings({ active: [], expired: [], bad: listing.bad, truncated: listing.truncated === true, label: source.label }));
  const chosen = listing.suppressions.filter((s) => values['include-expired'] || !isExpired(s, now)).sort((a, b) => a.id.localeCompare(b.id));
  const left = listing.suppressions.length - chosen.length;
  io.stdout.write(suppressionsYaml(chosen));
  io.stderr.write(`exported ${chosen.length} suppression(s) from ${terminalSafe(source.label)}${left > 0 ? `; ${left} expired left out (--include-expired)` : ''}\n`);
  return 0;
});

const notFound = (io: Io, command: string, id: string, source: OpenedSource): number => {
  io.stderr.write(`findings-router suppressions ${command}: no suppression ${id} in ${terminalSafe(source.label)} (suppressions list shows the ids)\n`);
  return 1;
};

const describe = (s: RuntimeSuppression, now: number): string =>
  [
    `id:           ${s.id} (route results name it runtime:${s.id})`,
    `status:       ${isExpired(s, now) ? 'expired, no longer applies' : 'active'}`,
    `expires:      ${s.expiresAt}`,
    `type:         ${terminalSafe(s.conditions.type)}`,
    `account:      ${s.conditions.accountId}`,
    `resource:     ${terminalSafe(s.conditions.resourceType)} ${terminalSafe(s.conditions.resourceId)}`,
    `reason:       ${terminalSafe(s.reason)}`,
    `created by:   ${terminalSafe(actorLabel(s.createdBy))} at ${s.createdAt}`,
    `from finding: ${terminalSafe(s.sourceFindingId)}`,
    '',
  ].join('\n');

export { runSuppressionsList, runSuppressionsShow, runSuppressionsRemove, runSuppressionsExport, USAGE as SUPPRESSIONS_USAGE };
