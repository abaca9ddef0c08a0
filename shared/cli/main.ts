import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';

/**
 * `findings-router <command>`. Exit codes: 0 done (bad events are reported, not fatal),
 * 1 configuration error, failed expectation or crash, 2 usage error.
 */
type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };
type Command = (argv: string[], io: Io) => Promise<number>;

// Each command loads on use: a command's start-up pays only for its own modules (replay does not
// load the SQS client of `dlq`, nor the GuardDuty and Organizations clients of `members`).
const COMMANDS: Record<string, Command> = {
  replay: async (argv, io) => (await import('./replay.ts')).runReplay(argv, io),
  'config check': async (argv, io) => (await import('./config-cmd.ts')).runConfigCheck(argv, io),
  'config schema': async (argv, io) => (await import('./config-cmd.ts')).runConfigSchema(argv, io),
  'routes test': async (argv, io) => (await import('./routes-cmd.ts')).runRoutesTest(argv, io),
  targets: async (argv, io) => (await import('./targets-cmd.ts')).runTargets(argv, io),
  'routes diff': async (argv, io) => (await import('./diff-cmd.ts')).runRoutesDiff(argv, io),
  'dlq list': async (argv, io) => (await import('./dlq-cmd.ts')).runDlqList(argv, io),
  'dlq show': async (argv, io) => (await import('./dlq-cmd.ts')).runDlqShow(argv, io),
  'dlq redrive': async (argv, io) => (await import('./dlq-cmd.ts')).runDlqRedrive(argv, io),
  'dlq export': async (argv, io) => (await import('./dlq-cmd.ts')).runDlqExport(argv, io),
  'members import': async (argv, io) => (await import('../members/cli.ts')).runMembersImport(argv, io),
  'members status': async (argv, io) => (await import('../members/cli.ts')).runMembersStatus(argv, io),
  'members diff': async (argv, io) => (await import('../members/cli.ts')).runMembersDiff(argv, io),
  pull: async (argv, io) => (await import('./pull-cmd.ts')).runPull(argv, io),
};
const HELP = `Usage: findings-router <command> [options]

Commands:
  replay [PATH...]        run findings through the pipeline locally (replay --help)
  targets [--json]        list every target type with its settings
  config check            validate a routes file (and --accounts) with file:line:column errors
  config schema           print the routes file JSON Schema (draft 2020-12)
  routes test EVENT...    show the routing decision trace; --expect t1,t2 to assert; --matrix for coverage
  routes diff             --old A.yml --new B.yml: which findings change targets (exit 2 when any do)
  dlq list                dead letters (--queue delivery|quarantine or --queue-url): age, stage, target, finding, reason
  dlq show MESSAGE_ID     one dead letter in full (JSON, redacted)
  dlq redrive             send letters back after the fix (--target T | --all, --to-queue-url, --to-bus, --dry-run)
  dlq export              every letter as one JSON line (replay accepts the file)
  members import|status|diff  GuardDuty members: import a CSV (invite), status table, expected vs monitored
  pull -o FILE            real findings from GuardDuty (--since 7d, --region, --criteria) as .jsonl for replay/diff
`;

const main = async (argv: string[]): Promise<number> => {
  const io = { stdout: process.stdout, stderr: process.stderr };
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    io.stdout.write(HELP);
    return first === undefined ? 2 : 0;
  }
  const twoWord = second === undefined ? undefined : `${first} ${second}`;
  // Own keys only: `findings-router constructor` is an unknown command, not Object's constructor.
  const command = (key: string): Command | undefined => (Object.hasOwn(COMMANDS, key) ? COMMANDS[key] : undefined);
  const name = twoWord !== undefined && command(twoWord) ? twoWord : first;
  const run = command(name);
  if (run === undefined) {
    io.stderr.write(`findings-router: unknown command '${[first, second].filter(Boolean).join(' ')}'\n${HELP}`);
    return 2;
  }
  try {
    return await run(argv.slice(name.split(' ').length), io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 1;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`findings-router: ${(error as Error).message}\n`);
      return 2;
    }
    io.stderr.write(`findings-router: ${(error as Error).stack ?? error}\n`);
    return 1;
  }
};

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
