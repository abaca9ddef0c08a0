import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { EventBridgeEnvelopeSchema } from '../../../schemas/envelope.ts';
import { GuardDutyFindingSchema } from '../../../schemas/finding.ts';
import { compileGuard, compileReader, GuardCompileError, REFUSED } from '../../../schemas/guard.ts';
import { validateEvent } from '../../../shared/validate.ts';

const EVENTS = join(import.meta.dirname, '../../events');
/** The JSON events of a corpus directory (the malformed corpus also holds text that is not JSON: skipped here). */
const readDir = (dir: string): unknown[] =>
  readdirSync(join(EVENTS, dir))
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(EVENTS, dir, f), 'utf8').replace(/^\uFEFF/, ''))];
      } catch {
        return [];
      }
    });
const detailOf = (event: unknown): unknown => (typeof event === 'object' && event !== null && 'detail' in event ? event.detail : event);
const samples = readDir('samples').map(detailOf);
const corpus = [...samples, ...readDir('published').map(detailOf), ...readDir('malformed').map(detailOf), ...readDir('malformed')];

const isFinding = compileGuard(GuardDutyFindingSchema);

/** The guard's contract: it says yes exactly when zod succeeds, and zod then returns the input unchanged. */
const expectSameVerdict = (value: unknown) => {
  const parsed = z.safeParse(GuardDutyFindingSchema, value);
  const guarded = isFinding(value);
  expect({ guarded, zod: parsed.success }).toEqual({ guarded: parsed.success, zod: parsed.success });
  if (guarded) expect(parsed.data).toStrictEqual(value);
};

type Path = (string | number)[];
const pathsOf = (value: unknown, at: Path = []): Path[] =>
  typeof value === 'object' && value !== null
    ? Object.entries(value).flatMap(([key, child]) => [[...at, Array.isArray(value) ? Number(key) : key], ...pathsOf(child, [...at, Array.isArray(value) ? Number(key) : key])])
    : [];
const withValueAt = (root: unknown, path: Path, replace: (parent: Record<string | number, unknown>, key: string | number) => void): unknown => {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  replace(parent, path.at(-1)!);
  return copy;
};

describe('Schema guard: the same verdict as zod', () => {
  it.each(corpus.map((value, i) => [i, value] as const))('agrees with zod on corpus event %i', (_i, value) => {
    // Act + Assess
    expectSameVerdict(value);
  });

  it('agrees with zod when any field of a valid finding is replaced by another JSON value', () => {
    // Prepare
    const cases = fc.tuple(
      fc.nat({ max: samples.length - 1 }),
      fc.nat(),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('123456789012', '', 'x'.repeat(301), -1, 10.5, 7, null, [], {}, 'Recon:EC2/Portscan')),
    );
    // Act + Assess
    fc.assert(
      fc.property(cases, ([which, pick, replacement]) => {
        const finding = samples[which];
        const paths = pathsOf(finding);
        const path = paths[pick % paths.length]!;
        expectSameVerdict(withValueAt(finding, path, (parent, key) => void (parent[key] = replacement)));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with zod when any field of a valid finding is removed', () => {
    // Act + Assess
    fc.assert(
      fc.property(fc.nat({ max: samples.length - 1 }), fc.nat(), (which, pick) => {
        const paths = pathsOf(samples[which]);
        expectSameVerdict(withValueAt(samples[which], paths[pick % paths.length]!, (parent, key) => void delete parent[key]));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses an own __proto__ key, which zod would not copy, so zod decides', () => {
    // Prepare
    const value = JSON.parse(JSON.stringify(samples[0]).replace('{', '{"__proto__":{"polluted":true},'));
    // Act
    const result = validateEvent({ 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', id: 'e', account: '123456789012', time: 't', region: 'us-east-1', detail: value });
    // Assess
    expect(isFinding(value)).toBe(false);
    expect(result.kind).toBe('finding');
    expect(Object.hasOwn(result.kind === 'finding' ? result.finding : {}, '__proto__')).toBe(false);
  });

  it('passes a valid finding through as the very object received (no copy, key order kept)', () => {
    // Prepare
    const event = { 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', id: 'e', account: '123456789012', time: 't', region: 'us-east-1', detail: samples[1] };
    // Act
    const result = validateEvent(event);
    // Assess
    expect(result.kind === 'finding' && result.finding).toBe(samples[1]);
  });

  it('compiles the envelope schema and agrees with zod on envelopes', () => {
    // Prepare
    const isEnvelope = compileGuard(EventBridgeEnvelopeSchema);
    const good = { id: 'e', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: '1', time: 't', region: 'r', detail: {} };
    // Act + Assess
    for (const value of [good, { ...good, resources: ['a'] }, { ...good, resources: [1] }, { ...good, id: 3 }, { ...good, version: null }, []]) {
      expect(isEnvelope(value)).toBe(z.safeParse(EventBridgeEnvelopeSchema, value).success);
    }
  });

  it('agrees with zod on missing, undefined and present keys of every kind of field', () => {
    // Prepare: the object guard answers a missing optional key itself; every other field decides on its own.
    const schema = z.looseObject({
      anything: z.unknown(),
      plain: z.optional(z.string()),
      checked: z.optional(z.string().check(z.minLength(2))),
      nullish: z.nullable(z.optional(z.number())),
      required: z.string(),
      either: z.union([z.optional(z.boolean()), z.string()]),
    });
    const guard = compileGuard(schema);
    const keys = ['anything', 'plain', 'checked', 'nullish', 'required', 'either'] as const;
    const values = [undefined, null, 'x', 'xy', 1, true, {}];
    // Act + Assess
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values)), (value) => {
        expect(guard(value)).toBe(z.safeParse(schema, value).success);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a stripping object', z.object({ a: z.string() })],
    ['a strict object', z.strictObject({ a: z.string() })],
    ['a default', z.looseObject({ a: z._default(z.string(), 'x') })],
    ['a transform', z.looseObject({ a: z.pipe(z.string(), z.transform((s: string) => s.length)) })],
    ['a coercion', z.looseObject({ a: z.coerce.number() })],
  ])('refuses to compile %s, whose output differs from its input', (_name, schema) => {
    // Act + Assess
    expect(() => compileGuard(schema as z.ZodMiniType)).toThrow(GuardCompileError);
  });
});

describe('Schema reader: null in an optional field reads as absent', () => {
  const read = compileReader(GuardDutyFindingSchema);

  /** Whether any optional field of `value` (as `schema` declares it) holds null. */
  const holdsOptionalNull = (value: unknown, schema: z.ZodMiniType): boolean => {
    const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
    if (def.type === 'optional' || def.type === 'nullable') return holdsOptionalNull(value, def.innerType as z.ZodMiniType);
    if (def.type === 'array') return Array.isArray(value) && value.some((item) => holdsOptionalNull(item, def.element as z.ZodMiniType));
    if (def.type !== 'object' || typeof value !== 'object' || value === null) return false;
    return Object.entries(def.shape as Record<string, z.ZodMiniType>).some(([key, field]) => {
      const item = (value as Record<string, unknown>)[key];
      return (item === null && field._zod.def.type === 'optional') || holdsOptionalNull(item, field);
    });
  };

  it('returns what zod accepts, without its optional nulls, and its JSON is what zod returns', () => {
    // Prepare: valid findings with any field replaced by null (or another value).
    const cases = fc.tuple(fc.nat({ max: samples.length - 1 }), fc.nat(), fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 1 })));
    // Act + Assess
    fc.assert(
      fc.property(cases, ([which, pick, replacement]) => {
        const paths = pathsOf(samples[which]);
        const value = withValueAt(samples[which], paths[pick % paths.length]!, (parent, key) => void (parent[key] = replacement));
        const parsed = z.safeParse(GuardDutyFindingSchema, value);
        const view = read(value);
        expect(view === REFUSED).toBe(!parsed.success);
        if (view === REFUSED) return;
        expect(holdsOptionalNull(view, GuardDutyFindingSchema)).toBe(false);
        // Both sides through JSON: a generated -0 is written as 0 by either.
        expect(JSON.parse(JSON.stringify(view))).toStrictEqual(JSON.parse(JSON.stringify(parsed.data)));
        expect(view === value).toBe(!holdsOptionalNull(value, GuardDutyFindingSchema));
      }),
      { numRuns: 2000 },
    );
  });

  it('copies only the objects on the way to a null; the rest stays the very objects received', () => {
    // Prepare
    const finding = structuredClone(samples.find((s) => (s as any).resource?.instanceDetails && (s as any).service)) as any;
    finding.resource.instanceDetails.platform = null;
    // Act
    const view = read(finding) as any;
    // Assess
    expect(view).not.toBe(finding);
    expect(view.resource).not.toBe(finding.resource);
    expect('platform' in view.resource.instanceDetails).toBe(false);
    expect(view.service).toBe(finding.service);
    expect(view.resource.instanceDetails.tags).toBe(finding.resource.instanceDetails.tags);
    expect(JSON.stringify(view)).toBe(JSON.stringify(finding));
  });

  it("writes what was changed on the view into its JSON, the nulls still in their places", () => {
    // Prepare
    const finding = structuredClone(samples[0]) as any;
    finding.title = null;
    finding.description = null;
    const view = read(finding) as any;
    // Act
    view.description = 'set later';
    view.severity = 9;
    view.addedLater = true;
    const json = JSON.parse(JSON.stringify(view));
    // Assess: key order as sent, the null that was not set kept, the new field last.
    expect(json.title).toBeNull();
    expect(json.description).toBe('set later');
    expect(json.severity).toBe(9);
    expect(Object.keys(json)).toEqual([...Object.keys(finding), 'addedLater']);
  });

  it('keeps an input key named toJSON as data (that object then serialises without its nulls)', () => {
    // Prepare
    const finding = { ...(structuredClone(samples[0]) as object), toJSON: 'data', title: null } as Record<string, unknown>;
    // Act
    const view = read(finding) as Record<string, unknown>;
    // Assess
    expect(view.toJSON).toBe('data');
    expect('title' in view).toBe(false);
    expect(JSON.parse(JSON.stringify(view)).toJSON).toBe('data');
  });
});
