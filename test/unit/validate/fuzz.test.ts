import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccountInfo } from '../../../schemas/enriched.ts';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { replayOne, replaySession } from '../../../shared/cli/replay/runner.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { enrichFinding } from '../../../shared/enrich.ts';
import { route } from '../../../shared/pipeline.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { createTargets } from '../../../shared/targets/create.ts';
import { validateEvent } from '../../../shared/validate.ts';
import { renderableTargets, routesForAllTargets, targetContext } from '../../helpers/all-targets.ts';

/**
 * Property-based: arbitrary JSON values, arbitrary values inside a GuardDuty envelope,
 * and valid findings mutated at random paths never make validateEvent, enrichFinding,
 * route() or any registered target's render() throw; each input gets exactly one outcome.
 */
const SAMPLES = join(import.meta.dirname, '../../events/samples');
const PUBLISHED = join(import.meta.dirname, '../../events/published');
const RUNS = { numRuns: 300, seed: 42 } as const;

const { targets, configs, skipped } = renderableTargets();
const config = parseConfig(ROUTES_CONFIG, routesForAllTargets(configs), 'fuzz-routes.yml');
const pipelineTargets = createTargets(config, targetContext());
const accounts = staticAccountDirectory(
  new Map<string, AccountInfo>([['785665517223', { id: '785665517223', known: true, name: 'fuzz \u202e<!channel>', tags: { env: 'prod' } }]]),
);

/** Every 10th sample (25 types across all data sources) and the published ones. */
const seeds: Record<string, any>[] = [
  ...readdirSync(SAMPLES).filter((f) => f.endsWith('.json')).sort().filter((_, i) => i % 10 === 0).map((f) => join(SAMPLES, f)),
  ...readdirSync(PUBLISHED).filter((f) => f.endsWith('.eventbridge.json')).map((f) => join(PUBLISHED, f)),
].map((file) => JSON.parse(readFileSync(file, 'utf8')));

/** Every path (keys from the root) inside a value, containers included. */
const pathsOf = (value: unknown): (string | number)[][] => {
  const out: (string | number)[][] = [];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (path.length > 0) out.push(path);
    if (typeof v !== 'object' || v === null) continue;
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, child] of entries) stack.push({ value: child, path: [...path, k] });
  }
  return out;
};
const seedPaths = seeds.map(pathsOf);

// ── Arbitraries ──────────────────────────────────────────────────────────────
/** Any UTF-16 code unit: lone surrogates, controls, bidi overrides, U+2028, BOM. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const nastyString = fc.oneof(
  fc.string({ unit: anyUnit, maxLength: 40 }),
  fc.constantFrom('\uD800', 'f0b37a7d\uDFFF', '\uDBFF\uDBFF', '<!channel>', '<https://evil.example|Approve>', '``` `x` ```', 'a|b=c\\d\r\nCEF:0|', '\u2028\u2029', '\uFEFF', '\u001b[31m', '%s%n', '{{7*7}}', '$(rm -rf /)', 'NaN', '-0', '1e309', 'null', 'undefined', '__proto__', 'constructor'),
  fc.integer({ min: 1, max: 120_000 }).map((n) => 'x'.repeat(n)),
);
const nastyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  nastyString,
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e308, Number.MAX_SAFE_INTEGER + 2, Number.MIN_VALUE, -1),
  fc.constant(undefined),
);

type Op = 'set' | 'delete' | 'wrap-array' | 'wrap-object' | 'stringify' | 'proto' | 'deepen';
/** Fields every stage reads (ids go into URLs, keys and file names): half the mutations land here. */
const FOCUS: (string | number)[][] = [
  ['detail', 'id'], ['detail', 'type'], ['detail', 'region'], ['detail', 'partition'], ['detail', 'accountId'], ['detail', 'arn'],
  ['detail', 'title'], ['detail', 'severity'], ['detail', 'updatedAt'], ['detail', 'createdAt'], ['detail', 'resource', 'resourceType'],
  ['detail', 'service', 'count'], ['detail', 'service', 'additionalInfo'], ['detail', 'resource'], ['detail', 'service'], ['detail'],
];

const mutation = fc.record({
  focus: fc.boolean(),
  pick: fc.nat(),
  op: fc.constantFrom<Op>('set', 'set', 'set', 'delete', 'wrap-array', 'wrap-object', 'stringify', 'proto', 'deepen'),
  value: nastyValue,
});

const setOwn = (target: Record<string | number, unknown>, key: string | number, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });

const mutate = (seedIndex: number, mutations: { focus: boolean; pick: number; op: Op; value: unknown }[]): unknown => {
  const event = structuredClone(seeds[seedIndex]!);
  const paths = seedPaths[seedIndex]!;
  for (const { focus, pick, op, value } of mutations) {
    const path = focus ? FOCUS[pick % FOCUS.length]! : paths[pick % paths.length]!;
    let parent: any = event;
    for (const key of path.slice(0, -1)) {
      parent = parent?.[key];
      if (typeof parent !== 'object' || parent === null) break;
    }
    if (typeof parent !== 'object' || parent === null) continue; // an earlier mutation moved it
    const key = path[path.length - 1]!;
    const current = parent[key];
    switch (op) {
      case 'set':
        setOwn(parent, key, value);
        break;
      case 'delete':
        delete parent[key];
        break;
      case 'wrap-array':
        setOwn(parent, key, [current]);
        break;
      case 'wrap-object':
        setOwn(parent, key, { value: current });
        break;
      case 'stringify':
        setOwn(parent, key, JSON.stringify(current) ?? 'undefined');
        break;
      case 'proto':
        if (Array.isArray(parent)) break; // JSON cannot give an array such keys
        setOwn(parent, '__proto__', value);
        setOwn(parent, 'constructor', { prototype: value });
        break;
      case 'deepen': {
        let deep: unknown = current;
        for (let i = 0; i < 80; i++) deep = { a: deep };
        setOwn(parent, key, deep);
        break;
      }
    }
  }
  return event;
};

const mutatedFinding = fc
  .record({ seed: fc.nat({ max: seeds.length - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) })
  .map(({ seed, mutations }) => mutate(seed, mutations));

const envelopeAround = (detail: unknown) => ({
  version: '0',
  id: 'fuzz',
  'detail-type': 'GuardDuty Finding',
  source: 'aws.guardduty',
  account: '785665517223',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});

/** Mostly a plausible value, sometimes anything. */
const usually = <T,>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown> = nastyValue) =>
  fc.oneof({ arbitrary: good, weight: 9 }, { arbitrary: bad, weight: 1 });

/** Required keys present, values usually plausible (free text always hostile). */
const shapedFinding = fc.record({
  schemaVersion: usually(fc.constant('2.0')),
  accountId: usually(fc.constant('785665517223')),
  region: usually(fc.constantFrom('us-east-1', 'eu-west-1', 'cn-north-1'), nastyString),
  partition: fc.constantFrom('aws', 'aws-cn', 'aws-us-gov', 'evil'),
  id: fc.oneof({ arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/), weight: 3 }, { arbitrary: nastyString, weight: 1 }),
  arn: usually(fc.constant('arn:aws:guardduty:us-east-1:785665517223:detector/d/finding/f')),
  type: usually(fc.constantFrom('Recon:EC2/PortProbeUnprotectedPort', 'UnauthorizedAccess:IAMUser/TorIPCaller', 'AttackSequence:S3/CompromisedData'), nastyString),
  resource: usually(fc.record({ resourceType: usually(fc.constantFrom('Instance', 'AccessKey', 'S3Bucket')), instanceDetails: usually(fc.record({ instanceId: nastyString, tags: fc.array(fc.record({ key: nastyString, value: nastyString }), { maxLength: 3 }) })) })),
  severity: usually(fc.double({ min: 0, max: 10, noNaN: true })),
  createdAt: usually(fc.constantFrom('2026-01-01T00:00:00Z', 1767225600, 1767225600000, 'yesterday')),
  updatedAt: usually(fc.constantFrom('2026-01-01T00:00:00Z', 1767225600, 1767225600000, 'yesterday')),
  title: nastyString,
  description: nastyString,
  service: usually(fc.record({ count: usually(fc.nat()), additionalInfo: usually(fc.dictionary(nastyString, nastyValue, { maxKeys: 3 })) })),
});

// ── The property ─────────────────────────────────────────────────────────────
const OUTCOMES = ['routed', 'suppressed', 'rejected', 'ignored'];
let counts: Record<string, number> = {};

/** Every stage on one input; throws (failing the property) on any escape or a second outcome. */
const throughEveryStage = async (input: unknown): Promise<void> => {
  const validated = validateEvent(input);
  expect(['finding', 'ignored', 'rejected']).toContain(validated.kind);
  if (validated.kind === 'rejected') {
    expect(validated.path.startsWith('$')).toBe(true);
    expect(validated.reason.startsWith(`${validated.path}: `)).toBe(true);
  }
  if (validated.kind === 'finding') {
    const enriched = await enrichFinding(validated.finding, accounts);
    await route(enriched, { config, state: memoryFindingState() });
    for (const target of targets) expect(typeof target.render(enriched).body).toBe('string');
  }
  // Exactly one outcome, never `failed` (a render that threw would be one).
  const record = await replayOne({ source: 'fuzz', value: input }, { config, accounts, targets: pipelineTargets, mode: 'dry-run', ...replaySession() });
  expect(OUTCOMES).toContain(record.outcome);
  expect(record.outcome === 'rejected' || record.outcome === 'ignored').toBe(validated.kind !== 'finding');
  counts[record.outcome] = (counts[record.outcome] ?? 0) + 1;
};

describe('fuzz: validator, enrichment, routing and every renderer', () => {
  it('builds every registered target type it can configure (console, file, slack and webhook at least)', () => {
    // Assess
    const types = targets.map((t) => t.type);
    for (const type of ['console', 'file', 'slack', 'webhook']) expect(types).toContain(type);
    expect(skipped).toEqual([]);
  });

  it('arbitrary JSON values', { timeout: 60_000 }, async () => {
    // Act / Assess
    counts = {};
    await fc.assert(fc.asyncProperty(fc.jsonValue(), throughEveryStage), RUNS);
    expect(counts.rejected).toBeGreaterThan(0);
  });

  it('arbitrary values inside a GuardDuty envelope, and findings with every required key holding anything', { timeout: 60_000 }, async () => {
    // Act / Assess
    counts = {};
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue().map(envelopeAround), shapedFinding.map(envelopeAround), shapedFinding), throughEveryStage),
      RUNS,
    );
    expect(counts.rejected).toBeGreaterThan(0);
    expect((counts.routed ?? 0) + (counts.suppressed ?? 0)).toBeGreaterThan(0);
  });

  it('valid findings mutated at random paths', { timeout: 60_000 }, async () => {
    // Act / Assess
    counts = {};
    await fc.assert(fc.asyncProperty(mutatedFinding, throughEveryStage), RUNS);
    // Both sides were exercised: some mutations are harmless, some are fatal
    expect(counts.rejected).toBeGreaterThan(0);
    expect((counts.routed ?? 0) + (counts.suppressed ?? 0)).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
