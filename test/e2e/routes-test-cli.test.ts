import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const SSH = join(import.meta.dirname, '../events/published/ssh-bruteforce.sample.eventbridge.json');

const run = (args: string[], cwd: string, input = '') => {
  const result = spawnSync(process.execPath, [BIN, 'routes', 'test', ...args], { cwd, encoding: 'utf8', timeout: 60_000, input });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const sshEvent = () => JSON.parse(readFileSync(SSH, 'utf8'));

describe('CLI: routes test --expect', () => {
  it('names the missing and the extra targets of a mismatch, and exits 1', () => {
    // Prepare: a low-severity finding goes to the default target (siem) only
    const cwd = mkdtempSync(join(tmpdir(), 'routes-test-'));
    writeFileSync(join(cwd, 'f.json'), JSON.stringify(sshEvent()));
    // Act
    const mismatch = run(['f.json', '--expect', 'chat'], cwd);
    const match = run(['f.json', '--expect', 'siem'], cwd);
    // Assess
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain('  expect: chat MISMATCH: missing chat; extra siem\n');
    expect(match.code).toBe(0);
    expect(match.stdout).toContain('  expect: siem OK\n');
  });
});

describe('CLI: routes test --matrix', () => {
  it('counts findings and finding types apart: 11 findings of one type are one row', () => {
    // Prepare
    const cwd = mkdtempSync(join(tmpdir(), 'routes-matrix-'));
    const lines = Array.from({ length: 11 }, (_, index) => {
      const event = sshEvent();
      event.detail.id = `f${index}`;
      return JSON.stringify(event);
    });
    writeFileSync(join(cwd, 'same-type.jsonl'), `${lines.join('\n')}\nnot json\n`);
    // Act
    const { code, stdout } = run(['--matrix', 'same-type.jsonl'], cwd);
    // Assess
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((line) => line.startsWith('UnauthorizedAccess:EC2/SSHBruteForce'))).toEqual([
      expect.stringMatching(/^UnauthorizedAccess:EC2\/SSHBruteForce\s+11\s+●/),
    ]);
    expect(stdout).toContain('11 findings of 1 finding type; 0 type(s) reach no target; 1 event rejected or ignored');
  });

  it('reads standard input as - (one event per line)', () => {
    // Act
    const { code, stdout } = run(['-'], mkdtempSync(join(tmpdir(), 'routes-stdin-')), JSON.stringify(sshEvent()));
    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/^stdin:1: UnauthorizedAccess:EC2\/SSHBruteForce severity Low 2\.0/);
  });
});
