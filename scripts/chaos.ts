/**
 * `npm run chaos [-- --findings N] [--seed S]`: the delivery guarantees under fire, with the
 * real enrich, route and deliver Lambdas, SQS semantics (visibility timeout, receive count,
 * redrive after 5 receives, batchItemFailures) and fault receivers in another process.
 * Prints one line on stdout,
 *   chaos: <jobs> jobs, delivered <d>, dead-lettered <l>, lost <x>, duplicates <y>
 * the figures and any failed check on stderr, and exits 1 when a check fails (2 on an error).
 *
 * `npm run chaos -- --self-test`: the clean run must pass and each known mutation (see
 * scripts/chaos/mutations.ts) must fail, each in a process of its own.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { isMutation, MUTATIONS, type Mutation } from './chaos/mutations.ts';
import { runChaos, type ChaosResult } from './chaos/run.ts';

const DEFAULTS = { findings: 120, seed: 20260101, selfTestFindings: 60 };

const describe = (result: ChaosResult): string => {
  const f = result.figures;
  const s = result.eventSource;
  return [
    `chaos seed ${result.seed}, ${result.findings} findings${result.mutation ? `, mutation ${result.mutation}` : ''}, ${(result.elapsedMs / 1000).toFixed(1)} s (queue clock +${(s.virtualMs / 1000).toFixed(0)} s)`,
    `  receivers: ${f.requests} requests, ${f.transientFaults} planned transient faults, ${f.absorbedRetries} retries absorbed by the key, ${f.fatedToFail} jobs fated to fail, ${f.redriven} redriven by SQS after their dead letter${f.retryAfterViolations > 0 ? `, ${f.retryAfterViolations} retries before Retry-After (${f.earlyRetries.slice(0, 3).join(', ')})` : ''}`,
    `  event source: ${s.invocations} invocations, ${s.receives} receives, ${s.batchItemFailures} handed back, ${s.duplicateReceives} duplicate receives, ${s.lostDeletes} lost deletes, ${s.handlerErrors} failed invocations (${s.timeouts} timed out${f.disturbed > 0 ? `: budget checks relaxed for their ${f.disturbed} jobs` : ''})${f.starved > 0 ? `, ${f.starved} dead-lettered job(s) had a receive without a request (starved machine; reported, not failed)` : ''}${s.lastHandlerError ? `, last: ${s.lastHandlerError}` : ''}`,
  ].join('\n');
};

/** Powertools Metrics warns on stderr for every invocation that added no metric: noise here. */
const quietEmptyMetricsWarnings = (): void => {
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    String(chunk).startsWith('No application metrics to publish') ? true : write(chunk, ...rest)) as typeof process.stderr.write;
};

const runOne = async (values: { findings: number; seed: number; mutation?: Mutation; quiet: boolean }): Promise<number> => {
  quietEmptyMetricsWarnings();
  const result = await runChaos(values);
  if (!values.quiet) process.stderr.write(`${describe(result)}\n`);
  for (const failure of result.failures) process.stderr.write(`chaos: FAIL ${failure}\n`);
  process.stdout.write(`${result.line}\n`);
  return result.failures.length === 0 ? 0 : 1;
};

/** One run in a child process (the handlers are configured once per process). */
const spawnRun = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--no-warnings=ExperimentalWarning', import.meta.filename, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 2), stdout: stdout.trim(), stderr: stderr.trim() }));
  });

const selfTest = async (findings: number, seed: number): Promise<number> => {
  const runs: (Mutation | 'clean')[] = ['clean', ...(Object.keys(MUTATIONS) as Mutation[])];
  const base = ['--findings', String(findings), '--seed', String(seed), '--quiet'];
  const outcomes = new Map<string, Awaited<ReturnType<typeof spawnRun>>>();
  // Two at a time: CI has two cores.
  const queue = [...runs];
  await Promise.all(
    [0, 1].map(async () => {
      for (let run = queue.shift(); run !== undefined; run = queue.shift()) {
        outcomes.set(run, await spawnRun(run === 'clean' ? base : [...base, '--mutation', run]));
      }
    }),
  );
  let ok = true;
  for (const run of runs) {
    const { code, stdout, stderr } = outcomes.get(run)!;
    const firstFailure = stderr.split('\n').find((line) => line.startsWith('chaos: FAIL '))?.slice('chaos: FAIL '.length);
    if (run === 'clean') {
      const passed = code === 0;
      ok &&= passed;
      process.stderr.write(`self-test clean run: ${passed ? 'passes' : `FAILS (exit ${code}): ${firstFailure ?? stderr.slice(-300)}`}\n  ${stdout}\n`);
      continue;
    }
    // Exit 1 is the reconciliation failing; a crash (2) proves nothing.
    const caught = code === 1 && firstFailure !== undefined;
    ok &&= caught;
    process.stderr.write(`self-test ${run} (${MUTATIONS[run]}): ${caught ? `caught: ${firstFailure}` : `NOT CAUGHT (exit ${code}) ${stderr.slice(-300)}`}\n  ${stdout}\n`);
  }
  process.stdout.write(`chaos self-test: ${ok ? 'every mutation caught, clean run passes' : 'FAILED'}\n`);
  return ok ? 0 : 1;
};

const positive = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--${name} must be a positive integer, got '${value}'`);
  return Number(value);
};

const main = async (): Promise<number> => {
  const { values } = parseArgs({
    options: {
      findings: { type: 'string' },
      seed: { type: 'string' },
      mutation: { type: 'string' },
      'self-test': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        'Usage: npm run chaos [-- --findings N] [--seed S] [--quiet]',
        '       npm run chaos -- --self-test [--findings N] [--seed S]',
        '       npm run chaos -- --mutation NAME   (one mutated run; names: ' + Object.keys(MUTATIONS).join(', ') + ')',
        '',
      ].join('\n'),
    );
    return 0;
  }
  const seed = positive('seed', values.seed, DEFAULTS.seed);
  if (values['self-test']) return selfTest(positive('findings', values.findings, DEFAULTS.selfTestFindings), seed);
  if (values.mutation !== undefined && !isMutation(values.mutation)) {
    throw new Error(`--mutation must be one of ${Object.keys(MUTATIONS).join(', ')}, got '${values.mutation}'`);
  }
  return runOne({
    findings: positive('findings', values.findings, DEFAULTS.findings),
    seed,
    ...(values.mutation ? { mutation: values.mutation as Mutation } : {}),
    quiet: values.quiet,
  });
};

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`chaos: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
