import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * bin/findings-router.mjs runs the CLI from a bundle it builds into a cache on first use and
 * rebuilds when a file it was built from changes; without one it runs the TypeScript. A preload
 * counts the .ts modules the process loads (none when the bundle runs) through module.registerHooks.
 */
const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
mkdirSync(join(import.meta.dirname, '../../node_modules/.cache'), { recursive: true });
const COUNT_TS = `data:text/javascript,${encodeURIComponent(
  "import{registerHooks}from'node:module';let n=0;registerHooks({load(u,c,next){if(u.endsWith('.ts'))n++;return next(u,c)}});process.on('exit',()=>process.stderr.write('tsModules='+n+'\\n'))",
)}`;
// Inside node_modules, as the real cache: the bundle imports its dependencies from there.
const scratch = mkdtempSync(join(import.meta.dirname, '../../node_modules/.cache/cli-bundle-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (env: Record<string, string>) => {
  const result = spawnSync(process.execPath, [BIN, 'replay', '--dry-run', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, FINDINGS_ROUTER_FROM_SOURCE: '', ...env, NODE_OPTIONS: `--import=${COUNT_TS}` },
    maxBuffer: 64 * 1024 * 1024,
  });
  const tsModules = Number(/tsModules=(\d+)/.exec(result.stderr)?.[1] ?? Number.NaN);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.replace(/tsModules=\d+\n/, ''), tsModules };
};
const current = (cache: string) => JSON.parse(readFileSync(join(cache, 'current.json'), 'utf8')) as { dir: string; inputs: [string, number, number][] };

describe('CLI launcher: the bundle', () => {
  const fromSource = run({ FINDINGS_ROUTER_FROM_SOURCE: '1' });

  it('runs from source when asked, loading the TypeScript files', () => {
    expect(fromSource.status).toBe(0);
    expect(fromSource.tsModules).toBeGreaterThan(50);
    expect(fromSource.stdout.trim().split('\n')).toHaveLength(250);
  });

  it('builds the bundle on first use and gives the very output the source gives, loading no TypeScript', () => {
    // Arrange
    const cache = join(scratch, 'first');

    // Act
    const bundled = run({ FINDINGS_ROUTER_CLI_CACHE: cache });

    // Assess
    expect(bundled.status).toBe(0);
    expect(bundled.tsModules).toBe(0);
    expect(bundled.stdout).toBe(fromSource.stdout);
    expect(bundled.stderr).toBe(fromSource.stderr);
    expect(current(cache).inputs.map(([file]) => file)).toContain('shared/cli/paths.ts');
  });

  it('reuses a fresh build and rebuilds when a file it was built from changed', () => {
    // Arrange
    const cache = join(scratch, 'rebuild');
    run({ FINDINGS_ROUTER_CLI_CACHE: cache });
    const first = current(cache);

    // Act
    const again = run({ FINDINGS_ROUTER_CLI_CACHE: cache });
    const reused = current(cache).dir;
    // As if shared/pipeline.ts had been edited since the build.
    const edited = { ...first, inputs: first.inputs.map(([file, size, mtimeMs]) => [file, size, file === 'shared/pipeline.ts' ? mtimeMs - 1000 : mtimeMs]) };
    writeFileSync(join(cache, 'current.json'), JSON.stringify(edited));
    const rebuilt = run({ FINDINGS_ROUTER_CLI_CACHE: cache });

    // Assess
    expect(again.tsModules).toBe(0);
    expect(reused).toBe(first.dir);
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.tsModules).toBe(0);
    expect(current(cache).dir).not.toBe(first.dir);
    expect(rebuilt.stdout).toBe(fromSource.stdout);
  });

  it('runs from source, with the same output, when the bundle cannot be built', () => {
    // Arrange: a cache folder that cannot be made (its parent is a file)
    const blocker = join(scratch, 'a-file');
    writeFileSync(blocker, '');

    // Act
    const fallback = run({ FINDINGS_ROUTER_CLI_CACHE: join(blocker, 'cache') });

    // Assess
    expect(fallback.status).toBe(0);
    expect(fallback.tsModules).toBeGreaterThan(50);
    expect(fallback.stdout).toBe(fromSource.stdout);
  });
});
