import * as z from 'zod/mini';
import { compileActionsPolicy, type ActionsPolicy } from '../actions/config.ts';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import type { Glob } from '../routing/glob.ts';
import { compileGlob, MATCHERS, MATCHER_KEYS } from '../routing/matchers.ts';
import type { CompiledRoute, Condition, GroupPolicy, NotifyPolicy } from '../routing/evaluate.ts';
import { inlineSecretPaths } from '../secrets.ts';
import { targetSpec, TARGET_SPECS } from '../targets/registry.ts';
import type { ConfigSource } from './source.ts';
import { zodProblems } from './problems.ts';
import {
  COMMON_TARGET_KEYS,
  CommonTargetSettingsSchema,
  durationMs,
  KNOWN_KEYS,
  RoutesFileSchema,
  type CommonTargetSettings,
  type MatchConfig,
  type RouteConfig,
} from './schema.ts';

/**
 * Loads and checks a routes file once: schema, target settings per type, references to
 * undefined targets and jurisdictions, duplicate names, globs and regexes. Every problem
 * is reported at once, each as `file:line:column: message`.
 */
interface TargetConfig {
  name: string;
  type: string;
  /** Display only: the definition's category. */
  category: string;
  /** The definition's delivery policy (see TargetDefinition). */
  updates: 'notify-policy' | 'every-update';
  digest: boolean;
  local: boolean;
  settings: { type: string } & Record<string, unknown>;
  common: CommonTargetSettings;
}

interface CompiledSuppression {
  name: string;
  conditions: readonly Condition[];
  reason: string;
  owner?: string;
  /** Epoch ms after which the suppression no longer applies. */
  untilMs?: number;
  location: { line: number; column: number };
}

interface RouterConfig {
  file: string;
  targets: ReadonlyMap<string, TargetConfig>;
  defaultTargets: readonly string[];
  routes: readonly CompiledRoute[];
  suppressions: readonly CompiledSuppression[];
  /** Jurisdiction name → region globs (each with `test(region)`). */
  jurisdictions: ReadonlyMap<string, readonly Glob[]>;
  warnings: readonly ConfigProblem[];
  /** Findings of static analysis that `config check` treats as errors (e.g. jurisdiction leaks). */
  analysis: readonly ConfigProblem[];
  /** The `actions:` block compiled; absent means every action is refused. */
  actions: ActionsPolicy;
}

const settingKeysOf = (): string[] =>
  TARGET_SPECS.flatMap((d) => Object.keys((d.configSchema as unknown as { def: { shape?: object } }).def.shape ?? {}));

/**
 * The checks and compilation behind loadConfig (ROUTES_CONFIG), over any parsed source: the YAML
 * file (CLI, build) or the JSON the build wrote from it (Lambdas: this module never imports the
 * YAML parser, so their bundles do not load it).
 */
const compileRoutesConfig = (source: ConfigSource): RouterConfig => {
  const { file } = source;
  const settingKeys = settingKeysOf();
  const parsed = z.safeParse(RoutesFileSchema, source.value ?? {});
  if (!parsed.success) throw new ConfigError(zodProblems(parsed.error, source, [...KNOWN_KEYS, ...settingKeys]));
  const data = parsed.data;
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const analysis: ConfigProblem[] = [];

  const jurisdictions = new Map<string, Glob[]>();
  for (const [name, globs] of Object.entries(data.jurisdictions ?? {})) {
    jurisdictions.set(name, compileGlobs(globs, ['jurisdictions', name], source, problems));
  }

  const targets = new Map<string, TargetConfig>();
  for (const [name, raw] of Object.entries(data.targets)) {
    const target = parseTarget(name, raw, source, settingKeys, problems, warnings);
    if (target === undefined) continue;
    if (target.common.jurisdiction !== undefined && !jurisdictions.has(target.common.jurisdiction)) {
      problems.push(source.problem(['targets', name, 'jurisdiction'], `target '${name}': undefined jurisdiction '${target.common.jurisdiction}' (define it under jurisdictions:)`));
    }
    targets.set(name, target);
    warnings.push(...buttonWarnings(target, data.actions, source));
  }

  const checkTargets = (names: readonly string[], path: (string | number)[]) => {
    names.forEach((target, index) => {
      if (!Object.hasOwn(data.targets, target)) problems.push(source.problem([...path, index], `undefined target '${target}'`));
    });
  };
  checkTargets(data.default.targets, ['default', 'targets']);

  const seenNames = new Map<string, number>();
  const compile = (route: RouteConfig, path: (string | number)[], parent?: CompiledRoute): CompiledRoute => {
    const where = source.locate([...path, 'name']);
    const previous = seenNames.get(route.name);
    if (previous !== undefined) problems.push(source.problem([...path, 'name'], `duplicate route name '${route.name}' (first at line ${previous})`));
    else seenNames.set(route.name, where.line);
    checkTargets(route.targets, [...path, 'targets']);
    const notify: NotifyPolicy | undefined = route.notify
      ? { on: route.notify.on, ...(route.notify.repeatInterval ? { repeatIntervalMs: durationMs(route.notify.repeatInterval) } : {}) }
      : parent?.notify;
    const group: GroupPolicy | undefined = route.group ? { by: route.group.by, windowMs: durationMs(route.group.window) } : parent?.group;
    const compiled: CompiledRoute = {
      name: route.name,
      conditions: compileMatch(route.match ?? {}, [...path, 'match'], source, problems),
      targets: route.targets,
      continue: route.continue === true,
      ...(notify ? { notify } : {}),
      ...(group ? { group } : {}),
      routes: [],
      location: where,
    };
    (compiled as unknown as { routes: CompiledRoute[] }).routes = (route.routes ?? []).map((child, index) => compile(child, [...path, 'routes', index], compiled));
    return compiled;
  };
  const routes = (data.routes ?? []).map((route, index) => compile(route, ['routes', index]));

  const suppressions: CompiledSuppression[] = (data.suppress ?? []).map((entry, index) => {
    const path = ['suppress', index];
    if (seenNames.has(entry.name)) problems.push(source.problem([...path, 'name'], `suppression name '${entry.name}' is also a route name`));
    const untilMs = entry.until === undefined ? undefined : Date.parse(entry.until.length === 10 ? `${entry.until}T23:59:59.999Z` : entry.until);
    return {
      name: entry.name,
      conditions: compileMatch(entry.match, [...path, 'match'], source, problems),
      reason: entry.reason,
      ...(entry.owner ? { owner: entry.owner } : {}),
      ...(untilMs === undefined ? {} : { untilMs }),
      location: source.locate(path),
    };
  });

  analysis.push(...jurisdictionLeaks(data.routes ?? [], targets, jurisdictions, source));

  if (problems.length > 0) throw new ConfigError(problems);
  return { file, targets, defaultTargets: data.default.targets, routes, suppressions, jurisdictions, warnings, analysis, actions: compileActionsPolicy(data.actions) };
};

const parseTarget = (
  name: string,
  raw: { type: string } & Record<string, unknown>,
  source: ConfigSource,
  settingKeys: string[],
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): TargetConfig | undefined => {
  const spec = targetSpec(raw.type);
  if (spec === undefined) {
    const known = TARGET_SPECS.map((d) => d.type).join(', ');
    problems.push(source.problem(['targets', name, 'type'], `target '${name}': unknown type '${raw.type}' (known: ${known})`));
    return undefined;
  }
  const own = Object.fromEntries(Object.entries(raw).filter(([key]) => !(COMMON_TARGET_KEYS as readonly string[]).includes(key)));
  const common = z.safeParse(CommonTargetSettingsSchema, raw);
  const settings = z.safeParse(spec.configSchema, own);
  if (!common.success) problems.push(...zodProblems(common.error, source, KNOWN_KEYS, ['targets', name]));
  if (!settings.success) problems.push(...zodProblems(settings.error, source, [...settingKeys, ...COMMON_TARGET_KEYS], ['targets', name]));
  if (!common.success || !settings.success) return undefined;
  for (const path of inlineSecretPaths(raw)) {
    const key = path.join('.');
    warnings.push(source.problem(['targets', name, ...path], `target '${name}': ${key} is an inline secret value; use { env }, { ssm } or { secretsManager } outside local tests`));
  }
  return { name, type: raw.type, category: spec.category, updates: spec.updates, digest: spec.digest, local: spec.local, settings: settings.data, common: common.data };
};

/**
 * Buttons that nobody can press successfully are a configuration mistake the loader can see:
 * say so at the target's `actions` setting instead of leaving analysts with refusals.
 */
const buttonWarnings = (target: TargetConfig, actions: z.infer<typeof RoutesFileSchema>['actions'], source: ConfigSource): ConfigProblem[] => {
  if (!Array.isArray(target.settings.actions)) return [];
  const at = ['targets', target.name, 'actions'];
  const name = target.name;
  if (actions === undefined) return [source.problem(at, `target '${name}': shows action buttons but routes.yml has no actions: block, so every press is refused`)];
  if (target.type === 'slack' && actions.slack === undefined) {
    return [source.problem(at, `target '${name}': shows Slack buttons but actions.slack.signingSecret is not set, so every press is refused`)];
  }
  if (target.type === 'teams') {
    return [
      source.problem(at, `target '${name}': Teams buttons call back only on cards posted by the router's bot; a card posted through the Workflows webhook sends presses to the Workflows bot (docs/actions.md)`),
      ...(actions.teams === undefined ? [source.problem(at, `target '${name}': shows Teams buttons but actions.teams.appId is not set, so every press is refused`)] : []),
    ];
  }
  return [];
};

const compileGlobs = (globs: readonly string[], path: (string | number)[], source: ConfigSource, problems: ConfigProblem[]): Glob[] =>
  globs.flatMap((glob, index) => {
    try {
      return [compileGlob(glob)];
    } catch (error) {
      problems.push(source.problem([...path, index], (error as Error).message));
      return [];
    }
  });

const compileMatch = (match: MatchConfig, path: (string | number)[], source: ConfigSource, problems: ConfigProblem[]): Condition[] => {
  const conditions: Condition[] = [];
  for (const key of MATCHER_KEYS) {
    const value = match[key];
    if (value === undefined) continue;
    try {
      const definition = MATCHERS[key] as { compile(value: unknown): Condition['test'] };
      conditions.push({ label: `${key}: ${JSON.stringify(value)}`, test: definition.compile(value) });
    } catch (error) {
      problems.push(source.problem([...path, key], `${key}: ${(error as Error).message}`));
    }
  }
  if (match.not !== undefined) {
    const inner = compileMatch(match.not, [...path, 'not'], source, problems);
    conditions.push({ label: `not: ${JSON.stringify(match.not)}`, test: (f) => !inner.every((c) => c.test(f)) });
  }
  if (match.any !== undefined) {
    const alternatives = match.any.map((alternative, index) => compileMatch(alternative, [...path, 'any', index], source, problems));
    conditions.push({ label: `any: ${JSON.stringify(match.any)}`, test: (f) => alternatives.some((all) => all.every((c) => c.test(f))) });
  }
  return conditions;
};

/**
 * A route that can send findings from a region outside a target's jurisdiction. A route is
 * safe for a jurisdiction when its own or an ancestor's `region` matcher lists only
 * literal regions inside the jurisdiction (or exactly its globs).
 */
const jurisdictionLeaks = (
  routes: readonly RouteConfig[],
  targets: ReadonlyMap<string, TargetConfig>,
  jurisdictions: ReadonlyMap<string, readonly Glob[]>,
  source: ConfigSource,
): ConfigProblem[] => {
  const leaks: ConfigProblem[] = [];
  const walk = (list: readonly RouteConfig[], path: (string | number)[], inheritedRegions: string[] | undefined, inheritedTargets: string[]) => {
    list.forEach((route, index) => {
      const here = [...path, index];
      const ownRegions = route.match?.region === undefined ? undefined : ([] as string[]).concat(route.match.region);
      const regions = ownRegions ?? inheritedRegions;
      const allTargets = [...inheritedTargets, ...route.targets];
      for (const target of new Set(allTargets)) {
        const jurisdiction = targets.get(target)?.common.jurisdiction;
        if (jurisdiction === undefined) continue;
        const allowed = jurisdictions.get(jurisdiction) ?? [];
        const covered = regions !== undefined && regions.every((glob) => !/[*?[]/.test(glob) && allowed.some((allowedGlob) => allowedGlob.test(glob)));
        if (!covered) {
          leaks.push(source.problem([...here, 'name'], `route '${route.name}' can send findings from regions outside jurisdiction '${jurisdiction}' to target '${target}' (restrict it with match.region)`));
        }
      }
      walk(route.routes ?? [], [...here, 'routes'], regions, allTargets);
    });
  };
  walk(routes, ['routes'], undefined, []);
  return leaks;
};

export { compileRoutesConfig };
export type { RouterConfig, CompiledSuppression };
