import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { ACCOUNTS_CONFIG } from '../accounts/directory.ts';
import { loadConfig, readConfigText } from '../config/load.ts';
import { checkRoutesText, type RoutesCheck } from './config/routes-check.ts';
import { ROUTES_CONFIG } from '../config/routes-config.ts';
import { ADVANCED_TIER_BYTES, decodeRoutesDocument, encodeRoutesDocument, routesSha256, tierFor, type RoutesDocument } from '../config/ssm-document.ts';
import { CommonTargetSettingsSchema, RoutesFileSchema } from '../config/schema.ts';
import { ConfigError, formatProblem, type ConfigProblem } from '../errors.ts';
import { TARGET_DEFINITIONS } from '../targets/registry.ts';
import { BUNDLED, projectFile } from './paths.ts';
import { UsageError } from './usage.ts';
import { runtimeSuppressionsFromFlags, SUPPRESSION_FLAGS, SUPPRESSION_FLAGS_USAGE } from './suppressions/source.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

/**
 * `config check`: everything the loader checks, plus what only a whole-file look can see:
 * routes shadowed by an earlier catch-all sibling, jurisdiction leaks, expired
 * suppressions. Exit 1 when there are errors.
 */
const runConfigCheck = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({ args: argv, options: { routes: { type: 'string' }, accounts: { type: 'string' }, region: { type: 'string' }, ...SUPPRESSION_FLAGS, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    io.stdout.write(CHECK_USAGE);
    return 0;
  }
  const routesFile = values.routes ?? BUNDLED.routes();
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  try {
    const checked = await checkRoutesText(await readConfigText('routes', routesFile), routesFile);
    errors.push(...checked.errors);
    warnings.push(...checked.warnings);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors.push(...error.problems);
  }
  if (values.accounts !== undefined) {
    try {
      await loadConfig(ACCOUNTS_CONFIG, { file: values.accounts });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(...error.problems);
    }
  }
  // Runtime suppressions (--suppressions FILE / --suppressions-table NAME): expired ones and bad rows are warnings.
  const runtimeWarnings: string[] = [];
  await runtimeSuppressionsFromFlags(values, (line) => runtimeWarnings.push(line));
  for (const w of warnings) io.stderr.write(`${formatProblem(w)} (warning)\n`);
  for (const line of runtimeWarnings) io.stderr.write(`${line} (warning)\n`);
  for (const e of errors) io.stderr.write(`${formatProblem(e)}\n`);
  if (errors.length > 0) {
    io.stderr.write(`config check: ${errors.length} error(s), ${warnings.length + runtimeWarnings.length} warning(s)\n`);
    return 1;
  }
  io.stdout.write(`config check: ${routesFile} is valid (${warnings.length + runtimeWarnings.length} warning(s))\n`);
  return 0;
};

const CHECK_USAGE = `Usage: findings-router config check [--routes FILE] [--accounts FILE]

Validates a routes file (default: routes.example.yml) and an accounts file: every problem as
file:line:column: message; warnings for expired suppressions. Exit 1 when there are errors.
${SUPPRESSION_FLAGS_USAGE.replaceAll('also apply', 'also check')}`;

const SCHEMA_USAGE = `Usage: findings-router config schema

Prints the routes file JSON Schema (draft 2020-12) on stdout (npm run schema writes routes.schema.json).
`;

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

// ---------------------------------------------------------------- routes in SSM (issue 21)

const PUBLISH_USAGE = `Usage: findings-router config publish --routes FILE --ssm PATH [--region REGION]

Checks FILE exactly as config check does and, only when it has no errors, stores it in the SSM
String parameter PATH (e.g. /findings-router/prod/routes) as the routes document the route stage
runs (serverless.yml params.<stage>.routesSsmPath), with its sha256. Over 4 KB encoded it uses the
advanced tier; over 8 KB it is refused (bundle the file instead). SSM keeps the previous version
for config rollback. Needs ssm:GetParameter and ssm:PutParameter on PATH. Exit 1 when refused.
`;

const ROLLBACK_USAGE = `Usage: findings-router config rollback --ssm PATH [--to-version N] [--region REGION]

Puts the previous version of the routes document at PATH (or version N) back as the newest
version, after checking it as config check does. Needs ssm:GetParameterHistory and ssm:PutParameter on PATH.
`;

const STATUS_USAGE = `Usage: findings-router config status --stage STAGE [--stack NAME] [--routes FILE] [--region REGION]

Which routes the stage runs: the bundled routes' sha256 (stack output BundledRoutesHash of
findings-router-STAGE), the document published at its routesSsmPath (stack output RoutesSsmPath)
with its sha256 and whether it passes config check, and whether the working tree's routes file
(--routes, default params.STAGE.routes in serverless.yml) matches either.
`;

const short = (sha256: string) => `sha256:${sha256}`;

const ssmPathOf = (path: string | undefined): string => {
  if (path === undefined) throw new UsageError('--ssm PATH is required (e.g. --ssm /findings-router/prod/routes)');
  if (!/^\/[\w.\-/]{1,1010}$/.test(path)) throw new UsageError(`--ssm ${JSON.stringify(path)}: an SSM parameter path starts with / and holds letters, digits, _ . - and /`);
  return path;
};

/** Problems as config check prints them; true when there are errors. */
const reportCheck = (checked: RoutesCheck, io: Io): boolean => {
  for (const w of checked.warnings) io.stderr.write(`${formatProblem(w)} (warning)\n`);
  for (const e of checked.errors) io.stderr.write(`${formatProblem(e)}\n`);
  return checked.config === undefined || checked.errors.length > 0;
};

/** A stored value checked like a file: the document's shape and hash, then config check on its YAML. */
const checkStoredValue = async (value: string, path: string): Promise<{ document?: RoutesDocument; problems: string[] }> => {
  let document: RoutesDocument | undefined;
  try {
    document = decodeRoutesDocument(value, `ssm:${path}`);
    await loadConfig(ROUTES_CONFIG, { ssm: document, path });
    return { document, problems: [] };
  } catch (error) {
    if (error instanceof ConfigError) return { ...(document ? { document } : {}), problems: error.problems.map(formatProblem) };
    throw error;
  }
};

const runConfigPublish = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({ args: argv, options: { routes: { type: 'string' }, ssm: { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    io.stdout.write(PUBLISH_USAGE);
    return 0;
  }
  if (values.routes === undefined) throw new UsageError('--routes FILE is required');
  const path = ssmPathOf(values.ssm);
  const yaml = await readConfigText('routes', values.routes);
  const checked = await checkRoutesText(yaml, values.routes);
  if (reportCheck(checked, io)) {
    io.stderr.write(`config publish: ${checked.errors.length} error(s): nothing published to ${path}\n`);
    return 1;
  }
  const document: RoutesDocument = { sha256: routesSha256(yaml), publishedAt: new Date().toISOString(), source: values.routes, yaml };
  const value = encodeRoutesDocument(document);
  const tier = tierFor(value);
  if ('tooLarge' in tier) {
    io.stderr.write(`config publish: ${values.routes} is ${tier.bytes} bytes as a routes document; an SSM parameter holds at most ${ADVANCED_TIER_BYTES} (advanced tier): deploy it bundled (params.<stage>.routes) instead, or shorten it. Nothing published.\n`);
    return 1;
  }
  const { readCurrent, ssmClient, writeVersion } = await import('../aws/ssm-routes-store.ts');
  const ssm = ssmClient(values.region);
  const previous = await readCurrent(ssm, path);
  const previousHash = previous === undefined ? undefined : (await checkStoredValue(previous.value, path)).document?.sha256;
  if (previousHash === document.sha256) {
    io.stdout.write(`config publish: ${path} already holds ${values.routes} (${short(document.sha256)}, version ${previous!.version}); nothing to publish\n`);
    return 0;
  }
  const version = await writeVersion(ssm, path, value, tier.tier, `findings-router routes ${short(document.sha256)} from ${values.routes}`);
  io.stdout.write(`config publish: ${values.routes} (${short(document.sha256)}, ${tier.bytes} bytes, ${tier.tier === 'Advanced' ? 'advanced tier' : 'standard tier unless already advanced'}) is version ${version} of ${path}\n`);
  io.stdout.write(
    previous === undefined
      ? 'config publish: first version; the route stage picks it up within its cache time (60 s by default)\n'
      : `config publish: previous: version ${previous.version}${previousHash ? ` (${short(previousHash)})` : ' (not a valid routes document)'}; config rollback --ssm ${path} restores it\n`,
  );
  return 0;
};

const runConfigRollback = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({ args: argv, options: { ssm: { type: 'string' }, 'to-version': { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    io.stdout.write(ROLLBACK_USAGE);
    return 0;
  }
  const path = ssmPathOf(values.ssm);
  const wanted = values['to-version'] === undefined ? undefined : Number(values['to-version']);
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted > 0)) throw new UsageError(`--to-version expects a version number, got ${JSON.stringify(values['to-version'])}`);
  const { isParameterNotFound, readHistory, ssmClient, writeVersion } = await import('../aws/ssm-routes-store.ts');
  const ssm = ssmClient(values.region);
  const history = await readHistory(ssm, path).catch((error: unknown) => {
    if (isParameterNotFound(error)) throw new UsageError(`${path}: no such parameter (nothing was published there)`, { cause: error });
    throw error;
  });
  const current = history.at(-1);
  const target = wanted === undefined ? history.at(-2) : history.find((v) => v.version === wanted);
  if (current === undefined || target === undefined) {
    io.stderr.write(
      wanted === undefined
        ? `config rollback: ${path} has only version ${current?.version ?? '(none)'}: nothing to roll back to\n`
        : `config rollback: ${path} has no version ${wanted} (versions kept: ${history.map((v) => v.version).join(', ')})\n`,
    );
    return 1;
  }
  if (target.version === current.version) {
    io.stdout.write(`config rollback: version ${target.version} is already the current one\n`);
    return 0;
  }
  const { document, problems } = await checkStoredValue(target.value, `${path}@${target.version}`);
  if (document === undefined || problems.length > 0) {
    for (const line of problems) io.stderr.write(`${line}\n`);
    io.stderr.write(`config rollback: version ${target.version} fails config check; not restored (choose another with --to-version)\n`);
    return 1;
  }
  const tier = tierFor(target.value);
  const version = await writeVersion(ssm, path, target.value, 'tooLarge' in tier ? 'Advanced' : tier.tier, `findings-router routes ${short(document.sha256)} from ${document.source} (rollback to version ${target.version})`);
  io.stdout.write(`config rollback: ${path} version ${version} is version ${target.version}'s routes (${short(document.sha256)}, ${document.source}, published ${document.publishedAt}); version ${current.version} stays in the history\n`);
  return 0;
};

const runConfigStatus = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({ args: argv, options: { stage: { type: 'string' }, stack: { type: 'string' }, routes: { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    io.stdout.write(STATUS_USAGE);
    return 0;
  }
  if (values.stage === undefined) throw new UsageError('--stage STAGE is required (e.g. --stage prod)');
  const stackName = values.stack ?? `findings-router-${values.stage}`;
  const outputs = await stackOutputs(stackName, values.region);
  const bundled = outputs.BundledRoutesHash?.replace(/^sha256:/, '') || undefined;
  const ssmPath = outputs.RoutesSsmPath || undefined;
  io.stdout.write(`stack      ${stackName}\n`);
  io.stdout.write(`bundled    ${bundled ? short(bundled) : '(no BundledRoutesHash output: deployed before config status existed)'}\n`);
  let published: string | undefined;
  let publishedValid = false;
  if (ssmPath === undefined) {
    io.stdout.write('published  (SSM mode off: routesSsmPath is empty)\n');
  } else {
    const { readCurrent, ssmClient } = await import('../aws/ssm-routes-store.ts');
    const current = await readCurrent(ssmClient(values.region), ssmPath);
    if (current === undefined) {
      io.stdout.write(`published  (nothing at ${ssmPath} yet: the bundled routes run)\n`);
    } else {
      const { document, problems } = await checkStoredValue(current.value, ssmPath);
      published = document?.sha256;
      publishedValid = document !== undefined && problems.length === 0;
      const about = document ? `${short(document.sha256)} (${document.source}, published ${document.publishedAt})` : '(not a routes document)';
      io.stdout.write(`published  ${about} ${ssmPath} version ${current.version}${publishedValid ? '' : ': REFUSED by the route stage, which keeps the last good routes'}\n`);
      for (const line of problems) io.stdout.write(`           ${line}\n`);
    }
  }
  io.stdout.write(`running    ${publishedValid ? 'published (a valid published document wins over the bundled routes)' : 'bundled (or the last good published document in warm environments)'}\n`);
  const routesFile = values.routes ?? (await stageRoutesFile(values.stage));
  if (routesFile === undefined) {
    io.stdout.write(`working    (no routes file for ${values.stage}: pass --routes FILE)\n`);
    return 0;
  }
  const local = routesSha256(await readFile(routesFile));
  const matches = [local === bundled ? 'bundled' : undefined, local === published ? 'published' : undefined].filter(Boolean);
  io.stdout.write(`working    ${routesFile} ${short(local)}: ${matches.length > 0 ? `matches ${matches.join(' and ')}` : 'matches neither (not deployed, not published)'}\n`);
  return 0;
};

/** The stack's outputs; a missing stack is the user's mistake, said in one line. */
const stackOutputs = async (stackName: string, region: string | undefined): Promise<Record<string, string>> => {
  const outputs = await (await import('../aws/stack-outputs.ts')).stackOutputs(stackName, region);
  if (outputs === undefined) throw new UsageError(`stack ${stackName} does not exist in this account and region (--stack NAME, --region REGION)`);
  return outputs;
};

/** params.<stage>.routes of serverless.yml, when the stage names its file there. */
const stageRoutesFile = async (stage: string): Promise<string | undefined> => {
  const text = await readFile(projectFile('serverless.yml'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const { parse } = await import('yaml');
  const params = (parse(text) as { params?: Record<string, { routes?: unknown }> } | null)?.params;
  const file = params?.[stage]?.routes;
  return typeof file === 'string' && file !== '' ? projectFile(file) : undefined;
};

export { runConfigCheck, runConfigPublish, runConfigRollback, runConfigSchema, runConfigStatus, routesJsonSchema };
