import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileRoutesConfig } from '../../../shared/config/compile.ts';
import { loadConfig } from '../../../shared/config/load.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { parseJsonSource } from '../../../shared/config/source.ts';
import { evaluateRoutes } from '../../../shared/routing/evaluate.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';

/**
 * The Lambdas' path to the routes (the build's JSON, no YAML loader): the RE2 engine is not
 * in their static imports (cold-start bytes) and loads only for a file with a typeRegex.
 * This file must not import shared/cli/config/parse.ts, which registers the engine statically.
 */
const ROUTES = {
  targets: { t: { type: 'console' }, other: { type: 'console' } },
  default: { targets: ['other'] },
  routes: [{ name: 'exfil', match: { any: [{ typeRegex: '^([\\w:/]+)+$' }, { typeRegex: 'Exfiltration\\.' }] }, targets: ['t'] }],
};

const previous = process.env.ROUTES_FILE;
afterEach(() => {
  if (previous === undefined) delete process.env.ROUTES_FILE;
  else process.env.ROUTES_FILE = previous;
});

describe('User patterns: the regex engine in the Lambdas', () => {
  it('is not in the static imports: it loads on demand for a bundled routes.json with a typeRegex, then routes with it', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'routes-json-'));
    process.env.ROUTES_FILE = join(dir, 'routes.json');
    writeFileSync(process.env.ROUTES_FILE, JSON.stringify(ROUTES));
    // Act
    const beforeLoading = () => compileRoutesConfig(parseJsonSource(JSON.stringify(ROUTES), 'routes.json'));
    const unloaded = (() => { try { beforeLoading(); return undefined; } catch (error) { return (error as Error).message; } })();
    const config = await loadConfig(ROUTES_CONFIG, { bundled: true });
    const decision = evaluateRoutes(config.routes, config.defaultTargets, await enrich(makeFinding({ type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS' })));
    // Assess: never a silent fallback to RegExp before the engine is there
    expect(unloaded).toContain('regex engine is not loaded');
    expect(decision.routes).toEqual(['exfil']);
  });
});
