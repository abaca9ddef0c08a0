import { readFileSync } from 'node:fs';
import { describeFailure } from './failure.ts';
import { projectFile } from './paths.ts';
import { UsageError } from './usage.ts';

/**
 * `findings-router <command>`. Exit codes: 0 done (bad events are reported, not fatal),
 * 1 configuration error, failed expectation, AWS or runtime error, 2 usage error (see
 * failure.ts), 3 `replay --fail-on` found events of an outcome it names.
 */
type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };
type Command = (argv: string[], io: Io) => Promise<number>;

// Each command loads on use: a command's start-up pays only for its own modules (replay does not
// load the SQS client of `dlq`, nor the GuardDuty and Organizations clients of `members`).
const COMMANDS: Record<string, Command> = {
  replay: async (argv, io) => (await import('./replay-cmd.ts')).runReplay(argv, io),
  'config check': async (argv, io) => (await import('./config-cmd.ts')).runConfigCheck(argv, io),
  'config schema': async (argv, io) => (await import('./config-cmd.ts')).runConfigSchema(argv, io),
  'config publish': async (argv, io) => (await import('./config-cmd.ts')).runConfigPublish(argv, io),
  'config rollback': async (argv, io) => (await import('./config-cmd.ts')).runConfigRollback(argv, io),
  'config status': async (argv, io) => (await import('./config-cmd.ts')).runConfigStatus(argv, io),
  'routes test': async (argv, io) => (await import('./routes-cmd.ts')).runRoutesTest(argv, io),
  targets: async (argv, io) => (await import('./targets-cmd.ts')).runTargets(argv, io),
  'routes diff': async (argv, io) => (await import('./diff-cmd.ts')).runRoutesDiff(argv, io),
  'dlq list': async (argv, io) => (await import('./dlq-cmd.ts')).runDlqList(argv, io),
  'dlq show': async (argv, io) => (await import('./dlq-cmd.ts')).runDlqShow(argv, io),
  'dlq redrive': async (argv, io) => (await import('./dlq-cmd.ts')).runDlqRedrive(argv, io),
  'dlq export': async (argv, io) => (await import('./dlq-cmd.ts')).runDlqExport(argv, io),
  'members import': async (argv, io) => (await import('./members-cmd.ts')).runMembersImport(argv, io),
  'members status': async (argv, io) => (await import('./members-cmd.ts')).runMembersStatus(argv, io),
  'members diff': async (argv, io) => (await import('./members-cmd.ts')).runMembersDiff(argv, io),
  pull: async (argv, io) => (await import('./pull-cmd.ts')).runPull(argv, io),
  'siem setup': async (argv, io) => (await import('./siem-cmd.ts')).runSiemSetup(argv, io),
  'suppressions list': async (argv, io) => (await import('./suppressions-cmd.ts')).runSuppressionsList(argv, io),
  'suppressions show': async (argv, io) => (await import('./suppressions-cmd.ts')).runSuppressionsShow(argv, io),
  'suppressions remove': async (argv, io) => (await import('./suppressions-cmd.ts')).runSuppressionsRemove(argv, io),
  'suppressions export': async (argv, io) => (await import('./suppressions-cmd.ts')).runSuppressionsExport(argv, io),
  'actions simulate': async (argv, io) => (await import('./actions-cmd.ts')).runActionsSimulate(argv, io),
};
const HELP = `Usage: findings-router <command> [options]

Commands:
  replay [PATH...]        run findings through the pipeline locally (replay --help)
  targets [--json]        list every target type with its settings
  config check            validate a routes file (and --accounts) with file:line:column errors
  config schema           print the routes file JSON Schema (draft 2020-12)
  config publish          --routes FILE --ssm PATH: check, then store the routes in SSM for the route stage
  config rollback         --ssm PATH: restore the previous published routes (or --to-version N)
  config status           --stage S: bundled, published and working-tree routes hashes
  routes test EVENT...    show the routing decision trace; --expect t1,t2 to assert; --matrix for coverage
  routes diff             --old A.yml --new B.yml: which findings change targets (exit 2 when any do)
  dlq list                dead letters (--queue delivery|quarantine or --queue-url): age, stage, target, finding, reason
  dlq show MESSAGE_ID     one dead letter in full (JSON, redacted)
  dlq redrive             send letters back after the fix (--target T | --all, --to-queue-url, --to-bus, --dry-run)
  dlq export              every letter as one JSON line (replay accepts the file)
  members import|status|diff  GuardDuty members: import a CSV (invite), status table, expected vs monitored
  pull -o FILE            real findings from GuardDuty (--since 7d, --region, --criteria) as .jsonl for replay/diff
  siem setup              --target NAME: index template, lifecycle policy and dashboard for an elasticsearch target (--dry-run)
  suppressions list|show|remove|export  runtime suppressions ("Suppress similar"): --table NAME or --file FILE; export prints routes.yml entries
  actions simulate        --action A --finding ID --as U123: one chat button press through the whole path, against loopbacks
  help [COMMAND]          this list, or a command's options (same as COMMAND --help)

Options for every command: --help, --debug (stack trace on an unexpected error); --version.
Exit codes: 0 done, 1 configuration, AWS or runtime error (or routes test --expect differs),
2 usage error (also routes diff: targets change), 3 replay --fail-on found a listed outcome.
`;

/** Words that only group subcommands: `findings-router dlq` alone lists them. */
const GROUPS: Record<string, string> = {
  config: 'check | schema | publish | rollback | status',
  routes: 'test | diff',
  dlq: 'list | show | redrive | export',
  members: 'import | status | diff',
  siem: 'setup',
  suppressions: 'list | show | remove | export',
  actions: 'simulate',
};
const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

const main = async (args: string[]): Promise<number> => {
  const io = { stdout: process.stdout, stderr: process.stderr };
  // --debug anywhere: an unexpected error prints its stack trace instead of one line.
  const debug = args.includes('--debug');
  const argv = args.filter((arg) => arg !== '--debug');
  const [first, second] = argv;
  if (first === undefined || isHelp(first) || (first === 'help' && second === undefined)) {
    (first === undefined ? io.stderr : io.stdout).write(HELP);
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V' || first === 'version') {
    io.stdout.write(`findings-router ${version()} (Node.js ${process.versions.node})\n`);
    return 0;
  }
  // `help replay`, `help dlq list`: the command's own --help.
  if (first === 'help') return main([...argv.slice(1), '--help']);
  const twoWord = second === undefined ? undefined : `${first} ${second}`;
  // Own keys only: `findings-router constructor` is an unknown command, not Object's constructor.
  const command = (key: string): Command | undefined => (Object.hasOwn(COMMANDS, key) ? COMMANDS[key] : undefined);
  const name = twoWord !== undefined && command(twoWord) ? twoWord : first;
  const run = command(name);
  if (run === undefined) {
    if (Object.hasOwn(GROUPS, first) && (second === undefined || isHelp(second))) {
      if (second !== undefined) {
        io.stdout.write(`Usage: findings-router ${first} <${GROUPS[first]}> [options]   (findings-router ${first} <subcommand> --help)\n`);
        return 0;
      }
      io.stderr.write(`findings-router ${first}: give a subcommand: ${GROUPS[first]} (findings-router ${first} <subcommand> --help)\n`);
      return 2;
    }
    io.stderr.write(`findings-router: unknown command '${[first, second].filter(Boolean).join(' ')}'\n`);
    return 2;
  }
  try {
    return await run(argv.slice(name.split(' ').length), io);
  } catch (error) {
    if (debug) {
      io.stderr.write(`findings-router ${name}: ${(error as Error).stack ?? error}\n`);
      return error instanceof UsageError ? 2 : 1;
    }
    const failure = describeFailure(error, name);
    io.stderr.write(`${failure.message}\n`);
    return failure.exitCode;
  }
};

const version = (): string => (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string }).version;

// `findings-router ... | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await main(process.argv.slice(2));
// For `npm run bench`: the peak resident set of this program. Linux's VmHWM, not getrusage's
// maxRSS: a spawned child inherits in maxRSS the peak of the parent it was forked from (kept
// across exec), so a large parent such as the bench itself would be counted as ours.
if (process.env.FINDINGS_ROUTER_REPORT_RSS) process.stderr.write(`maxRssKb=${peakRssKb()}\n`);

function peakRssKb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS;
}
