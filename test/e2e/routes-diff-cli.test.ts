import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const CONFIGS = join(import.meta.dirname, '../events/configs/diff');

const run = (args: string[], cwd = mkdtempSync(join(tmpdir(), 'diff-cli-'))) => {
  const result = spawnSync(process.execPath, [BIN, 'routes', 'diff', ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('CLI: routes diff exit status', () => {
  it('exits 0 when nothing changes', () => {
    // Act
    const { code, stdout } = run(['--old', join(CONFIGS, 'base.yml'), '--new', join(CONFIGS, 'base.yml')]);
    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('No changes: all 250 findings route the same');
  });

  it('exits 2 when findings change, with the plan on stdout', () => {
    // Act
    const { code, stdout } = run(['--old', join(CONFIGS, 'base.yml'), '--new', join(CONFIGS, 'target-removed.yml')]);
    // Assess
    expect(code).toBe(2);
    expect(stdout).toContain('target oncall (webhook): +0 -5');
    expect(stdout).toMatch(/^-\s+AttackSequence:EC2\/CompromisedInstanceGroup/m);
  });

  it('exits 1 with file:line:column on a configuration error, and on usage errors', () => {
    // Prepare
    const cwd = mkdtempSync(join(tmpdir(), 'diff-cli-'));
    writeFileSync(join(cwd, 'bad.yml'), 'targets:\n  chat: { type: console }\ndefault:\n  targets: [chat]\nroutes:\n  - name: r\n    targets: [pager]\n');
    // Act
    const bad = run(['--old', join(CONFIGS, 'base.yml'), '--new', 'bad.yml'], cwd);
    const missing = run(['--old', join(CONFIGS, 'base.yml')], cwd);
    const unknown = run(['--old', 'a.yml', '--new', 'b.yml', '--bogus'], cwd);
    // Assess
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("bad.yml:7:15: undefined target 'pager'");
    expect(bad.stdout).toBe('');
    expect(missing.code).toBe(1);
    expect(unknown.code).toBe(1);
  });
});
