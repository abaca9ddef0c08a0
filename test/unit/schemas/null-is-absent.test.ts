import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { EnrichedFindingSchema, type AccountInfo, type EnrichedFinding } from '../../../schemas/enriched.ts';
import { GuardDutyFindingSchema } from '../../../schemas/finding.ts';
import { compileGuard } from '../../../schemas/guard.ts';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { enrichFinding } from '../../../shared/enrich.ts';
import { renderJsonFormat } from '../../../shared/formats/json-formats.ts';
import { route } from '../../../shared/pipeline.ts';
import { DeliveryJobSchema, makeJob } from '../../../shared/delivery/job.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { jsonPath, validateEvent } from '../../../shared/validate.ts';
import { renderableTargets, routesForAllTargets } from '../../helpers/all-targets.ts';
import { REPRESENTATIVE_TYPES } from '../../helpers/representative.ts';

/**
 * Null is absent: every optional field of the finding schema, at any depth and inside
 * arrays, takes JSON `null` exactly as a missing key (routing and rendering alike), while
 * the finding's JSON keeps the `null`; required fields still refuse it, naming the path.
 * The paths are read from the zod schema itself, so a field added later is covered.
 */

// ── Paths from the schema ────────────────────────────────────────────────────
/** A step into an object (its key) or into an array (its first element). */
type Step = string | typeof EACH;
const EACH = Symbol('each element');
interface FieldPath {
  steps: Step[];
  optional: boolean;
  /** The field schema as declared (optional fields: the `optional` wrapper). */
  schema: z.ZodMiniType;
}

const fieldPaths = (schema: z.ZodMiniType, at: Step[] = []): FieldPath[] => {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodMiniType>).flatMap(([key, field]) => [
        { steps: [...at, key], optional: field._zod.def.type === 'optional', schema: field },
        ...fieldPaths(field, [...at, key]),
      ]);
    case 'optional':
    case 'nullable':
      return fieldPaths(def.innerType as z.ZodMiniType, at);
    case 'array':
      return fieldPaths(def.element as z.ZodMiniType, [...at, EACH]);
    default:
      return []; // strings, numbers, unions of them, free-form records and unknowns: leaves
  }
};

const PATHS = fieldPaths(GuardDutyFindingSchema);
const OPTIONAL = PATHS.filter((p) => p.optional);
const REQUIRED = PATHS.filter((p) => !p.optional);
const label = (steps: readonly Step[]): string => steps.map((s) => (s === EACH ? '[]' : s)).join('.');
const expectedPath = (steps: readonly Step[]): string => jsonPath('$', steps.map((s) => (s === EACH ? 0 : s)));

// ── Findings that have a path ────────────────────────────────────────────────
const SAMPLES = join(import.meta.dirname, '../../events/samples');
type Json = Record<string | number, unknown>;
const samples: Json[] = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => (JSON.parse(readFileSync(join(SAMPLES, f), 'utf8')) as { detail: Json }).detail);

const isContainer = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/** The object that holds the last step, following the first element of arrays; undefined when missing. */
const parentIn = (root: Json, steps: readonly Step[]): Json | undefined => {
  let node: unknown = root;
  for (const step of steps.slice(0, -1)) {
    if (step === EACH) node = Array.isArray(node) ? node[0] : undefined;
    else node = isContainer(node) && !Array.isArray(node) ? node[step] : undefined;
    if (!isContainer(node)) return undefined;
  }
  return Array.isArray(node) ? undefined : (node as Json);
};

/** The parent of the last step in `root`, created ({} or [{}]) where a sample lacks it. */
const parentMade = (root: Json, steps: readonly Step[]): Json => {
  let node: Json = root;
  steps.slice(0, -1).forEach((step, i) => {
    const nextIsEach = steps[i + 1] === EACH;
    if (step === EACH) {
      if (!Array.isArray(node) || node.length === 0) throw new Error(`no array at ${label(steps.slice(0, i + 1))}`);
      node = node[0] as Json;
      return;
    }
    if (!isContainer(node[step])) node[step] = nextIsEach ? [{}] : {};
    else if (nextIsEach && (node[step] as unknown as unknown[]).length === 0) (node[step] as unknown as unknown[]).push({});
    node = node[step] as Json;
  });
  return node;
};

/** A valid finding whose parent of `steps` exists: a sample that has it, else the first sample with the parent built. */
const findingWithParentOf = (steps: readonly Step[]): Json => {
  const found = samples.find((s) => parentIn(s, steps) !== undefined);
  const copy = structuredClone(found ?? samples[0]!);
  parentMade(copy, steps);
  return copy;
};

const setNull = (finding: Json, steps: readonly Step[]): Json => {
  parentMade(finding, steps)[steps.at(-1) as string] = null;
  return finding;
};
const remove = (finding: Json, steps: readonly Step[]): Json => {
  delete parentMade(finding, steps)[steps.at(-1) as string];
  return finding;
};

// ── The pipeline around it ───────────────────────────────────────────────────
const guard = compileGuard(GuardDutyFindingSchema);
const { targets, configs } = renderableTargets();
const config = parseConfig(
  ROUTES_CONFIG,
  [
    routesForAllTargets(configs).replace('routes: []', ''),
    'routes:',
    '  - { name: high, match: { severity: { min: 7 } }, targets: [all-slack] }',
    '  - { name: instances, match: { resourceType: Instance }, targets: [all-webhook] }',
  ].join('\n'),
  'null-is-absent-routes.yml',
);
const accounts = staticAccountDirectory(new Map<string, AccountInfo>());

const enrichedView = async (finding: Json): Promise<EnrichedFinding> => {
  const validated = validateEvent(finding);
  if (validated.kind !== 'finding') throw new Error(`expected a finding, got ${validated.kind}: ${'reason' in validated ? validated.reason : ''}`);
  return enrichFinding(validated.finding, accounts);
};
const routing = async (finding: Json) => {
  const result = await route(await enrichedView(finding), { config, state: memoryFindingState() });
  return { outcome: result.outcome, routes: result.decision.routes, targets: result.jobs.map((j) => j.target) };
};

// ── Tests ────────────────────────────────────────────────────────────────────
describe('Null is absent: the schema paths', () => {
  it('finds the optional and required fields of the finding schema, arrays included', () => {
    // Assess: enough paths that the walk is real, and the ones the issue names among them.
    expect(OPTIONAL.length).toBeGreaterThan(200);
    const names = OPTIONAL.map((p) => label(p.steps));
    for (const name of ['service.evidence', 'resource.kubernetesDetails.kubernetesWorkloadDetails', 'resource.ebsVolumeDetails.skippedVolumeDetails', 'resource.containerDetails.name', 'resource.s3BucketDetails.[].tags.[].value']) {
      expect(names).toContain(name);
    }
    expect(REQUIRED.map((p) => label(p.steps)).sort()).toEqual(
      ['accountId', 'arn', 'createdAt', 'id', 'region', 'resource', 'schemaVersion', 'severity', 'type', 'updatedAt'].sort(),
    );
  });

  it('declares every optional field through the one rule (optional of nullable)', () => {
    // Assess
    const notNullable = OPTIONAL.filter((p) => (p.schema._zod.def as unknown as { innerType: z.ZodMiniType }).innerType._zod.def.type !== 'nullable');
    expect(notNullable.map((p) => label(p.steps))).toEqual([]);
  });
});

describe('Null is absent: every optional path set to null', () => {
  it.each(OPTIONAL.map((p) => [label(p.steps), p.steps] as const))('%s: null routes like the key missing', async (_name, steps) => {
    // Prepare
    const base = findingWithParentOf(steps);
    const withNull = setNull(structuredClone(base), steps);
    const without = remove(structuredClone(base), steps);

    // Act
    const validated = validateEvent(withNull);

    // Assess: routed, the guard agrees with zod, the view lacks the key, its JSON keeps the null.
    expect(validated.kind).toBe('finding');
    expect({ guard: guard(withNull), zod: z.safeParse(GuardDutyFindingSchema, withNull).success }).toEqual({ guard: true, zod: true });
    const view = validated.kind === 'finding' ? (validated.finding as unknown as Json) : {};
    expect(Object.hasOwn(parentMade(structuredClone(view), steps), steps.at(-1) as string)).toBe(false);
    expect(JSON.stringify(view)).toBe(JSON.stringify(withNull));
    expect(await routing(withNull)).toEqual(await routing(without));
    expect((await enrichedView(withNull)).enrichment).toEqual((await enrichedView(without)).enrichment);
  });
});

describe('Null is absent: required paths stay required', () => {
  it.each(REQUIRED.map((p) => [label(p.steps), p.steps] as const))('%s: null is rejected at that path', (_name, steps) => {
    // Prepare
    const withNull = setNull(structuredClone(samples[0]!), steps);

    // Act
    const validated = validateEvent(withNull);

    // Assess
    expect(validated.kind).toBe('rejected');
    expect(validated.kind === 'rejected' && validated.path).toBe(expectedPath(steps));
    expect(guard(withNull)).toBe(false);
  });
});

describe('Null is absent: rendering', () => {
  /** Every optional key that is missing under an existing object becomes null (arrays: every element). */
  const addNulls = (value: unknown, schema: z.ZodMiniType): void => {
    const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
    if (def.type === 'optional' || def.type === 'nullable') return addNulls(value, def.innerType as z.ZodMiniType);
    if (def.type === 'array' && Array.isArray(value)) return value.forEach((item) => addNulls(item, def.element as z.ZodMiniType));
    if (def.type !== 'object' || !isContainer(value)) return;
    for (const [key, field] of Object.entries(def.shape as Record<string, z.ZodMiniType>)) {
      if (value[key] === undefined && field._zod.def.type === 'optional') value[key] = null;
      else addNulls(value[key], field);
    }
  };
  const sampleOf = (type: string): Json => structuredClone(samples.find((s) => s.type === type)!);
  const cases = Object.entries(REPRESENTATIVE_TYPES).map(([name, type]) => {
    // The same finding twice: without any null (as the view reads it), and with null in every optional key it lacks.
    const without = sampleOf(type);
    stripNulls(without, GuardDutyFindingSchema);
    const withNulls = structuredClone(without);
    addNulls(withNulls, GuardDutyFindingSchema);
    return [name, without, withNulls] as const;
  });

  it.each(cases)('%s: chat and ticket payloads are byte-identical with or without the nulls', async (_name, without, withNulls) => {
    // Prepare
    expect(JSON.stringify(withNulls).split('null').length).toBeGreaterThan(20);
    const [plain, nulled] = [await enrichedView(without), await enrichedView(withNulls)];

    // Act + Assess
    // Webhook is a target people are notified through whose body is the finding document (JSON formats): it keeps the nulls, as `raw` below.
    const people = targets.filter((t) => t.definition.updates === 'notify-policy' && t.type !== 'webhook');
    expect(people.map((t) => t.type)).toEqual(expect.arrayContaining(['slack', 'teams', 'jira', 'pagerduty', 'opsgenie', 'servicenow']));
    for (const target of people) expect({ type: target.type, body: target.render(nulled).body }).toEqual({ type: target.type, body: target.render(plain).body });
  });

  it.each(cases)('%s: the raw format keeps the nulls as sent; the enriched one and the webhook too', async (_name, without, withNulls) => {
    // Prepare
    const nulled = await enrichedView(withNulls);

    // Act
    const raw = renderJsonFormat(nulled, 'raw');
    const enriched = JSON.parse(renderJsonFormat(nulled, 'enriched')) as { finding: unknown };

    // Assess
    expect(raw).toBe(JSON.stringify(withNulls));
    expect(enriched.finding).toEqual(withNulls);
    expect(renderJsonFormat(await enrichedView(without), 'raw')).toBe(JSON.stringify(without));
    const webhook = targets.find((t) => t.type === 'webhook')!;
    expect((JSON.parse(webhook.render(nulled).body) as { finding: unknown }).finding).toEqual(withNulls);
  });
});

describe('Null is absent: across the stages (bus and queue carry JSON)', () => {
  it('keeps the nulls in the enriched event and the delivery job, and reads them as absent after each parse', async () => {
    // Prepare: the ssh sample with GuardDuty's nulls in an object, in an array element and at the top.
    const finding = structuredClone(samples.find((s) => s.type === 'UnauthorizedAccess:EC2/SSHBruteForce')!) as any;
    finding.service.evidence = null;
    finding.resource.instanceDetails.networkInterfaces[0].publicIp = null;
    finding.title = null;
    const sent = JSON.stringify(finding);

    // Act: enrich stage → bus (JSON) → route stage parse → job on the queue (JSON) → deliver stage parse.
    const onBus = JSON.stringify(await enrichedView(finding));
    const routed = z.parse(EnrichedFindingSchema, JSON.parse(onBus));
    const onQueue = JSON.stringify(makeJob('all-slack', routed, ['high']));
    const delivered = z.parse(DeliveryJobSchema, JSON.parse(onQueue)).enriched.finding as any;

    // Assess
    expect(JSON.stringify((JSON.parse(onBus) as { finding: unknown }).finding)).toBe(JSON.stringify(JSON.parse(sent)));
    for (const view of [routed.finding as any, delivered]) {
      expect('evidence' in view.service).toBe(false);
      expect('publicIp' in view.resource.instanceDetails.networkInterfaces[0]).toBe(false);
      expect('title' in view).toBe(false);
    }
    expect(JSON.parse(JSON.stringify(delivered))).toEqual(JSON.parse(sent));
    expect(renderJsonFormat({ finding: delivered, enrichment: routed.enrichment }, 'raw')).toContain('"evidence":null');
  });
});

/** Deletes every null held by an optional field (the view's reading, done by hand for the fixture). */
function stripNulls(value: unknown, schema: z.ZodMiniType): void {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  if (def.type === 'optional' || def.type === 'nullable') return stripNulls(value, def.innerType as z.ZodMiniType);
  if (def.type === 'array' && Array.isArray(value)) return value.forEach((item) => stripNulls(item, def.element as z.ZodMiniType));
  if (def.type !== 'object' || !isContainer(value)) return;
  for (const [key, field] of Object.entries(def.shape as Record<string, z.ZodMiniType>)) {
    if (value[key] === null && field._zod.def.type === 'optional') delete value[key];
    else stripNulls(value[key], field);
  }
}
