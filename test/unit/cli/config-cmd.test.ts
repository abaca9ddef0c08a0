import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG, shadowedRoutes } from '../../../shared/config/routes-config.ts';
import { routesJsonSchema } from '../../../shared/cli/config-cmd.ts';

const ROOT = join(import.meta.dirname, '../../..');

describe('Command: config schema', () => {
  it('matches the checked-in routes.schema.json (regenerate with npm run schema)', () => {
    // Prepare
    const checkedIn = JSON.parse(readFileSync(join(ROOT, 'routes.schema.json'), 'utf8'));
    // Act
    const generated = routesJsonSchema();
    // Assess
    expect(generated).toEqual(checkedIn);
  });

  it('is draft 2020-12, strict at the top, and knows every target type', () => {
    // Act
    const schema = routesJsonSchema() as Record<string, any>;
    // Assess
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    const types = schema.properties.targets.additionalProperties.anyOf.map((s: any) => s.properties.type.const);
    expect(types).toEqual(expect.arrayContaining(['console', 'file', 'slack', 'webhook']));
  });
});

describe('Command: config check analysis', () => {
  const check = (routes: string) =>
    shadowedRoutes(parseConfig(ROUTES_CONFIG, `targets: { t: { type: console } }\ndefault: { targets: [t] }\nroutes:\n${routes}`, 'r.yml')).map((p) => `${p.line}:${p.column} ${p.message}`);

  it('flags a route after a catch-all sibling', () => {
    // Act / Assess
    expect(check('  - name: all\n    targets: [t]\n  - name: high\n    match: { severity: { min: 7 } }\n    targets: [t]\n')).toEqual([
      "6:11 route 'high' can never match: route 'all' before it (without continue) matches everything it would",
    ]);
  });

  it('flags a route whose conditions include all of an earlier sibling’s', () => {
    // Act / Assess
    expect(check('  - name: a\n    match: { region: "eu-*" }\n    targets: [t]\n  - name: b\n    match: { region: "eu-*", severity: { min: 7 } }\n    targets: [t]\n')).toHaveLength(1);
  });

  it('does not flag when the earlier route continues or is narrower', () => {
    // Act / Assess
    expect(check('  - name: a\n    match: { region: "eu-*" }\n    targets: [t]\n    continue: true\n  - name: b\n    targets: [t]\n')).toEqual([]);
    expect(check('  - name: a\n    match: { region: "eu-*", severity: { min: 7 } }\n    targets: [t]\n  - name: b\n    match: { region: "eu-*" }\n    targets: [t]\n')).toEqual([]);
  });

  it('reports a jurisdiction leak for a route without a region restriction', () => {
    // Prepare
    const config = parseConfig(
      ROUTES_CONFIG,
      'jurisdictions: { eu: ["eu-*"] }\ntargets:\n  t: { type: console }\n  eu-siem: { type: file, path: x, jurisdiction: eu }\ndefault: { targets: [t] }\nroutes:\n  - name: all\n    targets: [eu-siem]\n  - name: eu-only\n    match: { region: [eu-west-1, eu-central-1] }\n    targets: [eu-siem]\n',
      'r.yml',
    );
    // Act / Assess
    expect(config.analysis.map((p) => `${p.line}: ${p.message}`)).toEqual([
      "7: route 'all' can send findings from regions outside jurisdiction 'eu' to target 'eu-siem' (restrict it with match.region)",
    ]);
  });
});
