import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { evaluateRoutes } from '../../../shared/routing/evaluate.ts';
import { route } from '../../../shared/pipeline.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';

/** The foundation issue's example, verbatim: it must load exactly as written. */
const V1_EXAMPLE = `
targets:
  siem:      { type: file, path: out/siem.ndjson }
  soc-slack: { type: slack, webhookUrl: { env: SOC_SLACK_WEBHOOK } }
  oncall:    { type: webhook, url: "https://oncall.example.com/hooks/guardduty", secret: { ssm: /findings-router/oncall-hmac } }
  chat:      { type: console }
default:
  targets: [siem]
routes:
  - name: samples
    match: { sample: true }
    targets: [chat]
  - name: siem-copy
    match: { severity: { min: 4 } }
    targets: [siem]
    continue: true
  - name: eu
    match: { region: ["eu-*"] }
    targets: [chat]
  - name: quiet-dev-recon
    match: { severity: { max: 3.9 }, type: "Recon:*", account: { tags: { env: dev } } }
    targets: []
  - name: critical
    match: { severity: [critical] }
    targets: [oncall, soc-slack]
  - name: high-prod
    match: { severity: { min: 7 }, account: { tags: { env: prod } } }
    targets: [soc-slack, oncall]
    routes:
      - name: high-prod-iam
        match: { resourceType: [AccessKey] }
        targets: [oncall]
`;

const sample = { additionalInfo: { sample: true }, count: 1 };
const accessKey = { resourceType: 'AccessKey', accessKeyDetails: { userName: 'alice' } };

describe('Routing: the v1 example', () => {
  const config = parseConfig(ROUTES_CONFIG, V1_EXAMPLE, 'routes.yml');
  const cases: { name: string; finding: Record<string, unknown>; routes: string[]; targets: string[]; outcome?: string }[] = [
    { name: 'a sample stops at the first route', finding: { service: sample, severity: 9.5 }, routes: ['samples'], targets: ['chat'] },
    { name: 'nothing matches → default', finding: { severity: 2, region: 'us-east-1' }, routes: ['default'], targets: ['siem'] },
    { name: 'continue adds the next match', finding: { severity: 5, region: 'eu-west-1' }, routes: ['siem-copy', 'eu'], targets: ['siem', 'chat'] },
    { name: 'continue, then no other match: siem only', finding: { severity: 5, region: 'us-east-1' }, routes: ['siem-copy'], targets: ['siem'] },
    {
      name: 'targets: [] is a deliberate drop',
      finding: { severity: 2, type: 'Recon:EC2/PortProbeUnprotectedPort', accountId: '222222222222' },
      routes: ['quiet-dev-recon'],
      targets: [],
      outcome: 'suppressed',
    },
    { name: 'critical by label', finding: { severity: 9.2, accountId: '222222222222' }, routes: ['siem-copy', 'critical'], targets: ['siem', 'oncall', 'soc-slack'] },
    { name: 'nested parent without child', finding: { severity: 8 }, routes: ['siem-copy', 'high-prod'], targets: ['siem', 'soc-slack', 'oncall'] },
    {
      name: 'nested child: union of parent and child',
      finding: { severity: 8, resource: accessKey },
      routes: ['siem-copy', 'high-prod', 'high-prod-iam'],
      targets: ['siem', 'soc-slack', 'oncall'],
    },
    { name: 'high in dev: only siem-copy', finding: { severity: 8, accountId: '222222222222' }, routes: ['siem-copy'], targets: ['siem'] },
    { name: 'severity max is inclusive (3.9 is Low)', finding: { severity: 3.9, type: 'Recon:IAMUser/X', accountId: '222222222222' }, routes: ['quiet-dev-recon'], targets: [], outcome: 'suppressed' },
    { name: 'severity min is inclusive (4.0)', finding: { severity: 4 }, routes: ['siem-copy'], targets: ['siem'] },
  ];

  for (const testCase of cases) {
    it(testCase.name, async () => {
      // Prepare
      const enriched = await enrich(makeFinding(testCase.finding));
      // Act
      const result = await route(enriched, { config, state: memoryFindingState() });
      // Assess
      expect(result.decision.routes).toEqual(testCase.routes);
      expect([...result.decision.targets].sort()).toEqual([...testCase.targets].sort());
      expect(result.outcome).toBe(testCase.outcome ?? 'routed');
      expect(result.jobs.map((job) => job.target).sort()).toEqual([...testCase.targets].sort());
    });
  }
});

describe('Routing: matchers', () => {
  const load = (match: string) =>
    parseConfig(ROUTES_CONFIG, `targets: { t: { type: console } }\ndefault: { targets: [t] }\nroutes:\n  - name: r\n    match: ${match}\n    targets: [t]\n`, 'm.yml');
  const matches = async (match: string, finding: Record<string, unknown>) => {
    const config = load(match);
    return evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding(finding))).routes[0] === 'r';
  };
  const table: [string, Record<string, unknown>, boolean][] = [
    ['{ type: "UnauthorizedAccess:*" }', {}, true],
    ['{ type: ["Recon:*", "Backdoor:*"] }', {}, false],
    ['{ type: "UnauthorizedAccess:EC2/SSH?ruteForce" }', {}, true],
    ['{ typeRegex: "^Unauthorized.*SSH" }', {}, true],
    ['{ threatPurpose: [Backdoor, UnauthorizedAccess] }', {}, true],
    ['{ threatFamily: "SSH*" }', {}, true],
    ['{ region: "us-*" }', {}, true],
    ['{ region: ["eu-*", "ap-*"] }', {}, false],
    ['{ accountId: ["111111111111"] }', {}, true],
    ['{ account: { name: "payments-*" } }', {}, true],
    ['{ account: { ou: "Root/Workloads/Dev*" } }', {}, false],
    ['{ account: { known: false } }', { accountId: '999999999999' }, true],
    ['{ account: { tags: { env: prod, owner: pay* } } }', {}, true],
    ['{ resourceType: [Instance] }', {}, true],
    ['{ resourceTags: { env: prod } }', {}, true],
    ['{ resourceTags: { env: dev } }', {}, false],
    ['{ sample: false }', {}, true],
    ['{ archived: true }', { service: { archived: true } }, true],
    ['{ count: { min: 10 } }', { service: { count: 12 } }, true],
    ['{ count: { min: 10 } }', {}, false],
    ['{ severity: [high, critical] }', { severity: 7 }, true],
    ['{ severity: [High] }', { severity: 6.9 }, false],
    ['{ not: { region: "us-*" } }', {}, false],
    ['{ any: [{ region: "eu-*" }, { severity: { min: 5 } }] }', {}, true],
    ['{ any: [{ region: "eu-*" }, { severity: { min: 6 } }] }', {}, false],
  ];
  for (const [match, finding, expected] of table) {
    it(`${match} on ${JSON.stringify(finding)} → ${expected}`, async () => {
      // Prepare / Act
      const result = await matches(match, finding);
      // Assess
      expect(result).toBe(expected);
    });
  }

  it('records the first failed condition in the trace', async () => {
    // Prepare
    const config = load('{ region: "us-*", severity: { min: 9 }, type: "X:*" }');
    // Act
    const decision = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding()));
    // Assess
    expect(decision.trace).toEqual([{ route: 'r', depth: 0, matched: false, failed: 'severity: {"min":9}' }]);
  });
});
