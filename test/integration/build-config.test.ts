import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run build` (scripts/build.mjs) never bundles the example routes by accident: ROUTES_FILE is
 * required, the examples only when named or with --allow-example-config, and every build says
 * which routes and accounts files it bundled, with their sha256. (`osls package`: serverless-package.test.ts.)
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'build-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha256Of = (file: string): string => createHash('sha256').update(readFileSync(join(ROOT, file))).digest('hex');
const build = (env: Record<string, string>, args: string[]) => {
  const base = { ...process.env };
  delete base.ROUTES_FILE;
  delete base.ACCOUNTS_FILE;
  // The size budget is not what these tests are about (bundles.test.ts and CI's package step enforce it).
  return spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--no-budget', ...args], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 120_000 });
};

describe('npm run build: which config it bundles', () => {
  it('refuses without ROUTES_FILE, in one line, before bundling anything', () => {
    // Act
    const out = join(work, 'refused');
    const result = build({}, ['--outdir', out]);
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('build: no routes file: set ROUTES_FILE=<routes.yml> (the examples: ROUTES_FILE=routes.example.yml or --allow-example-config)\n');
    expect(result.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an invalid routes file with its file:line:column, before bundling anything', () => {
    // Prepare
    const routes = join(work, 'bad.routes.yml');
    writeFileSync(routes, 'targets:\n  chat: { type: consol }\ndefault: { targets: [chat] }\n');
    const out = join(work, 'invalid');
    // Act
    const result = build({ ROUTES_FILE: routes }, ['--outdir', out]);
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^build: invalid routes file:\n.*bad\.routes\.yml:2:\d+: /);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(out)).toBe(false);
  });

  it('bundles the example routes when named explicitly, prints file and sha256, and bundles no accounts unless given', () => {
    // Act
    const out = join(work, 'named');
    const result = build({ ROUTES_FILE: 'routes.example.yml' }, ['--only', 'route', '--outdir', out]);
    // Assess
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`routes   routes.example.yml sha256:${sha256Of('routes.example.yml')}`);
    expect(lines[1]).toMatch(/^accounts \(none: account names from Organizations\/GuardDuty\) sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(join(out, 'route', 'accounts.json'), 'utf8'))).toEqual({ accounts: {} });
  });

  it('bundles both examples with --allow-example-config, and says so', () => {
    // Act
    const out = join(work, 'allowed');
    const result = build({}, ['--allow-example-config', '--only', 'enrich', '--outdir', out]);
    // Assess
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`routes   routes.example.yml sha256:${sha256Of('routes.example.yml')}\naccounts accounts.example.yml sha256:${sha256Of('accounts.example.yml')}\n`);
    expect(Object.keys(JSON.parse(readFileSync(join(out, 'enrich', 'accounts.json'), 'utf8')).accounts)).toContain('111111111111');
  });
});
