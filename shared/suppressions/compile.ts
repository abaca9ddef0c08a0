import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { CompiledSuppression } from '../config/compile.ts';
import { actorLabel, type RuntimeSuppression } from './model.ts';
import { resourceIdOf } from './resource-id.ts';

/** The name a runtime suppression goes by in route results, logs, `routes test` and the report. */
const runtimeName = (id: string): string => `runtime:${id}`;

/**
 * A runtime suppression in the form the route stage applies YAML ones: every condition must
 * hold, and `untilMs` is checked against the route stage's clock on every finding (so one that
 * expires while cached stops applying at once). The conditions are exact comparisons, not globs:
 * the values come from a finding, and a `*` in a bucket or user name is a character, not a wildcard.
 */
const compileRuntimeSuppression = (suppression: RuntimeSuppression): CompiledSuppression => {
  const { type, accountId, resourceType, resourceId } = suppression.conditions;
  return {
    name: runtimeName(suppression.id),
    conditions: [
      { label: `type: ${JSON.stringify(type)}`, test: (f: EnrichedFinding) => f.finding.type === type },
      { label: `accountId: ${JSON.stringify(accountId)}`, test: (f: EnrichedFinding) => f.finding.accountId === accountId },
      { label: `resourceType: ${JSON.stringify(resourceType)}`, test: (f: EnrichedFinding) => f.finding.resource.resourceType === resourceType },
      { label: `resourceId: ${JSON.stringify(resourceId)}`, test: (f: EnrichedFinding) => resourceIdOf(f.finding.resource) === resourceId },
    ],
    reason: suppression.reason,
    owner: actorLabel(suppression.createdBy),
    untilMs: Date.parse(suppression.expiresAt),
    // Not from a file: there is no line to point at (config check names runtime ones by id).
    location: { line: 0, column: 0 },
  };
};

export { compileRuntimeSuppression };
