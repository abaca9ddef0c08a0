import { open, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ACCOUNTS_CONFIG, staticAccountDirectory, type AccountDirectory } from '../accounts/directory.ts';
import { loadConfig } from '../config/load.ts';
import { ROUTES_CONFIG } from '../config/routes-config.ts';
import type { RouterConfig } from '../config/compile.ts';
import { ConfigError, formatProblem, type ConfigProblem } from '../errors.ts';
import { ingest, route, type RouteResult } from '../pipeline.ts';
import { buildDiff, renderDiffText, type DiffDecision, type DiffEvent } from './report/diff.ts';
import { renderDiffHtml } from './report/html.ts';
import { redactRoutesYaml } from './report/redact-yaml.ts';
import { inlineSecretPaths } from '../secrets.ts';
import { memoryFindingState } from '../state/finding-state.ts';
import { readInputs } from './inputs.ts';
import { BUNDLED } from './paths.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

const USAGE = `Usage: findings-router routes diff --old OLD.yml --new NEW.yml [PATH...] [--accounts FILE] [--report FILE] [--json]

Routes the same events through two routes files (nothing is rendered or sent; each file
gets its own in-memory finding state) and lists every finding whose targets change:
added, removed, now suppressed, now dropped to default, grouped by target and route.
  PATH          events as for replay (default: the bundled sample corpus)
  --accounts    account registry (default: accounts.example.yml)
  --report      also write the diff as a self-contained HTML page
  --json        the diff as one JSON document on stdout
Exit status: 0 nothing changes, 2 something changes, 1 error.
`;

/** Routes every event under both configurations with the same clock; nothing is rendered or sent. */
const routeBoth = async (
  paths: readonly string[],
  configs: { old: RouterConfig; new: RouterConfig },
  accounts: AccountDirectory,
  options: { cwd?: string; now?: number } = {},
): Promise<DiffEvent[]> => {
  const now = options.now ?? Date.now();
  const states = { old: memoryFindingState(), new: memoryFindingState() };
  const events: DiffEvent[] = [];
  for await (const item of readInputs(paths, options.cwd)) {
    if (item.error !== undefined) {
      events.push({ kind: 'skipped', source: item.source, outcome: 'rejected', reason: item.error });
      continue;
    }
    const ingested = await ingest(item.value, accounts);
    if (ingested.kind !== 'enriched') {
      events.push({ kind: 'skipped', source: item.source, outcome: ingested.kind, reason: ingested.reason });
      continue;
    }
    const { finding } = ingested.enriched;
    const before = await route(ingested.enriched, { config: configs.old, state: states.old, now: () => now });
    const after = await route(ingested.enriched, { config: configs.new, state: states.new, now: () => now });
    events.push({
      kind: 'finding',
      finding: {
        source: item.source,
        findingId: finding.id,
        type: finding.type,
        severity: finding.severity,
        accountId: finding.accountId,
        ...(ingested.enriched.enrichment.account.name ? { accountName: ingested.enriched.enrichment.account.name } : {}),
        region: finding.region,
        title: finding.title ?? finding.type,
      },
      old: decisionOf(before),
      new: decisionOf(after),
    });
  }
  return events;
};

const decisionOf = (result: RouteResult): DiffDecision => ({
  outcome: result.outcome,
  routes: result.suppression ? [result.suppression.name] : result.decision.routes,
  targets: result.jobs.map((job) => job.target),
  usedDefault: result.decision.usedDefault,
  ...(result.suppression
    ? { suppression: { name: result.suppression.name, reason: result.suppression.reason, ...(result.suppression.owner ? { owner: result.suppression.owner } : {}) } }
    : {}),
  via: Object.fromEntries([...result.decision.via].map(([target, routes]) => [target, routes.map((r) => r.name)])),
});

const targetsOf = (...configs: RouterConfig[]) => configs.flatMap((c) => [...c.targets.values()].map((t) => ({ name: t.name, type: t.type, kind: t.category })));

/** Loads both files and reports the problems of both at once. */
const loadBoth = async (oldFile: string, newFile: string): Promise<{ old: RouterConfig; new: RouterConfig }> => {
  const problems: ConfigProblem[] = [];
  const load = async (file: string) => {
    try {
      return await loadConfig(ROUTES_CONFIG, { file: file });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const [before, after] = [await load(oldFile), await load(newFile)];
  if (before === undefined || after === undefined) throw new ConfigError(problems);
  return { old: before, new: after };
};

const runRoutesDiff = async (argv: string[], io: Io): Promise<number> => {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        old: { type: 'string' },
        new: { type: 'string' },
        accounts: { type: 'string' },
        report: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.stderr.write(`routes diff: ${(error as Error).message}\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (values.old === undefined || values.new === undefined) {
    io.stderr.write(`routes diff: give both --old and --new\n${USAGE}`);
    return 1;
  }
  try {
    const configs = await loadBoth(values.old, values.new);
    for (const warning of [...configs.old.warnings, ...configs.new.warnings]) io.stderr.write(`warning: ${formatProblem(warning)}\n`);
    const accountsFile = values.accounts ?? BUNDLED.accounts();
    const accounts = staticAccountDirectory(await loadConfig(ACCOUNTS_CONFIG, { file: accountsFile }));
    const events = await routeBoth(positionals.length > 0 ? positionals : [BUNDLED.samples()], configs, accounts);
    const files = values.report === undefined ? undefined : await routesTexts(values.old, values.new, configs);
    const data = buildDiff({ oldLabel: values.old, newLabel: values.new, targets: targetsOf(configs.new, configs.old), events, ...(files ? { files } : {}) });
    io.stdout.write(values.json ? `${JSON.stringify(data, null, 2)}\n` : renderDiffText(data));
    if (values.report !== undefined) {
      await writeFile(values.report, renderDiffHtml(data));
      io.stderr.write(`report: ${values.report}\n`);
    }
    return data.counts.changed > 0 ? 2 : 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 1;
    }
    const code = (error as { code?: string }).code;
    io.stderr.write(`routes diff: ${code === 'ENOENT' ? (error as Error).message : ((error as Error).stack ?? error)}\n`);
    return 1;
  }
};

/** Routes files larger than this are not shown as a YAML diff on the page (the routing diff still is). */
const MAX_ROUTES_TEXT = 1_000_000;

/** Both routes files' text for the page, secrets masked; undefined when either is too large to show. */
const routesTexts = async (oldFile: string, newFile: string, configs: { old: RouterConfig; new: RouterConfig }): Promise<{ old: string; new: string } | undefined> => {
  const secrets = [configs.old, configs.new].flatMap((c) => [...c.targets.values()].flatMap((t) => inlineSecretPaths(t.settings).map((path) => valueAt(t.settings, path))));
  const [before, after] = [await readBounded(oldFile, MAX_ROUTES_TEXT), await readBounded(newFile, MAX_ROUTES_TEXT)];
  if (before === undefined || after === undefined) return undefined;
  return { old: redactRoutesYaml(before, secrets), new: redactRoutesYaml(after, secrets) };
};

const valueAt = (settings: unknown, path: readonly (string | number)[]): string => {
  let at: unknown = settings;
  for (const key of path) at = (at as Record<string | number, unknown>)[key];
  return String((at as { value?: unknown }).value ?? '');
};

/** At most `limit` bytes of `file` as UTF-8; undefined when the file is longer. */
const readBounded = async (file: string, limit: number): Promise<string | undefined> => {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    const { bytesRead } = await handle.read(buffer, 0, limit + 1, 0);
    return bytesRead > limit ? undefined : buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
};

export { runRoutesDiff, routeBoth, decisionOf, USAGE as DIFF_USAGE };
