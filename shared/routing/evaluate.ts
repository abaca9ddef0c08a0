import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { Predicate } from './matchers.ts';

/**
 * The routing tree and its match, Alertmanager style: depth first, in order; the first
 * matching route stops its siblings unless it has `continue: true`; a matching child adds
 * its targets to its parent's; `default` only when nothing matched.
 */
interface CompiledRoute {
  name: string;
  /** Each condition with a label, so a trace can say which one failed. */
  conditions: readonly { label: string; test: Predicate }[];
  targets: readonly string[];
  continue: boolean;
  routes: readonly CompiledRoute[];
}

interface TraceStep {
  route: string;
  depth: number;
  matched: boolean;
  /** For a miss, the first condition that failed. */
  failed?: string;
}

interface RoutingDecision {
  /** Names of the matched routes, in evaluation order (`default` when none matched). */
  routes: string[];
  targets: string[];
  usedDefault: boolean;
  trace: TraceStep[];
}

const evaluateRoutes = (
  routes: readonly CompiledRoute[],
  defaultTargets: readonly string[],
  finding: EnrichedFinding,
): RoutingDecision => {
  const matched: string[] = [];
  const targets = new Set<string>();
  const trace: TraceStep[] = [];
  walk(routes, finding, [], 0, matched, targets, trace);
  if (matched.length === 0) {
    return { routes: ['default'], targets: [...defaultTargets], usedDefault: true, trace };
  }
  return { routes: matched, targets: [...targets], usedDefault: false, trace };
};

const walk = (
  routes: readonly CompiledRoute[],
  finding: EnrichedFinding,
  inherited: readonly string[],
  depth: number,
  matched: string[],
  targets: Set<string>,
  trace: TraceStep[],
): boolean => {
  let any = false;
  for (const route of routes) {
    const failed = route.conditions.find((condition) => !condition.test(finding));
    trace.push({ route: route.name, depth, matched: failed === undefined, ...(failed ? { failed: failed.label } : {}) });
    if (failed !== undefined) continue;
    any = true;
    matched.push(route.name);
    const own = [...inherited, ...route.targets];
    const childMatched = walk(route.routes, finding, own, depth + 1, matched, targets, trace);
    if (!childMatched) for (const target of own) targets.add(target);
    if (!route.continue) break;
  }
  return any;
};

export { evaluateRoutes };
export type { CompiledRoute, RoutingDecision, TraceStep };
