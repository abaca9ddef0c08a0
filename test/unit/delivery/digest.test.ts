import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { buildDigest } from '../../../shared/delivery/digest.ts';
import { deliverDigest, route } from '../../../shared/pipeline.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { createTargets } from '../../../shared/targets/create.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';
import { buildSlackDigest } from '../../../shared/targets/slack.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';
import { startReceiver } from '../../helpers/receiver.ts';

const configFor = (slackUrl: string) =>
  parseConfig(
    ROUTES_CONFIG,
    `targets:\n  slack: { type: slack, webhookUrl: { value: "${slackUrl}" }, allowPrivateNetwork: true, rateLimit: { perSecond: 1000, burst: 1000 } }\n  siem: { type: file, path: /dev/null }\ndefault: { targets: [siem] }\nroutes:\n  - name: recon\n    match: { threatPurpose: Recon }\n    targets: [slack, siem]\n    group: { by: [type, accountId], window: 5m }\n`,
    'digest.yml',
  );

const burst = (n: number, overrides: Record<string, unknown> = {}) =>
  Promise.all(
    Array.from({ length: n }, (_, i) =>
      enrich(makeFinding({ id: `f${String(i).padStart(31, '0')}`, type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 2 + (i % 3), resource: { resourceType: 'Instance', instanceDetails: { instanceId: `i-${i % 4}` } }, ...overrides })),
    ),
  );

describe('Flood control: grouping', () => {
  it('holds chat jobs of a grouping route for a digest, never SIEM jobs, never Critical', async () => {
    // Prepare
    const config = configFor('https://hooks.slack.com/services/T/B/X');
    const [low] = await burst(1);
    const [critical] = await burst(1, { severity: 9.5, id: 'c'.repeat(32) });
    // Act
    const lowJobs = (await route(low!, { config, state: memoryFindingState() })).jobs;
    const criticalJobs = (await route(critical!, { config, state: memoryFindingState() })).jobs;
    // Assess
    expect(lowJobs.find((j) => j.target === 'slack')?.digest).toEqual({
      route: 'recon',
      key: 'recon type=Recon:EC2/PortProbeUnprotectedPort accountId=111111111111',
      windowMs: 300_000,
      values: ['Recon:EC2/PortProbeUnprotectedPort', '111111111111'],
    });
    expect(lowJobs.find((j) => j.target === 'siem')?.digest).toBeUndefined();
    expect(criticalJobs.find((j) => j.target === 'slack')?.digest).toBeUndefined();
  });

  it('summarises a burst: counts, worst severity, top resources', async () => {
    // Prepare
    const members = await burst(10);
    // Act
    const digest = buildDigest({ key: 'k', route: 'recon' }, members);
    // Assess
    expect(digest).toMatchObject({ count: 10, worst: 'medium', worstScore: 4, types: [['Recon:EC2/PortProbeUnprotectedPort', 10]] });
    expect(digest.topResources).toEqual([['Instance i-0', 3], ['Instance i-1', 3], ['Instance i-2', 2]]);
    expect(buildDigest({ key: 'k', route: 'recon' }, [...members].reverse())).toEqual(digest);
  });

  it('sends one Slack message for the whole group', async () => {
    // Prepare
    const receiver = await startReceiver();
    const config = configFor(`${receiver.url}/services/T/B/X`);
    const targets = createTargets(config, { secrets: localSecretResolver(), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() });
    const state = memoryFindingState();
    const jobs = [];
    for (const enriched of await burst(25)) jobs.push(...(await route(enriched, { config, state })).jobs.filter((j) => j.digest));
    // Act
    await deliverDigest(jobs, targets, { deadline: Date.now() + 5_000 });
    await receiver.close();
    // Assess
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body).text).toContain('25 similar findings');
  });

  it('escapes finding-derived text in the Slack digest', async () => {
    // Prepare
    const members = await burst(2, { type: 'Recon:<!channel>/<https://evil.example|Approve>' });
    // Act
    const message = JSON.stringify(buildSlackDigest(buildDigest({ key: 'k', route: 'r' }, members)));
    // Assess
    expect(message).not.toContain('<!channel>');
    expect(message).not.toContain('<https://evil');
    expect(message).toContain('&lt;!channel&gt;');
  });
});
