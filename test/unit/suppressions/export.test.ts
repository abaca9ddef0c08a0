import { describe, expect, it } from 'vitest';
import { route } from '../../../shared/pipeline.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { suppressionsYaml } from '../../../shared/cli/suppressions/export-yaml.ts';
import { suppressionFromFinding } from '../../../shared/suppressions/model.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';
import { ANALYST, NOW, ROUTES_YAML, routesConfig } from './helpers.ts';

/**
 * `suppressions export` → routes.yml → the project's config loader: the pasted entries load,
 * keep the reason, owner and expiry, and match exactly what the runtime suppression matched.
 */
const hostileBucket = {
  resourceType: 'S3Bucket',
  // Glob characters in an identifier: a real S3 ARN has none, but a hand-edited row or another
  // resource type may; each must stay a literal character in the exported glob.
  s3BucketDetails: [{ arn: 'arn:aws:s3:::logs-*-[prod]?' }],
};
const hostileReason = 'Pentest: vendor "Acme" # not a comment\nsecond line: - [x] {y} & *z';

const exported = (findings: ReturnType<typeof makeFinding>[]) =>
  suppressionsYaml(findings.map((f) => suppressionFromFinding(f, { reason: hostileReason, days: 7, actor: { ...ANALYST, name: 'Ada: "lead" #1' }, now: NOW, maxDays: 30 })));

describe('Function: suppressionsYaml', () => {
  it('loads back through the config loader with the same reason, owner and expiry', () => {
    // Prepare
    const finding = makeFinding({ resource: hostileBucket });
    const yaml = exported([finding]);
    // Act
    const config = routesConfig(`${ROUTES_YAML}${yaml}`);
    // Assess
    expect(config.suppressions).toHaveLength(1);
    const [entry] = config.suppressions;
    expect(entry!.name).toMatch(/^runtime-[0-9a-f]{16}$/);
    expect(entry!.reason).toBe(hostileReason);
    expect(entry!.owner).toBe('slack:U123ABC (Ada: "lead" #1)');
    expect(entry!.untilMs).toBe(Date.parse('2026-12-12T08:00:00.000Z'));
  });

  it('matches the suppressed finding and not one whose identifier differs where a glob character stood', async () => {
    // Prepare
    const config = routesConfig(`${ROUTES_YAML}${exported([makeFinding({ resource: hostileBucket })])}`);
    const lookalike = makeFinding({ resource: { resourceType: 'S3Bucket', s3BucketDetails: [{ arn: 'arn:aws:s3:::logs-anything-p?' }] } });
    const now = () => NOW;
    // Act
    const same = await route(await enrich(makeFinding({ resource: hostileBucket })), { config, state: memoryFindingState(), now });
    const other = await route(await enrich(lookalike), { config, state: memoryFindingState(), now });
    // Assess
    expect(same.outcome).toBe('suppressed');
    expect(same.jobs.map((job) => job.target)).toEqual(['siem']);
    expect(other.outcome).toBe('routed');
  });

  it('quotes a 12-digit account id so it stays a string', () => {
    // Act
    const yaml = exported([makeFinding({ accountId: '012345678901' })]);
    const config = routesConfig(`${ROUTES_YAML}${yaml}`);
    // Assess
    expect(config.suppressions[0]!.conditions.find((c) => c.label.startsWith('accountId'))!.label).toBe('accountId: "012345678901"');
  });
});
