import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runPull } from '../../../shared/cli/pull-cmd.ts';
import { createPullClient } from '../../../shared/aws/guardduty-pull-client.ts';
import { apiWireFinding, startGuardDutyFindingsLoopback, type FindingsLoopback, type FindingsLoopbackOptions, type WireFinding } from '../../helpers/guardduty-findings-loopback.ts';

/**
 * `runPull` in-process against the GuardDuty findings loopback, for what a spawned CLI cannot
 * show: the progress line on a terminal, the concurrency bound, a region whose retries run out,
 * a call that never gets an answer.
 */
const SAMPLES = join(import.meta.dirname, '../../events/samples');
const findings: WireFinding[] = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .slice(0, 30)
  .map((f) => apiWireFinding(JSON.parse(readFileSync(join(SAMPLES, f), 'utf8')).detail));
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

let loopback: FindingsLoopback | undefined;
afterEach(async () => {
  await loopback?.close();
  loopback = undefined;
});

const start = async (options: Partial<FindingsLoopbackOptions> = {}) =>
  (loopback = await startGuardDutyFindingsLoopback({
    regions: Object.fromEntries(REGIONS.map((region, i) => [region, { findings: findings.slice(i * 10, i * 10 + 10) }])),
    listPageSize: 4,
    ...options,
  }));

const capture = (isTTY: boolean) => {
  const chunks: string[] = [];
  return { stream: { isTTY, columns: 120, write: (text: string) => chunks.push(text) > 0 } as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
};

const pull = async (aws: FindingsLoopback, args: string[], options: { tty?: boolean; maxAttempts?: number; requestTimeoutMs?: number } = {}) => {
  const stdout = capture(false);
  const stderr = capture(options.tty ?? false);
  const dir = mkdtempSync(join(tmpdir(), 'pull-run-'));
  const code = await runPull(['--since', '2026-01-01', '--include-archived', '-o', join(dir, 'out.jsonl'), ...args], { stdout: stdout.stream, stderr: stderr.stream }, {
    // the command's own client (adaptive retries, timeouts), pointed at the loopback
    clientFor: (region) =>
      createPullClient(region, {
        endpoint: aws.endpoint,
        credentials: { accessKeyId: 'AKIDPULLRUN', secretAccessKey: 'pull-run-secret' },
        ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
        ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      }),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text(), dir };
};

const firstAndLast = (aws: FindingsLoopback, region: string) => {
  const indexes = aws.calls.flatMap((c, i) => (c.region === region ? [i] : []));
  return { first: indexes[0]!, last: indexes.at(-1)! };
};

describe('pull: progress', () => {
  it('draws a progress line on a terminal and clears it before the summary', async () => {
    // Prepare
    const aws = await start();
    // Act
    const { code, stderr, stdout } = await pull(aws, ['--region', REGIONS.join(',')], { tty: true });
    // Assess
    expect(code).toBe(0);
    expect(stderr).toContain('\r\x1b[K[........................] 0/3 regions, 0 findings (us-east-1 0');
    expect(stderr).toContain('[########################] 3/3 regions, 30 findings');
    expect(stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(stdout).toMatch(/^Pulled 30 findings/);
  });

  it('writes nothing on stderr when it is not a terminal', async () => {
    // Prepare
    const aws = await start();
    // Act
    const { code, stderr } = await pull(aws, ['--region', REGIONS.join(',')]);
    // Assess
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('pull: regions', () => {
  it('--concurrency 1 pulls the regions one after the other, in the order given', async () => {
    // Prepare
    const aws = await start();
    // Act
    const { code } = await pull(aws, ['--region', REGIONS.join(','), '--concurrency', '1']);
    // Assess
    expect(code).toBe(0);
    const order = aws.calls.map((c) => c.region).filter((r, i, all) => i === 0 || all[i - 1] !== r);
    expect(order).toEqual(REGIONS);
  });

  it('--concurrency 2 starts the third region only once one of the first two is done', async () => {
    // Prepare
    const aws = await start();
    // Act
    const { code } = await pull(aws, ['--region', REGIONS.join(','), '--concurrency', '2']);
    // Assess
    expect(code).toBe(0);
    const [a, b, c] = REGIONS.map((r) => firstAndLast(aws, r));
    expect(c!.first).toBeGreaterThan(Math.min(a!.last, b!.last));
  });

  it('a region whose retries run out fails (exit 1) while the others are written; the summary names it', async () => {
    // Prepare
    const aws = await start();
    aws.failNext('ListFindings', { code: 'InternalServerErrorException', message: 'Internal server error', times: 2, region: 'us-west-2' });
    // Act
    const { code, stdout, dir } = await pull(aws, ['--region', REGIONS.join(',')], { maxAttempts: 2 });
    // Assess
    expect(code).toBe(1);
    expect(stdout).toContain('Failed (findings pulled before the failure are in the file):\n  us-west-2: InternalServerErrorException (HTTP 500): Internal server error');
    expect(stdout).toMatch(/^us-west-2 \(failed\)\s+0\s+0\s+0\s+0\s+0\s+0$/m);
    const written = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id);
    expect(written.sort()).toEqual([...findings.slice(0, 10), ...findings.slice(20, 30)].map((f) => f.id).sort());
  });

  it('--detector skips ListDetectors; with several regions it is a usage error', async () => {
    // Prepare
    const aws = await start();
    const detector = aws.detectors['eu-west-1']![0]!;
    // Act
    const one = await pull(aws, ['--region', 'eu-west-1', '--detector', detector]);
    const several = await pull(aws, ['--region', REGIONS.join(','), '--detector', detector]);
    // Assess
    expect(one.code).toBe(0);
    expect(aws.operations()).not.toContain('ListDetectors');
    expect(aws.calls.filter((c) => c.operation === 'ListFindings').every((c) => c.path === `/detector/${detector}/findings`)).toBe(true);
    expect(several.code).toBe(2);
    expect(several.stderr).toBe("findings-router pull: --detector names one region's detector: give a single --region with it (see pull --help)\n");
  });

  it('a finding listed but gone by GetFindings is counted as missing, not an error', async () => {
    // Prepare
    const aws = await start({ regions: { 'us-east-1': { findings: findings.slice(0, 6), gone: [findings[2]!.id] } } });
    // Act
    const { code, stdout, dir } = await pull(aws, ['--region', 'us-east-1', '--json']);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout).regions[0]).toMatchObject({ status: 'pulled', findings: 5, missing: 1 });
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8')).not.toContain(findings[2]!.id);
  });

  it('a call that gets no answer times out and is retried', async () => {
    // Prepare
    const aws = await start();
    aws.stallNext('GetFindings');
    // Act
    const { code, stdout } = await pull(aws, ['--region', 'us-east-1', '--json'], { requestTimeoutMs: 300 });
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout).regions[0]).toMatchObject({ status: 'pulled', findings: 10, retries: 1 });
    expect(aws.calls.filter((c) => c.operation === 'GetFindings').length).toBe(4);
  });

  it('an opt-in region that is not enabled (403 UnrecognizedClientException) is skipped like a denied one', async () => {
    // Prepare
    const aws = await start();
    aws.failNext('ListDetectors', { code: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.', region: 'eu-west-1' });
    // Act
    const { code, stdout } = await pull(aws, ['--region', REGIONS.join(','), '--json']);
    // Assess
    expect(code).toBe(0);
    const regions = JSON.parse(stdout).regions;
    expect(regions.map((r: { status: string }) => r.status)).toEqual(['pulled', 'pulled', 'skipped']);
    expect(regions[2].reason).toBe('access denied in eu-west-1: The security token included in the request is invalid.');
    expect(aws.calls.filter((c) => c.region === 'eu-west-1').map((c) => c.operation)).toEqual(['ListDetectors']);
  });
});

describe('pull --help', () => {
  it('prints the usage with the grammar, the permissions and the exit codes', async () => {
    // Prepare
    const aws = await start();
    // Act
    const { code, stdout } = await pull(aws, ['--help']);
    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('--criteria          FIELD OP VALUE');
    expect(stdout).toContain('Needs guardduty:ListDetectors, guardduty:ListFindings and guardduty:GetFindings.');
    expect(stdout).toContain('Exit status: 0 pulled');
    expect(aws.calls).toHaveLength(0);
  });
});
