import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { loadAccounts } from '../accounts.ts';
import '../config/load.ts'; // registers the regex engine for the CLI
import { checkRoutesText, shadowedRoutes } from '../config/routes-check.ts';
import { CommonTargetSettingsSchema, RoutesFileSchema } from '../config/schema.ts';
import { ConfigError, formatProblem, type ConfigProblem } from '../errors.ts';
import { TARGET_DEFINITIONS } from '../targets/registry.ts';
import { BUNDLED } from './paths.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

/**
 * `config check`: everything the loader checks, plus what only a whole-file look can see:
 * routes shadowed by an earlier catch-all sibling, jurisdiction leaks, expired
 * suppressions. Exit 1 when there are errors.
 */
const runConfigCheck = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({ args: argv, options: { routes: { type: 'string' }, accounts: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    io.stdout.write(CHECK_USAGE);
    return 0;
  }
  const routesFile = values.routes ?? BUNDLED.routes();
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  try {
    const checked = await checkRoutesText(await readConfigText(routesFile, 'routes'), routesFile);
    errors.push(...checked.errors);
    warnings.push(...checked.warnings);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors.push(...error.problems);
  }
  if (values.accounts !== undefined) {
    try {
      loadAccounts(await readConfigText(values.accounts, 'accounts'), values.accounts);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(...error.problems);
    }
  }
  for (const w of warnings) io.stderr.write(`${formatProblem(w)} (warning)\n`);
  for (const e of errors) io.stderr.write(`${formatProblem(e)}\n`);
  if (errors.length > 0) {
    io.stderr.write(`config check: ${errors.length} error(s), ${warnings.length} warning(s)\n`);
    return 1;
  }
  io.stdout.write(`config check: ${routesFile} is valid (${warnings.length} warning(s))\n`);
  return 0;
};

const CHECK_USAGE = `Usage: findings-router config check [--routes FILE] [--accounts FILE]

Validates a routes file (default: routes.example.yml) and an accounts file: every problem as
file:line:column: message; warnings for expired suppressions. Exit 1 when there are errors.
`;

const SCHEMA_USAGE = `Usage: findings-router config schema

Prints the routes file JSON Schema (draft 2020-12) on stdout (npm run schema writes routes.schema.json).
`;

/** A file that cannot be read is a located configuration problem, not a stack trace. */
const readConfigText = async (file: string, what: string): Promise<string> => {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ file, line: 1, column: 1, message: `cannot read ${what} file (${(cause as { code?: string }).code ?? cause})` }], { cause });
  }
};

/** `config schema`: JSON Schema (draft 2020-12) of the routes file, from the same zod schemas. */
const runConfigSchema = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    io.stdout.write(SCHEMA_USAGE);
    return 0;
  }
  io.stdout.write(`${JSON.stringify(routesJsonSchema(), null, 2)}\n`);
  return 0;
};

const routesJsonSchema = (): unknown => {
  const targetSchemas = TARGET_DEFINITIONS.map((d) => z.extend(d.configSchema as never, CommonTargetSettingsSchema.def.shape));
  const editorSchema = z.extend(RoutesFileSchema, {
    targets: z.record(z.string(), z.union(targetSchemas as unknown as [z.ZodMiniType, z.ZodMiniType, ...z.ZodMiniType[]])),
  });
  return {
    ...z.toJSONSchema(editorSchema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' }),
    title: 'findings-router routes file',
  };
};

export { runConfigCheck, runConfigSchema, routesJsonSchema, shadowedRoutes };
