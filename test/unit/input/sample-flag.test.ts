import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { ingest } from '../../../shared/pipeline.ts';
import { evaluateRoutes } from '../../../shared/routing/evaluate.ts';

/** The same findings as the API gives them (`additionalInfo: { value, type }`) and as EventBridge does (free-form). */
const wire = (JSON.parse(readFileSync(new URL('../../events/api/get-findings.wire.json', import.meta.url), 'utf8')) as { findings: Record<string, any>[] }).findings;
const accounts = staticAccountDirectory(new Map());
const config = parseConfig(
  ROUTES_CONFIG,
  'targets: { t: { type: console }, samples: { type: console } }\ndefault: { targets: [t] }\nroutes:\n  - name: samples\n    match: { sample: true }\n    targets: [samples]\n',
  'routes.yml',
);

const routedTo = async (finding: unknown): Promise<string[]> => {
  const ingested = await ingest(finding, accounts);
  if (ingested.kind !== 'enriched') throw new Error(`not routed: ${JSON.stringify(ingested)}`);
  return evaluateRoutes(config.routes, config.defaultTargets, ingested.enriched).targets;
};

describe('sample: in additionalInfo and in the API shape additionalInfo.value', () => {
  it('the fixtures hold the API shape, sample findings and one that is not', () => {
    expect(wire.every((f) => typeof f.service.additionalInfo.value === 'string')).toBe(true);
    expect(wire.filter((f) => JSON.parse(f.service.additionalInfo.value).sample === true).length).toBeGreaterThan(5);
  });

  it('routes a finding on `sample: true` the same whether the flag is in additionalInfo or inside its value text', async () => {
    for (const finding of wire) {
      // Prepare: the EventBridge form of the same finding
      const flag = JSON.parse(finding.service.additionalInfo.value).sample === true;
      const eventBridge = { ...finding, service: { ...finding.service, additionalInfo: JSON.parse(finding.service.additionalInfo.value) } };
      // Act and assess
      expect(await routedTo(finding)).toEqual(flag ? ['samples'] : ['t']);
      expect(await routedTo(eventBridge)).toEqual(flag ? ['samples'] : ['t']);
    }
  });

  it('is false for a value that is not JSON, names the key elsewhere, or says false', async () => {
    for (const value of ['{"sample":', '{"other":{"sample":true}}', '{"sample":false}', '"sample"', '{"sample":"true"}']) {
      const finding = { ...wire[0], service: { ...wire[0]!.service, additionalInfo: { value, type: 'default' } } };
      expect(await routedTo(finding)).toEqual(['t']);
    }
  });
});
