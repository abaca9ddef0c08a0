import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { parseConfig } from '../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../shared/config/routes-config.ts';
import { evaluateRoutes } from '../../shared/routing/evaluate.ts';
import { TARGETS } from './plan.ts';

/**
 * What a chaos run sends and what it must see: N GuardDuty events cycled from the sample
 * corpus (ids made unique), a routes file whose routes send each finding to one to four of
 * the receivers, and the expected jobs: one per (finding, routed target), computed by the
 * pure routing evaluation on the enriched finding, not by counting what the route stage sent.
 */
const ROOT = join(import.meta.dirname, '../..');

/** Part of every target URL: a stand-in for a webhook token that must never reach a dead letter. */
const URL_SECRET = 'chaos-webhook-token-5f3a9c';

const chaosEvents = (count: number): Record<string, any>[] => {
  const dir = join(ROOT, 'test/events/samples');
  const samples = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
  return Array.from({ length: count }, (_, i) => {
    const event = structuredClone(samples[i % samples.length]!);
    event.id = `${String(event.id).slice(0, 24)}-${i}`;
    event.detail.id = `${String(event.detail.id).slice(0, 48)}-chaos${i.toString(36)}`;
    return event;
  });
};

/** Severity and type decide the targets: low findings go to one, high ones to up to four. */
const chaosRoutes = (origins: Readonly<Record<string, string>>): string =>
  [
    'targets:',
    ...TARGETS.map((name) => `  ${name}: { type: webhook, url: "${origins[name]}/hooks/${URL_SECRET}", allowPrivateNetwork: true }`),
    'default: { targets: [steady] }',
    'routes:',
    '  - name: high',
    '    match: { severity: { min: 7 } }',
    '    targets: [flaky, throttled]',
    '    continue: true',
    '  - name: medium-and-up',
    '    match: { severity: { min: 4 } }',
    '    targets: [slow]',
    '    continue: true',
    '  - name: credentials',
    '    match: { type: ["UnauthorizedAccess:*", "CredentialAccess:*", "Recon:*"] }',
    '    targets: [steady]',
    '',
  ].join('\n');

interface ExpectedJob {
  target: string;
  findingId: string;
  updatedAt: string;
}

/** One job per (finding, target) the routes send it to. */
const expectedJobs = (routesYaml: string, enriched: readonly EnrichedFinding[]): ExpectedJob[] => {
  const config = parseConfig(ROUTES_CONFIG, routesYaml, 'chaos-routes.yml');
  return enriched.flatMap((finding) =>
    evaluateRoutes(config.routes, config.defaultTargets, finding).targets.map((target) => ({
      target,
      findingId: finding.finding.id,
      updatedAt: String(finding.finding.updatedAt),
    })),
  );
};

export { chaosEvents, chaosRoutes, expectedJobs, URL_SECRET };
export type { ExpectedJob };
