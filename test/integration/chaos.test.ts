import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm run chaos -- --self-test` at a small N: the clean run (real Lambdas, SQS and DynamoDB
 * loopbacks, fault receivers in another process) must pass, and each known mutation must
 * make the reconciliation fail. Every run is a process of its own, so nothing here depends
 * on what ran before in this worker.
 */
const CHAOS = join(import.meta.dirname, '../../scripts/chaos.ts');

const runChaos = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--no-warnings=ExperimentalWarning', CHAOS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

describe('chaos run', () => {
  // Five runs of the whole pipeline: minutes on a loaded 2-core machine.
  it('passes clean and fails for every known mutation', { timeout: 600_000 }, async () => {
    // Act
    const { code, stdout, stderr } = await runChaos(['--self-test', '--findings', '24', '--seed', '7']);
    // Assess
    expect(stderr).toMatch(/self-test clean run: passes\n {2}chaos: \d+ jobs, delivered \d+, dead-lettered \d+, lost 0, duplicates 0\n/);
    for (const mutation of ['drop-job', 'dead-letter-transients', 'break-transport', 'no-idempotency']) {
      expect(stderr).toMatch(new RegExp(`self-test ${mutation} \\([^\\n]*\\): caught: `));
    }
    expect(stdout).toBe('chaos self-test: every mutation caught, clean run passes\n');
    expect(code).toBe(0);
  });

  it('refuses an unknown mutation with one line and exit 2', async () => {
    // Act
    const { code, stdout, stderr } = await runChaos(['--mutation', 'nope']);
    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("chaos: --mutation must be one of drop-job, dead-letter-transients, break-transport, no-idempotency, got 'nope'\n");
  });
});
