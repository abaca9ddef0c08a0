import { readFile } from 'node:fs/promises';
import * as z from 'zod/mini';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import { MATCHERS, MATCHER_KEYS, type Predicate } from '../routing/matchers.ts';
import type { CompiledRoute } from '../routing/evaluate.ts';
import { targetDefinition, TARGET_DEFINITIONS } from '../targets/registry.ts';
import { parseYamlSource, type YamlSource } from './yaml-source.ts';
import { zodProblems } from './problems.ts';
import { KNOWN_KEYS, RoutesFileSchema, type MatchConfig, type RouteConfig } from './schema.ts';

/**
 * Loads and checks a routes file once: schema, target settings per type, references to
 * undefined targets, duplicate route names, globs and regexes. Every problem is reported
 * at once, each as `file:line:column: message`.
 */
interface TargetConfig {
  name: string;
  type: string;
  settings: { type: string } & Record<string, unknown>;
}

interface RouterConfig {
  file: string;
  targets: ReadonlyMap<string, TargetConfig>;
  defaultTargets: readonly string[];
  routes: readonly CompiledRoute[];
  warnings: readonly ConfigProblem[];
}

const loadRoutesFile = async (file: string): Promise<RouterConfig> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ file, line: 1, column: 1, message: `cannot read routes file (${(cause as { code?: string }).code ?? cause})` }], { cause });
  }
  return parseRoutesConfig(text, file);
};

const parseRoutesConfig = (text: string, file: string): RouterConfig => {
  const source = parseYamlSource(text, file);
  const settingKeys = TARGET_DEFINITIONS.flatMap((d) => Object.keys((d.configSchema as unknown as { def: { shape?: object } }).def.shape ?? {}));
  const parsed = z.safeParse(RoutesFileSchema, source.value ?? {});
  if (!parsed.success) throw new ConfigError(zodProblems(parsed.error, source, [...KNOWN_KEYS, ...settingKeys]));

  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const targets = new Map<string, TargetConfig>();
  for (const [name, raw] of Object.entries(parsed.data.targets)) {
    const definition = targetDefinition(raw.type);
    if (definition === undefined) {
      const known = TARGET_DEFINITIONS.map((d) => d.type).join(', ');
      problems.push(source.problem(['targets', name, 'type'], `target '${name}': unknown type '${raw.type}' (known: ${known})`));
      continue;
    }
    const settings = z.safeParse(definition.configSchema, raw);
    if (!settings.success) {
      problems.push(...zodProblems(settings.error, source, settingKeys, ['targets', name]));
      continue;
    }
    targets.set(name, { name, type: raw.type, settings: settings.data });
    for (const [key, value] of Object.entries(raw)) {
      if (isObject(value) && 'value' in value) {
        warnings.push(source.problem(['targets', name, key], `target '${name}': ${key} is an inline secret value; use { env }, { ssm } or { secretsManager } outside local tests`));
      }
    }
  }

  const checkTargets = (names: readonly string[], path: (string | number)[]) => {
    names.forEach((target, index) => {
      if (!(target in parsed.data.targets)) {
        problems.push(source.problem([...path, index], `undefined target '${target}'`));
      }
    });
  };
  checkTargets(parsed.data.default.targets, ['default', 'targets']);

  const seenNames = new Map<string, string>();
  const compile = (route: RouteConfig, path: (string | number)[]): CompiledRoute => {
    const where = source.locate([...path, 'name']);
    const previous = seenNames.get(route.name);
    if (previous !== undefined) problems.push(source.problem([...path, 'name'], `duplicate route name '${route.name}' (first at line ${previous})`));
    else seenNames.set(route.name, String(where.line));
    checkTargets(route.targets, [...path, 'targets']);
    return {
      name: route.name,
      conditions: compileMatch(route.match ?? {}, [...path, 'match'], source, problems),
      targets: route.targets,
      continue: route.continue === true,
      routes: (route.routes ?? []).map((child, index) => compile(child, [...path, 'routes', index])),
    };
  };
  const routes = (parsed.data.routes ?? []).map((route, index) => compile(route, ['routes', index]));

  if (problems.length > 0) throw new ConfigError(problems);
  return { file, targets, defaultTargets: parsed.data.default.targets, routes, warnings };
};

const compileMatch = (
  match: MatchConfig,
  path: (string | number)[],
  source: YamlSource,
  problems: ConfigProblem[],
): { label: string; test: Predicate }[] => {
  const conditions: { label: string; test: Predicate }[] = [];
  for (const key of MATCHER_KEYS) {
    const value = match[key];
    if (value === undefined) continue;
    try {
      const definition = MATCHERS[key] as { compile(value: unknown): Predicate };
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

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export { loadRoutesFile, parseRoutesConfig };
export type { RouterConfig, TargetConfig };
