import type { ConfigProblem } from '../errors.ts';
import type { CompiledRoute } from '../routing/evaluate.ts';
import { loadRegexEngineFor } from '../routing/user-regex.ts';
import { compileRoutesConfig, type RouterConfig } from './compile.ts';
import type { ConfigKind } from './load.ts';

/** The routes file, for loadConfig and parseConfig. */
const ROUTES_CONFIG: ConfigKind<RouterConfig> = {
  name: 'routes',
  bundled: { env: 'ROUTES_FILE', file: 'routes.json' },
  // The linear-time regex engine is a lazily loaded chunk: only files with a typeRegex pay for it.
  prepare: loadRegexEngineFor,
  compile: compileRoutesConfig,
  strictProblems: (config) => [...config.analysis, ...shadowedRoutes(config)],
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

export { ROUTES_CONFIG, shadowedRoutes };
