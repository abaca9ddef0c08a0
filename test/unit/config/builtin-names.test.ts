import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { EnrichedFindingSchema } from '../../../schemas/enriched.ts';
import { ACCOUNTS_CONFIG } from '../../../shared/accounts/directory.ts';
import { createAccountChain, type AccountSource } from '../../../shared/accounts/chain.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { parseYamlSource } from '../../../shared/config/yaml-source.ts';
import { resourceTags } from '../../../shared/enrich.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { evaluateRoutes } from '../../../shared/routing/evaluate.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';
import { runBin } from '../../helpers/run-bin.ts';

/**
 * Issue 14 item 8: names of JavaScript built-ins (`constructor`, `toString`, `__proto__`) used
 * as target names, jurisdictions or tag keys are ordinary names: never answered from
 * Object.prototype, never dropped.
 */
const ROOT = join(import.meta.dirname, '../../..');

const errorsOf = (text: string): string[] => {
  try {
    parseConfig(ROUTES_CONFIG, text, 'routes.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split('\n');
  }
  return [];
};

/** A resource whose instance carries exactly these tags (pairs: a `__proto__` key in an object literal would set the prototype). */
const tagged = (tags: [string, string][]) => ({
  resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-1', tags: tags.map(([key, value]) => ({ key, value })) } },
});

describe('Built-in names: targets', () => {
  for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
    it(`refuses an undefined target '${name}' in a route and in default`, () => {
      // Act
      const errors = errorsOf(`targets:\n  chat: { type: console }\ndefault:\n  targets: [${name}]\nroutes:\n  - name: r\n    targets: [chat, ${name}]\n`);
      // Assess
      expect(errors).toEqual([`routes.yml:4:13: undefined target '${name}'`, `routes.yml:7:21: undefined target '${name}'`]);
    });
  }

  it('loads targets named constructor, toString and __proto__ and routes to them', async () => {
    // Prepare
    const config = parseConfig(
      ROUTES_CONFIG,
      'targets:\n  constructor: { type: console }\n  toString: { type: console }\n  __proto__: { type: console }\ndefault:\n  targets: [__proto__]\nroutes:\n  - name: high\n    match: { severity: { min: 7 } }\n    targets: [constructor, toString]\n',
      'routes.yml',
    );
    // Act
    const high = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ severity: 8 })));
    const low = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ severity: 2 })));
    // Assess
    expect([...config.targets.keys()]).toEqual(['constructor', 'toString', '__proto__']);
    expect(config.targets.get('__proto__')?.type).toBe('console');
    expect(high.targets).toEqual(['constructor', 'toString']);
    expect(low.targets).toEqual(['__proto__']);
  });

  it('checks a target named __proto__ like any other (its settings, its name)', () => {
    // Act / Assess
    expect(errorsOf('targets:\n  __proto__: { type: file }\ndefault:\n  targets: [__proto__]\n')).toEqual([expect.stringContaining('routes.yml:2:14: targets.__proto__.path')]);
  });

  it('keeps a jurisdiction named __proto__', () => {
    // Act
    const config = parseConfig(ROUTES_CONFIG, 'jurisdictions:\n  __proto__: [eu-*]\ntargets:\n  t: { type: console, jurisdiction: __proto__ }\ndefault:\n  targets: [t]\n', 'routes.yml');
    // Assess
    expect(config.jurisdictions.get('__proto__')?.[0]?.test('eu-west-1')).toBe(true);
  });

  it('delivers end to end to file targets named constructor and __proto__ (replay CLI)', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'builtin-names-'));
    const routes = join(dir, 'routes.yml');
    writeFileSync(routes, `targets:\n  constructor: { type: file, path: ${join(dir, 'constructor.ndjson')} }\n  __proto__: { type: file, path: ${join(dir, 'proto.ndjson')} }\ndefault:\n  targets: [constructor, __proto__]\n`);
    // Act
    const run = await runCli(['replay', join(ROOT, 'test/events/samples/backdoor-ec2-spambot.json'), '--routes', routes, '--json', '--report', join(dir, 'report.html')]);
    // Assess
    expect(run.code, run.stderr).toBe(0);
    // Per-target counts on the report page: never Object's own `constructor` function
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).not.toContain('[native code]');
    for (const file of ['constructor.ndjson', 'proto.ndjson']) {
      expect(existsSync(join(dir, file)), file).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, file), 'utf8').trim().split('\n')[0]!)).toMatchObject({ finding: { type: 'Backdoor:EC2/Spambot' } });
    }
  });
});

describe('Built-in names: tag keys', () => {
  const routesMatching = (match: string) =>
    parseConfig(ROUTES_CONFIG, `targets: { t: { type: console }, other: { type: console } }\ndefault: { targets: [other] }\nroutes:\n  - name: r\n    match: ${match}\n    targets: [t]\n`, 'routes.yml');

  for (const key of ['constructor', 'toString', '__proto__']) {
    it(`resourceTags: { ${key}: "*" } matches only a resource that has that tag`, async () => {
      // Prepare
      const config = routesMatching(`{ resourceTags: { ${key}: "*" } }`);
      // Act
      const without = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding(tagged([['env', 'prod']]))));
      const withTag = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding(tagged([[key, 'yes']]))));
      // Assess
      expect(without.targets).toEqual(['other']);
      expect(withTag.targets).toEqual(['t']);
    });

    it(`account.tags: { ${key}: "*" } matches only an account that has that tag`, async () => {
      // Prepare
      const config = routesMatching(`{ account: { tags: { ${key}: "*" } } }`);
      const accounts = parseConfig(ACCOUNTS_CONFIG, `accounts:\n  "111111111111": { name: plain, tags: { env: prod } }\n  "222222222222": { name: tagged, tags: { ${key}: "yes" } }\n`, 'accounts.yml');
      // Act
      const without = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ accountId: '111111111111' }), accounts));
      const withTag = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ accountId: '222222222222' }), accounts));
      // Assess
      expect(without.targets).toEqual(['other']);
      expect(withTag.targets).toEqual(['t']);
    });
  }

  it('keeps resource tags named constructor and __proto__ (first value wins)', () => {
    // Act
    const tags = resourceTags(makeFinding(tagged([['constructor', 'a'], ['__proto__', 'b'], ['toString', 'c'], ['constructor', 'later']])).resource);
    // Assess
    expect(Object.entries(tags)).toEqual([['constructor', 'a'], ['__proto__', 'b'], ['toString', 'c']]);
  });

  it('keeps tags named constructor and __proto__ in the enriched event between the Lambdas', async () => {
    // Prepare
    const accounts = parseConfig(ACCOUNTS_CONFIG, 'accounts:\n  "111111111111": { tags: { __proto__: a, constructor: b } }\n', 'accounts.yml');
    const enriched = await enrich(makeFinding(tagged([['__proto__', 'c'], ['constructor', 'd']])), accounts);
    // Act: the bus carries JSON; the route Lambda parses it with the schema
    const parsed = z.parse(EnrichedFindingSchema, JSON.parse(JSON.stringify(enriched)));
    // Assess
    expect(Object.entries(parsed.enrichment.account.tags)).toEqual([['__proto__', 'a'], ['constructor', 'b']]);
    expect(Object.entries(parsed.enrichment.resourceTags)).toEqual([['__proto__', 'c'], ['constructor', 'd']]);
  });

  it('keeps account tags named constructor and __proto__ from accounts.yml', () => {
    // Act
    const account = parseConfig(ACCOUNTS_CONFIG, 'accounts:\n  "111111111111": { tags: { constructor: a, __proto__: b } }\n', 'accounts.yml').get('111111111111');
    // Assess
    expect(Object.entries(account?.tags ?? {})).toEqual([['constructor', 'a'], ['__proto__', 'b']]);
  });

  it('merges account tags named constructor and __proto__ across sources and overrides', async () => {
    // Prepare
    const source: AccountSource = {
      name: 'organizations',
      lookup: async () => ({ status: 'found', facts: { name: 'org-name', tags: JSON.parse('{"constructor":"org","__proto__":"org","env":"org"}') } }),
    };
    const overrides = parseConfig(ACCOUNTS_CONFIG, 'accounts:\n  "111111111111": { tags: { __proto__: override } }\n', 'accounts.yml');
    const chain = createAccountChain({ sources: [source], overrides });
    // Act
    const account = await chain.lookup('111111111111');
    // Assess
    expect(Object.entries(account.tags)).toEqual([['constructor', 'org'], ['__proto__', 'override'], ['env', 'org']]);
  });
});

describe('Built-in names: CLI commands', () => {
  it('treats `findings-router constructor` as an unknown command', async () => {
    // Act
    const run = await runCli(['constructor']);
    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe("findings-router: unknown command 'constructor'");
  });
});

describe('Built-in names: YAML', () => {
  it('keeps __proto__ and constructor as own keys', () => {
    // Act
    const value = parseYamlSource('a:\n  __proto__: { polluted: true }\n  constructor: 1\n', 'x.yml').value as { a: object };
    // Assess
    expect(Object.getOwnPropertyNames(value.a)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(value.a)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

const runCli = (args: string[]) => runBin(args, { env: { PATH: process.env.PATH ?? '', HOME: tmpdir() } });
