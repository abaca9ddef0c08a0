import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AccountInfo } from '../../../schemas/enriched.ts';
import { findingView } from '../../../schemas/finding-view.ts';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { replayOne, replaySession } from '../../../shared/cli/replay/runner.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { createTargets } from '../../../shared/targets/create.ts';
import { validateEvent } from '../../../shared/validate.ts';
import { renderableTargets, routesForAllTargets, targetContext } from '../../helpers/all-targets.ts';

/**
 * GuardDuty findings other projects publish (test/events/published, PROVENANCE.md): every
 * valid one is a finding and the replay routes it to every target; every genuinely invalid
 * one is rejected at the JSON path recorded in expected-rejections.tsv.
 */
const PUBLISHED = join(import.meta.dirname, '../../events/published');
const files = readdirSync(PUBLISHED).filter((f) => f.endsWith('.json')).sort();
const load = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(PUBLISHED, file), 'utf8')) as Record<string, unknown>;
const detailOf = (event: Record<string, unknown>): unknown => event.detail ?? event;

const expectedRejections = new Map(
  readFileSync(join(PUBLISHED, 'expected-rejections.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => line.split('\t') as [string, string, string])
    .map(([file, path]) => [file, path] as const),
);
const valid = files.filter((f) => !expectedRejections.has(f));

const { configs } = renderableTargets();
const config = parseConfig(ROUTES_CONFIG, routesForAllTargets(configs), 'published-routes.yml');
const targets = createTargets(config, targetContext());
const accounts = staticAccountDirectory(new Map<string, AccountInfo>());

describe('Published GuardDuty findings', () => {
  it('holds at least 30 findings, and names an existing file in every expected rejection', () => {
    // Assess
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const file of expectedRejections.keys()) expect(files).toContain(file);
  });

  it.each(valid)('%s routes', async (file) => {
    // Prepare
    const event = load(file);

    // Act
    const validated = validateEvent(event);
    const record = await replayOne({ source: file, value: event }, { config, accounts, targets, mode: 'dry-run', ...replaySession() });

    // Assess
    expect(validated.kind === 'rejected' ? validated.reason : validated.kind).toBe('finding');
    expect(record.outcome).toBe('routed');
    expect(record.targets.length).toBe(configs.size);
  });

  it.each([...expectedRejections])('%s is rejected at %s', (file, path) => {
    // Act
    const validated = validateEvent(load(file));

    // Assess
    expect(validated.kind).toBe('rejected');
    expect(validated.kind === 'rejected' && validated.path).toBe(path);
  });

  it('routes findings that carry null in optional fields (service.evidence, kubernetesWorkloadDetails, platform)', () => {
    // Prepare: the valid findings whose view differs from what was sent hold a null the rule reads as absent.
    const withNulls = valid.filter((file) => {
      const detail = detailOf(load(file));
      return findingView(detail) !== detail;
    });
    const text = withNulls.map((file) => JSON.stringify(load(file))).join('\n');

    // Assess
    expect(withNulls.length).toBeGreaterThanOrEqual(15);
    for (const needle of ['"evidence":null', '"kubernetesWorkloadDetails":null', '"platform":null']) expect(text).toContain(needle);
  });
});
