import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { evaluateRoutes } from '../../../shared/routing/evaluate.ts';
import { compileGlob } from '../../../shared/routing/glob.ts';
import { compileUserRegex } from '../../../shared/routing/user-regex.ts';
import { route } from '../../../shared/pipeline.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';

/**
 * Issue 14 item 7: user patterns run on finding-derived text, so none may backtrack
 * exponentially. The patterns and inputs below hang (or take seconds per finding on) the
 * JavaScript RegExp engine; here they must answer at once. The vitest timeout is only a guard:
 * the assertions are on the verdicts and on which engine compiled the pattern.
 */
const REAL_TYPE = 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS';
const NESTED_QUANTIFIER = '^([\\w:/]+)+$';
const STAR_CHAIN = '*a*a*a*a*a*b';
const CRAFTED = 'a'.repeat(5_000);

const load = (yaml: string) => parseConfig(ROUTES_CONFIG, `targets: { t: { type: console }, other: { type: console } }\ndefault: { targets: [other] }\n${yaml}`, 'routes.yml');
const routeWith = (match: string) => load(`routes:\n  - name: r\n    match: ${match}\n    targets: [t]\n`);

describe('User patterns: globs', () => {
  const table: [string, string, boolean][] = [
    ['Recon:*', 'Recon:EC2/PortProbeUnprotectedPort', true],
    ['Recon:*', 'Backdoor:EC2/Spambot', false],
    ['*Exfiltration*', REAL_TYPE, true],
    ['UnauthorizedAccess:EC2/SSH?ruteForce', 'UnauthorizedAccess:EC2/SSHBruteForce', true],
    ['eu-*-1', 'eu-west-1', true],
    ['eu-*-1', 'eu-west-2', false],
    ['[ab]*', 'b', true],
    ['[!ab]*', 'b', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[]]', ']', true],
    ['a.b+c(d)', 'a.b+c(d)', true],
    ['a.b', 'axb', false],
    ['**', '', true],
    ['*', 'line\nbreak', true],
    ['a*', 'ba', false],
    ['*a', 'ab', false],
    ['*ab*ab', 'xabyabab', true],
    ['1111*', '111111111111', true],
  ];
  for (const [glob, text, expected] of table) {
    it(`'${glob}' on ${JSON.stringify(text)} → ${expected}`, () => {
      // Act / Assess
      expect(compileGlob(glob).test(text)).toBe(expected);
    });
  }

  it('agrees with a regular-expression oracle on random short globs and texts', () => {
    // Prepare: a seeded generator; the oracle is the backtracking engine, safe on inputs this short
    let seed = 14;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pick = (parts: readonly string[], length: number) => Array.from({ length }, () => parts[next(parts.length)]).join('');
    const oracle = (glob: string) =>
      new RegExp(`^${glob.replace(/[.+^${}()|\\/]/g, '\\$&').replace(/\*+/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^')}$`, 's');
    const disagreements: string[] = [];
    // Act
    for (let i = 0; i < 3_000; i++) {
      const glob = pick(['a', 'b', '*', '?', '[ab]', '[!a]', '.', '**'], 1 + next(6));
      const text = pick(['a', 'b', 'c', '.'], next(9));
      if (compileGlob(glob).test(text) !== oracle(glob).test(text)) disagreements.push(`${glob} on ${text}`);
    }
    // Assess
    expect(disagreements).toEqual([]);
  });

  it('compiles to the segment matcher, never to a RegExp', () => {
    // Act
    const glob = compileGlob(STAR_CHAIN);
    // Assess
    expect(glob).not.toBeInstanceOf(RegExp);
    expect(glob.glob).toBe(STAR_CHAIN);
  });

  it(`answers '${STAR_CHAIN}' on crafted text at once`, () => {
    // Prepare
    const glob = compileGlob(STAR_CHAIN);
    // Act / Assess
    expect(glob.test(CRAFTED)).toBe(false);
    expect(glob.test(`${CRAFTED}b`)).toBe(true);
    expect(glob.test(`${'ab'.repeat(2_500)}c`)).toBe(false);
  });

  it('rejects malformed globs with a message', () => {
    // Act / Assess
    expect(() => compileGlob('Recon:[EC2')).toThrow("unclosed '['");
    expect(() => compileGlob('a]')).toThrow("unmatched ']'");
    expect(() => compileGlob('[z-a]')).toThrow('range out of order');
    expect(() => compileGlob('')).toThrow('empty glob');
  });

  it('routes on a crafted type, tag and account name through every glob matcher', async () => {
    // Prepare
    const config = routeWith(`{ any: [{ type: "${STAR_CHAIN}" }, { threatFamily: "${STAR_CHAIN}" }, { resourceTags: { env: "${STAR_CHAIN}" } }, { account: { name: "${STAR_CHAIN}", tags: { env: "${STAR_CHAIN}" } } }] }`);
    const enriched = await enrich(makeFinding({
      type: `Recon:EC2/${'a'.repeat(80)}`,
      resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-1', tags: [{ key: 'env', value: CRAFTED }] } },
    }));
    const matching = await enrich(makeFinding({ resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-1', tags: [{ key: 'env', value: `${CRAFTED}b` }] } } }));
    // Act / Assess
    expect(evaluateRoutes(config.routes, config.defaultTargets, enriched).targets).toEqual(['other']);
    expect(evaluateRoutes(config.routes, config.defaultTargets, matching).targets).toEqual(['t']);
  });

  it('checks jurisdictions with the same matcher, keeping test(region) for the pipeline', async () => {
    // Prepare
    const config = parseConfig(ROUTES_CONFIG, `jurisdictions: { eu: ["${STAR_CHAIN}"] }\ntargets:\n  eu-siem: { type: console, jurisdiction: eu }\ndefault: { targets: [eu-siem] }\n`, 'routes.yml');
    const region = compileGlob('eu-*');
    // Act
    const result = await route(await enrich(makeFinding({ region: 'a'.repeat(60) })), { config, state: memoryFindingState() });
    // Assess
    expect(config.jurisdictions.get('eu')?.[0]?.test(CRAFTED)).toBe(false);
    expect(region.test('eu-west-1')).toBe(true);
    expect(result.refused.map((r) => r.target)).toEqual(['eu-siem']);
  });
});

describe('User patterns: typeRegex runs on RE2', () => {
  it('compiles a typeRegex with the linear-time engine', () => {
    // Act / Assess
    expect(compileUserRegex(NESTED_QUANTIFIER)).toBeInstanceOf(RE2JS);
  });

  it(`answers '${NESTED_QUANTIFIER}' on the real type ${REAL_TYPE}`, async () => {
    // Prepare
    const config = routeWith(`{ typeRegex: "${NESTED_QUANTIFIER.replaceAll('\\', '\\\\')}" }`);
    // Act
    const exfiltration = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ type: REAL_TYPE })));
    const plain = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ type: 'Recon:EC2/PortProbeUnprotectedPort' })));
    // Assess
    expect(exfiltration.routes).toEqual(['default']);
    expect(plain.routes).toEqual(['r']);
  });

  it('keeps the unanchored RegExp.test meaning', async () => {
    // Prepare
    const config = routeWith('{ typeRegex: "(Backdoor|CryptoCurrency):EC2/" }');
    // Act / Assess
    expect(evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ type: 'CryptoCurrency:EC2/BitcoinTool.B' }))).routes).toEqual(['r']);
    expect(evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ type: 'Recon:EC2/Portscan' }))).routes).toEqual(['default']);
  });

  const refused: [string, string, string][] = [
    ['a backreference', '(Recon)\\\\1', 'routes.yml:5:25: typeRegex: Invalid regular expression: backreferences are not supported (patterns run on RE2'],
    ['a lookahead', '^(?=Recon)', 'routes.yml:5:25: typeRegex: Invalid regular expression: lookaround (lookahead, lookbehind) is not supported'],
    ['a lookbehind', '(?<!Recon):EC2', 'routes.yml:5:25: typeRegex: Invalid regular expression: lookaround (lookahead, lookbehind) is not supported'],
    ['a syntax error', '(Recon', 'routes.yml:5:25: typeRegex: Invalid regular expression (RE2 syntax): missing closing )'],
  ];
  for (const [name, pattern, expected] of refused) {
    it(`refuses ${name} at file:line:column, saying why`, () => {
      // Act
      const error = (() => {
        try {
          routeWith(`{ typeRegex: "${pattern}" }`);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      // Assess
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(expected);
    });
  }
});
