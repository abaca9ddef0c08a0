import { describe, expect, it } from 'vitest';
import { route } from '../../../shared/pipeline.ts';
import { compileRuntimeSuppression } from '../../../shared/suppressions/compile.ts';
import { suppressionFromFinding } from '../../../shared/suppressions/model.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';
import { ANALYST, DAY, NOW, ROUTES_YAML, routesConfig } from './helpers.ts';

/**
 * The route stage with runtime suppressions: same meaning as a YAML `suppress:` entry (audit
 * targets still receive, the result names it), and expiry judged by the stage's own clock.
 */
const suppression = suppressionFromFinding(makeFinding(), { reason: 'Bastion scanner', days: 7, actor: ANALYST, now: NOW, maxDays: 30 });
const runtime = [compileRuntimeSuppression(suppression)];

describe('Function: route with runtime suppressions', () => {
  it('suppresses a matching finding: only the audit target receives it and the result names runtime:<id>', async () => {
    // Prepare
    const config = routesConfig();
    // Act
    const result = await route(await enrich(makeFinding()), { config, state: memoryFindingState(), now: () => NOW + DAY, runtimeSuppressions: runtime });
    // Assess
    expect(result.outcome).toBe('suppressed');
    expect(result.suppression?.name).toBe(`runtime:${suppression.id}`);
    expect(result.suppression?.owner).toBe('slack:U123ABC (Ada)');
    expect(result.jobs.map((job) => job.target)).toEqual(['siem']);
    expect(result.jobs[0]!.routes).toEqual([`runtime:${suppression.id}`]);
  });

  it('stops applying once expired, by the stage clock (no new read needed)', async () => {
    // Prepare
    const config = routesConfig();
    const expiry = Date.parse(suppression.expiresAt);
    // Act
    const atExpiry = await route(await enrich(makeFinding()), { config, state: memoryFindingState(), now: () => expiry, runtimeSuppressions: runtime });
    const after = await route(await enrich(makeFinding()), { config, state: memoryFindingState(), now: () => expiry + 1, runtimeSuppressions: runtime });
    // Assess
    expect(atExpiry.outcome).toBe('suppressed');
    expect(after.outcome).toBe('routed');
    expect(after.suppression).toBeUndefined();
    expect(after.jobs.map((job) => job.target).sort()).toEqual(['chat', 'siem']);
  });

  it('does not touch another resource, account or type', async () => {
    // Prepare
    const config = routesConfig();
    const others = [
      makeFinding({ resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-0def' } } }),
      makeFinding({ accountId: '222222222222' }),
      makeFinding({ type: 'Recon:EC2/PortProbeUnprotectedPort' }),
    ];
    // Act
    const outcomes = await Promise.all(others.map(async (f) => (await route(await enrich(f), { config, state: memoryFindingState(), now: () => NOW, runtimeSuppressions: runtime })).outcome));
    // Assess
    expect(outcomes).toEqual(['routed', 'routed', 'routed']);
  });

  it('names the routes.yml entry when both a YAML and a runtime suppression match', async () => {
    // Prepare
    const config = routesConfig(`${ROUTES_YAML}suppress:\n  - name: bastion\n    match: { type: "UnauthorizedAccess:EC2/*" }\n    reason: reviewed in routes.yml\n`);
    // Act
    const result = await route(await enrich(makeFinding()), { config, state: memoryFindingState(), now: () => NOW, runtimeSuppressions: runtime });
    // Assess
    expect(result.suppression?.name).toBe('bastion');
  });
});
