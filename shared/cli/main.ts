import { ConfigError } from '../errors.ts';
import { runReplay } from './replay.ts';

/**
 * `findings-router <command>`. Exit codes: 0 done (bad events are reported, not fatal),
 * 1 configuration error or crash, 2 usage error.
 */
const COMMANDS: Record<string, (argv: string[], io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }) => Promise<number>> = {
  replay: runReplay,
};

const HELP = `Usage: findings-router <command> [options]

Commands:
  replay    run findings through the pipeline locally (see: findings-router replay --help)
`;

const main = async (argv: string[]): Promise<number> => {
  const [command, ...rest] = argv;
  const io = { stdout: process.stdout, stderr: process.stderr };
  if (command === undefined || command === '--help' || command === '-h') {
    io.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    io.stderr.write(`findings-router: unknown command '${command}'\n${HELP}`);
    return 2;
  }
  try {
    return await run(rest, io);
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
