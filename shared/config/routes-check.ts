import { ConfigError, type ConfigProblem } from '../errors.ts';
import type { CompiledRoute } from '../routing/evaluate.ts';
import { loadRegexEngineFor } from '../routing/user-regex.ts';
import { compileRoutesConfig, type RouterConfig } from './compile.ts';
import { parseYamlSource } from './yaml-source.ts';

interface RoutesCheck {
  /** Undefined when the file does not even compile. */
  config: RouterConfig | undefined;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

/**
 * What `config check` checks, as one function: `config check`, `config publish` and the route
 * stage reading a published document all call it, so they cannot disagree about a file.
 * Everything the loader checks, plus what only a whole-file look can see (routes shadowed by
 * an earlier catch-all sibling, jurisdiction leaks) as errors; expired suppressions as warnings.
 * `file` names the file in every problem (`file:line:column: message`).
 */
const checkRoutesText = async (text: string, file: string, now = Date.now()): Promise<RoutesCheck> => {
  let config: RouterConfig;
  try {
    const source = parseYamlSource(text, file);
    // The Lambdas load the linear-time regex engine only for files that use typeRegex.
    await loadRegexEngineFor(source.value);
    config = compileRoutesConfig(source);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { config: undefined, errors: [...error.problems], warnings: [] };
  }
  const warnings: ConfigProblem[] = [...config.warnings];
  for (const s of config.suppressions) {
    if (s.untilMs !== undefined && s.untilMs < now) {
      warnings.push({ file: config.file, ...s.location, message: `suppression '${s.name}' expired on ${new Date(s.untilMs).toISOString()} and no longer applies${s.owner ? ` (owner ${s.owner})` : ''}` });
    }
  }
  return { config, errors: [...config.analysis, ...shadowedRoutes(config)], warnings };
};

/**
 * A route is unreachable when an earlier sibling without `continue` has a subset of its
 * conditions: everything the later route matches, the earlier one has already taken.
 */
const shadowedRoutes = (config: RouterConfig): ConfigProblem[] => {
  const problems: ConfigProblem[] = [];
  const visit = (routes: readonly CompiledRoute[]) => {
    routes.forEach((route, index) => {
      const labels = new Set(route.conditions.map((c) => c.label));
      const shadow = routes.slice(0, index).find((earlier) => !earlier.continue && earlier.conditions.every((c) => labels.has(c.label)));
      if (shadow) {
        problems.push({ file: config.file, line: route.location.line, column: route.location.column, message: `route '${route.name}' can never match: route '${shadow.name}' before it (without continue) matches everything it would` });
      }
      visit(route.routes);
    });
  };
  visit(config.routes);
  return problems;
};

export { checkRoutesText, shadowedRoutes };
export type { RoutesCheck };
