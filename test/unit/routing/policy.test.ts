import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { route } from '../../../shared/pipeline.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';

const CONFIG = `
jurisdictions:
  eu: ["eu-*"]
targets:
  siem:    { type: file, path: out/x.ndjson, audit: true }
  eu-siem: { type: file, path: out/eu.ndjson, jurisdiction: eu }
  slack:   { type: slack, webhookUrl: { env: X } }
  pager:   { type: webhook, url: "https://pager.example.com/x" }
default: { targets: [siem] }
suppress:
  - name: scanner
    match: { type: "Recon:*", accountId: ["222222222222"] }
    reason: known scanner in dev
    owner: secops
  - name: old-exception
    match: { type: "Backdoor:*" }
    reason: expired exception
    until: 2020-01-01
routes:
  - name: everything
    targets: [siem, eu-siem]
    continue: true
  - name: high
    match: { severity: { min: 7 } }
    targets: [slack]
  - name: chatty
    match: { severity: { min: 4 } }
    targets: [pager]
    notify: { on: [new, any-update] }
`;
const config = parseConfig(ROUTES_CONFIG, CONFIG, 'policy.yml');
const at = (minute: number) => `2026-11-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('Routing: suppressions', () => {
  it('suppresses, names the suppression, and still reaches audit targets only', async () => {
    // Prepare
    const enriched = await enrich(makeFinding({ type: 'Recon:EC2/Portscan', accountId: '222222222222', severity: 8 }));
    // Act
    const result = await route(enriched, { config, state: memoryFindingState() });
    // Assess
    expect(result.outcome).toBe('suppressed');
    expect(result.suppression).toMatchObject({ name: 'scanner', reason: 'known scanner in dev', owner: 'secops' });
    expect(result.jobs.map((j) => j.target)).toEqual(['siem']);
  });

  it('stops applying an expired suppression', async () => {
    // Prepare
    const enriched = await enrich(makeFinding({ type: 'Backdoor:EC2/C&CActivity.B', severity: 8 }));
    // Act
    const result = await route(enriched, { config, state: memoryFindingState() });
    // Assess
    expect(result.outcome).toBe('routed');
    expect(result.suppression).toBeUndefined();
  });

  it('property: a suppressed finding never reaches a non-audit target', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ severity: fc.double({ min: 0, max: 10, noNaN: true }), purpose: fc.constantFrom('Recon', 'Backdoor', 'Impact'), region: fc.constantFrom('us-east-1', 'eu-west-1') }),
        async ({ severity, purpose, region }) => {
          // Prepare
          const enriched = await enrich(makeFinding({ type: `${purpose}:EC2/X`, accountId: '222222222222', severity, region }));
          // Act
          const result = await route(enriched, { config, state: memoryFindingState() });
          // Assess
          if (result.suppression) expect(result.jobs.every((j) => config.targets.get(j.target)?.common.audit === true)).toBe(true);
          expect(['routed', 'suppressed']).toContain(result.outcome);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});

describe('Routing: jurisdiction guard', () => {
  it('refuses a delivery from a region outside the target’s jurisdiction and never queues it', async () => {
    // Prepare
    const enriched = await enrich(makeFinding({ region: 'us-east-1', severity: 2 }));
    // Act
    const result = await route(enriched, { config, state: memoryFindingState() });
    // Assess
    expect(result.refused).toEqual([{ target: 'eu-siem', reason: "region us-east-1 is outside jurisdiction 'eu' of target 'eu-siem'" }]);
    expect(result.jobs.map((j) => j.target)).toEqual(['siem']);
  });

  it('lets findings from inside the jurisdiction through', async () => {
    // Prepare
    const enriched = await enrich(makeFinding({ region: 'eu-central-1', severity: 2 }));
    // Act
    const result = await route(enriched, { config, state: memoryFindingState() });
    // Assess
    expect(result.jobs.map((j) => j.target).sort()).toEqual(['eu-siem', 'siem']);
  });
});

describe('Routing: update policy over a finding’s life', () => {
  it('notifies chat on new and severity increase, SIEM on every update, nobody but SIEM on stale', async () => {
    // Prepare
    const state = memoryFindingState();
    const step = async (updatedAt: string, count: number, severity: number) => {
      const enriched = await enrich(makeFinding({ updatedAt, severity, service: { count, archived: false, additionalInfo: {} } }));
      const result = await route(enriched, { config, state, now: () => Date.parse(updatedAt) });
      return { targets: result.jobs.map((j) => j.target).sort(), relation: result.relation, stale: result.jobs[0]?.enriched.enrichment.stale === true };
    };
    // Act
    const steps = [
      await step(at(0), 1, 8), // new
      await step(at(0), 1, 8), // the same event again (an EventBridge retry): same decision
      await step(at(15), 2, 8), // count +1: chat quiet; pager (any-update) is not reached because 'high' stops first
      await step(at(30), 3, 9), // severity increase
      await step(at(10), 2, 8), // arrives late: stale
    ];
    // Assess
    expect(steps).toEqual([
      { targets: ['eu-siem', 'siem', 'slack'], relation: 'first', stale: false },
      { targets: ['eu-siem', 'siem', 'slack'], relation: 'same', stale: false },
      { targets: ['eu-siem', 'siem'], relation: 'newer', stale: false },
      { targets: ['eu-siem', 'siem', 'slack'], relation: 'newer', stale: false },
      { targets: ['eu-siem', 'siem'], relation: 'stale', stale: true },
    ].map((s) => ({ ...s, targets: s.targets.filter((t) => t !== 'eu-siem') })));
  });

  it('notifies on every update where the route says any-update', async () => {
    // Prepare
    const state = memoryFindingState();
    const run = async (updatedAt: string, count: number) =>
      (await route(await enrich(makeFinding({ updatedAt, severity: 5, service: { count } })), { config, state })).jobs.map((j) => j.target);
    // Act
    const first = await run(at(0), 1);
    const second = await run(at(5), 2);
    // Assess
    expect(first).toContain('pager');
    expect(second).toContain('pager');
  });
});
