import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * bin/findings-router.mjs re-executes itself with a bounded V8 young generation and a bounded
 * old-generation growth (replay's peak memory depends on both) unless the young one is set. A preload prints the flags of the process that runs
 * the CLI: its exit handler runs only in the final process image.
 */
const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const PRELOAD = `data:text/javascript,process.on('exit',()=>process.stderr.write('execArgv='+JSON.stringify(process.execArgv)+'\\n'))`;

const run = (nodeArgs: string[], nodeOptions = '') => {
  const result = spawnSync(process.execPath, [...nodeArgs, BIN, 'nonsense-command'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: `--import=${PRELOAD} ${nodeOptions}`.trim() },
  });
  const flags = JSON.parse(/execArgv=(.*)/.exec(result.stderr)?.[1] ?? 'null') as string[] | null;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, flags };
};

describe('CLI launcher: heap bounds', () => {
  it('runs the CLI with --max-semi-space-size=8 and --heap-growing-percent=50, keeping node flags, arguments and the exit code', () => {
    // Act
    const result = run(['--no-warnings']);

    // Assess
    expect(result.flags).toEqual(['--no-warnings', '--max-semi-space-size=8', '--heap-growing-percent=50']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'nonsense-command'");
  });

  it.each([
    { how: 'a node flag', nodeArgs: ['--max-semi-space-size=16'], nodeOptions: '', expected: ['--max-semi-space-size=16'] },
    { how: 'NODE_OPTIONS', nodeArgs: [], nodeOptions: '--max-semi-space-size=16', expected: [] },
    { how: 'a growth flag only', nodeArgs: ['--heap-growing-percent=20'], nodeOptions: '', expected: ['--heap-growing-percent=20', '--max-semi-space-size=8'] },
  ])('leaves a size given as $how alone', ({ nodeArgs, nodeOptions, expected }) => {
    // Act
    const result = run(nodeArgs, nodeOptions);

    // Assess
    expect(result.flags).toEqual(expected);
    expect(result.status).toBe(2);
  });
});
