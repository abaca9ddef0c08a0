import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { Predicate } from './matchers.ts';

/**
 * The routing tree and its match, Alertmanager style: depth first, in order; the first
 * matching route stops its siblings unless it has `continue: true`; a matching child adds
 * its targets to its parent's; `default` only when nothing matched.
 */
interface Condition {
  /** Shown in traces: which condition failed. */
  label: string;
  test: Predicate;
}

interface NotifyPolicy {
  on: readonly string[];
  repeatIntervalMs?: number;
}

interface GroupPolicy {
  by: readonly string[];
  windowMs: number;
}

interface CompiledRoute {
  name: string;
  conditions: readonly Condition[];
  targets: readonly string[];
  continue: boolean;
  notify?: NotifyPolicy;
  group?: GroupPolicy;
  routes: readonly CompiledRoute[];
  /** Where the route is written, for `config check` messages. */
  location: { line: number; column: number };
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
  /** For each target, the matched routes (leaf first) that sent the finding there. */
  via: Map<string, CompiledRoute[]>;
  usedDefault: boolean;
  trace: TraceStep[];
}

const evaluateRoutes = (
  routes: readonly CompiledRoute[],
  defaultTargets: readonly string[],
  finding: EnrichedFinding,
): RoutingDecision => {
  const matched: string[] = [];
  const via = new Map<string, CompiledRoute[]>();
  const trace: TraceStep[] = [];
  walk(routes, finding, [], 0, matched, via, trace);
  if (matched.length === 0) {
    return { routes: ['default'], targets: [...defaultTargets], via: new Map(), usedDefault: true, trace };
  }
  return { routes: matched, targets: [...via.keys()], via, usedDefault: false, trace };
};

const walk = (
  routes: readonly CompiledRoute[],
  finding: EnrichedFinding,
  ancestors: readonly CompiledRoute[],
  depth: number,
  matched: string[],
  via: Map<string, CompiledRoute[]>,
  trace: TraceStep[],
): boolean => {
  let any = false;
  for (const route of routes) {
    const failed = route.conditions.find((condition) => !condition.test(finding));
    trace.push({ route: route.name, depth, matched: failed === undefined, ...(failed ? { failed: failed.label } : {}) });
    if (failed !== undefined) continue;
    any = true;
    matched.push(route.name);
    const chain = [route, ...ancestors];
    const childMatched = walk(route.routes, finding, chain, depth + 1, matched, via, trace);
    if (!childMatched) {
      for (const link of chain) {
        for (const target of link.targets) {
          const routesForTarget = via.get(target) ?? [];
          if (!routesForTarget.includes(route)) routesForTarget.push(route);
          via.set(target, routesForTarget);
        }
      }
    }
    if (!route.continue) break;
  }
  return any;
};

export { evaluateRoutes };
export type { CompiledRoute, Condition, RoutingDecision, TraceStep, NotifyPolicy, GroupPolicy };
