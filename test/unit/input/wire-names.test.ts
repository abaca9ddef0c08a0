import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, generateWireNames, MODEL_LABEL, OUTPUT } from '../../../scripts/generate-wire-names.ts';
import { WIRE_SHAPES } from '../../../shared/input/wire-names.generated.ts';

describe('Wire names: generated from the GuardDuty service model', () => {
  it('the checked-in module equals a fresh generation from the model (run `npm run wire-names` after a model update)', () => {
    // Prepare
    expect(existsSync(DEFAULT_MODEL), `service model expected at ${DEFAULT_MODEL}`).toBe(true);
    // Act
    const fresh = generateWireNames(readFileSync(DEFAULT_MODEL, 'utf8'), MODEL_LABEL);
    // Assess
    expect(readFileSync(OUTPUT, 'utf8')).toBe(fresh);
  });

  it('the model is the reference copy next to this checkout, byte for byte, where that copy exists', () => {
    const reference = new URL('../../../../shared/guardduty/reference/botocore-guardduty-service-2.json', import.meta.url);
    if (existsSync(reference)) expect(readFileSync(DEFAULT_MODEL, 'utf8')).toBe(readFileSync(reference, 'utf8'));
    expect(readFileSync(OUTPUT, 'utf8')).toContain(`sha256 ${createHash('sha256').update(readFileSync(DEFAULT_MODEL)).digest('hex')}`);
  });

  it("takes each member's locationName from the model, also where it is not the member name with a lower-case first letter", () => {
    // Prepare: the members whose wire name a case rule would get wrong
    const model = JSON.parse(readFileSync(DEFAULT_MODEL, 'utf8')) as { shapes: Record<string, { members?: Record<string, { locationName?: string }> }> };
    // Act
    const irregular = Object.entries(WIRE_SHAPES).flatMap(([shape, members]) =>
      Object.entries(members)
        .map(([member, encoded]) => [shape, member, typeof encoded === 'string' ? encoded : encoded[0]] as const)
        .filter(([, member, wire]) => wire !== member.charAt(0).toLowerCase() + member.slice(1)),
    );
    // Assess
    expect(irregular).toEqual(
      expect.arrayContaining([
        ['ProductCode', 'Code', 'productCodeId'],
        ['KubernetesApiCallAction', 'SourceIps', 'sourceIPs'],
        ['NetworkGeoLocation', 'Latitude', 'lat'],
        ['RdsLoginAttemptAction', 'LoginAttributes', 'LoginAttributes'],
      ]),
    );
    for (const [shape, member, wire] of irregular) expect(model.shapes[shape]!.members![member]!.locationName ?? member).toBe(wire);
  });
});
