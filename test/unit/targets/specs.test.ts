import { describe, expect, it } from 'vitest';
import { TARGET_DEFINITIONS, TARGET_SPECS, targetDefinition, targetSpec } from '../../../shared/targets/registry.ts';

/**
 * Config compilation reads TARGET_SPECS, delivery and the CLI read TARGET_DEFINITIONS (registry.ts
 * keeps two lists so that the route bundle can leave the definitions out). The lists must name the
 * same targets, and each definition must carry exactly its spec's policy: otherwise the route
 * Lambda would accept, classify or hold back a target differently from the deliver Lambda.
 */
const SPEC_KEYS = ['category', 'configSchema', 'digest', 'local', 'type', 'updates'];

describe('target specs and definitions (shared/targets/registry.ts)', () => {
  it('name the same types in the same order', () => {
    expect(TARGET_SPECS.map((spec) => spec.type)).toEqual(TARGET_DEFINITIONS.map((definition) => definition.type));
    expect(new Set(TARGET_SPECS.map((spec) => spec.type)).size).toBe(TARGET_SPECS.length);
  });

  it.each(TARGET_SPECS.map((spec) => [spec.type, spec] as const))('%s: the spec holds the compile-time fields and the definition the very same values', (type, spec) => {
    expect(Object.keys(spec).sort()).toEqual(SPEC_KEYS);
    const definition = targetDefinition(type)!;
    for (const key of SPEC_KEYS) expect(definition[key as keyof typeof definition], key).toBe(spec[key as keyof typeof spec]);
    expect(targetSpec(type)).toBe(spec);
  });

  it('an unknown type has neither', () => {
    expect(targetSpec('carrier-pigeon')).toBeUndefined();
    expect(targetDefinition('carrier-pigeon')).toBeUndefined();
  });
});
