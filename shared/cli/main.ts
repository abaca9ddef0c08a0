import { ConfigError } from '../errors.ts';
import { runConfigCheck, runConfigSchema } from './config-cmd.ts';
import { runReplay } from './replay.ts';
import { runRoutesTest } from './routes-cmd.ts';

/**
 * `findings-router <command>`. Exit codes: 0 done (bad events are reported, not fatal),
 * 1 configuration error, failed expectation or crash, 2 usage error.
 */
type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };
type Command = (argv: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  replay: runReplay,
  'config check': runConfigCheck,
  'config schema': runConfigSchema,
  'routes test': runRoutesTest,
};

const HELP = `Usage: findings-router <command> [options]

Commands:
  replay [PATH...]        run findings through the pipeline locally (replay --help)
  config check            validate a routes file (and --accounts) with file:line:column errors
  config schema           print the routes file JSON Schema (draft 2020-12)
  routes test EVENT...    show the routing decision trace; --expect t1,t2 to assert; --matrix for coverage
`;

const main = async (argv: string[]): Promise<number> => {
  const io = { stdout: process.stdout, stderr: process.stderr };
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    io.stdout.write(HELP);
    return first === undefined ? 2 : 0;
  }
  const twoWord = second === undefined ? undefined : `${first} ${second}`;
  const name = twoWord !== undefined && COMMANDS[twoWord] ? twoWord : first;
  const run = COMMANDS[name];
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

process.exitCode = await main(process.argv.slice(2));
