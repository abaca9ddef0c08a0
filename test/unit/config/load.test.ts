import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { ACCOUNTS_CONFIG } from '../../../shared/accounts/directory.ts';
import { ConfigError } from '../../../shared/errors.ts';

const errorOf = (text: string): string => {
  try {
    parseConfig(ROUTES_CONFIG, text, 'routes.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

const BASE = 'targets:\n  chat: { type: console }\ndefault:\n  targets: [chat]\n';

describe('Config: routes file errors name file:line:column', () => {
  const cases: [string, string, string][] = [
    ['an unknown top-level key', `${BASE}rutes: []\n`, "routes.yml:5:1: unknown key 'rutes' (did you mean 'routes'?)"],
    ['an unknown key in a match', `${BASE}routes:\n  - name: r\n    match: { severty: { min: 4 } }\n    targets: [chat]\n`, "routes.yml:7:14: unknown key 'severty' (did you mean 'severity'?)"],
    ['an undefined target in a route', `${BASE}routes:\n  - name: r\n    targets: [chat, pager]\n`, "routes.yml:7:21: undefined target 'pager'"],
    ['an undefined default target', 'targets:\n  chat: { type: console }\ndefault:\n  targets: [nope]\n', "routes.yml:4:13: undefined target 'nope'"],
    ['a bad glob', `${BASE}routes:\n  - name: r\n    match: { type: "Recon:[EC2" }\n    targets: [chat]\n`, "routes.yml:7:20: type: unclosed '['"],
    ['a bad regex', `${BASE}routes:\n  - name: r\n    match: { typeRegex: "(" }\n    targets: [chat]\n`, 'routes.yml:7:25: typeRegex: Invalid regular expression'],
    ['an unknown target type', 'targets:\n  chat: { type: telegraph }\ndefault:\n  targets: [chat]\n', "routes.yml:2:17: target 'chat': unknown type 'telegraph'"],
    ['a missing target setting', 'targets:\n  s: { type: slack }\ndefault:\n  targets: [s]\n', 'routes.yml:2:6: targets.s.webhookUrl: Invalid input'],
    ['an unknown target setting', 'targets:\n  f: { type: file, path: x, mode: 1 }\ndefault:\n  targets: [f]\n', "routes.yml:2:29: unknown key 'mode'"],
    ['a missing default', 'targets:\n  chat: { type: console }\n', 'routes.yml:1:1: default: Invalid input: expected object, received undefined'],
    ['a duplicate route name', `${BASE}routes:\n  - name: r\n    targets: [chat]\n  - name: r\n    targets: [chat]\n`, "routes.yml:8:11: duplicate route name 'r' (first at line 6)"],
    ['a YAML syntax error', 'targets: [\n', 'routes.yml:2:1:'],
    ['a duplicate key', 'targets: {}\ntargets: {}\n', 'routes.yml:2:1: Map keys must be unique'],
    ['severity as a string', `${BASE}routes:\n  - name: r\n    match: { severity: "high" }\n    targets: [chat]\n`, 'routes.yml:7:24: routes.0.match.severity: Invalid input'],
  ];
  for (const [name, text, expected] of cases) {
    it(`reports ${name}`, () => {
      // Prepare / Act
      const message = errorOf(text);
      // Assess
      expect(message).toContain(expected);
    });
  }

  it('reports every problem at once', () => {
    // Prepare
    const text = `${BASE}routes:\n  - name: a\n    targets: [x]\n  - name: b\n    targets: [y]\n`;
    // Act
    const error = (() => { try { parseConfig(ROUTES_CONFIG, text, 'r.yml'); } catch (e) { return e as ConfigError; } })();
    // Assess
    expect(error?.problems.map((p) => p.message)).toEqual(["undefined target 'x'", "undefined target 'y'"]);
  });

  it('warns about inline secret values but loads', () => {
    // Prepare / Act
    const config = parseConfig(ROUTES_CONFIG, "targets:\n  s: { type: slack, webhookUrl: { value: 'https://hooks.slack.com/services/T/B/X' } }\ndefault:\n  targets: [s]\n", 'r.yml');
    // Assess
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]?.message).toContain('inline secret value');
    expect(config.warnings[0]?.message).not.toContain('hooks.slack.com');
  });
});

describe('Config: accounts file', () => {
  it('loads names, OU and tags', () => {
    // Prepare / Act
    const accounts = parseConfig(ACCOUNTS_CONFIG, 'accounts:\n  "111111111111": { name: a, ou: Root/X, tags: { env: prod, tier: 1 } }\n', 'a.yml');
    // Assess
    expect(accounts.get('111111111111')).toEqual({ id: '111111111111', known: true, name: 'a', ou: 'Root/X', tags: { env: 'prod', tier: '1' } });
  });

  it('rejects an unquoted or short account id with its location', () => {
    // Prepare / Act / Assess
    expect(() => parseConfig(ACCOUNTS_CONFIG, 'accounts:\n  "12345": { name: a }\n', 'a.yml')).toThrow(/a\.yml:2:3: .*12-digit/);
  });
});
