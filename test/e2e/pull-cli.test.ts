import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiWireFinding, startGuardDutyFindingsLoopback, type FindingsLoopback, type FindingsLoopbackOptions, type WireFinding } from '../helpers/guardduty-findings-loopback.ts';

/**
 * `findings-router pull` as an operator runs it: the real bin under the pinned node, the real
 * SDK client with its retry strategy, AWS_ENDPOINT_URL_GUARDDUTY pointing at the GuardDuty
 * findings loopback, dummy credentials. The loopback serves the sample corpus in the form
 * GetFindings carries it, each finding in its own region. (spawn, not spawnSync: the loopback
 * lives in this process's event loop.)
 */
const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const SAMPLES = join(import.meta.dirname, '../events/samples');
const DIFF_CONFIGS = join(import.meta.dirname, '../events/configs/diff');

interface SampleEvent {
  detail: Record<string, unknown> & { id: string; region: string; updatedAt: string; severity: number; service: { archived?: boolean } };
}
const samples: SampleEvent[] = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(SAMPLES, f), 'utf8')) as SampleEvent);
const served = new Map<string, WireFinding>(samples.map((e) => [e.detail.id, apiWireFinding(e.detail)]));
const byRegion = (): Record<string, WireFinding[]> => {
  const out: Record<string, WireFinding[]> = {};
  for (const e of samples) (out[e.detail.region] ??= []).push(served.get(e.detail.id)!);
  return out;
};
const REGIONS = Object.keys(byRegion()).sort();
const unarchived = samples.filter((e) => e.detail.service.archived !== true);

let loopback: FindingsLoopback | undefined;
afterEach(async () => {
  await loopback?.close();
  loopback = undefined;
});

const start = async (options: FindingsLoopbackOptions) => (loopback = await startGuardDutyFindingsLoopback(options));
const allRegions = (extra: FindingsLoopbackOptions['regions'] = {}): FindingsLoopbackOptions['regions'] => ({
  ...Object.fromEntries(Object.entries(byRegion()).map(([region, findings]) => [region, { findings }])),
  ...extra,
});

const run = (args: string[], cwd: string, env: Record<string, string>, through?: 'pipe') =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    // through a shell pipe: node's own stdout is a socket, which /dev/stdout cannot open
    const [command, argv] = through
      ? ['bash', ['-o', 'pipefail', '-c', `"$0" "$@" | cat`, process.execPath, BIN, ...args]]
      : [process.execPath, [BIN, ...args]];
    const child = spawn(command, argv, {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: cwd,
        AWS_CONFIG_FILE: join(cwd, 'no-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'no-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

const tempDir = () => mkdtempSync(join(tmpdir(), 'pull-cli-'));
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as WireFinding);

describe('pull: every region, paginated, throttled, one region denied', () => {
  it('writes every unarchived finding in wire form, field by field as served, and reports the denied region', async () => {
    // Prepare
    const aws = await start({ regions: allRegions({ 'eu-west-3': { denied: true } }), listPageSize: 20 });
    aws.failNext('ListFindings', { code: 'TooManyRequestsException', message: 'Rate exceeded', times: 2, region: 'eu-west-1' });
    aws.failNext('GetFindings', { code: 'TooManyRequestsException', message: 'Rate exceeded', region: 'us-west-2' });
    const cwd = tempDir();
    // Act
    const { code, stdout, stderr } = await run(
      ['pull', '--since', '2026-01-01', '--region', [...REGIONS, 'eu-west-3'].join(','), '-o', 'findings.jsonl', '--json'],
      cwd,
      aws.env(),
    );
    // Assess
    expect(code, stderr).toBe(0);
    const pulled = lines(join(cwd, 'findings.jsonl'));
    expect(pulled.map((f) => f.id).sort()).toEqual(unarchived.map((e) => e.detail.id).sort());
    for (const finding of pulled) expect(finding).toStrictEqual(served.get(finding.id));
    const summary = JSON.parse(stdout);
    expect(summary.findings).toBe(unarchived.length);
    const denied = summary.regions.find((r: { region: string }) => r.region === 'eu-west-3');
    expect(denied).toMatchObject({ status: 'skipped', findings: 0 });
    expect(denied.reason).toContain('not authorized to perform: guardduty:ListDetectors');
    for (const region of REGIONS) {
      const expected = unarchived.filter((e) => e.detail.region === region);
      const row = summary.regions.find((r: { region: string }) => r.region === region);
      expect(row).toMatchObject({ status: 'pulled', findings: expected.length });
      expect(row.bySeverity.high + row.bySeverity.critical).toBe(expected.filter((e) => e.detail.severity >= 7).length);
    }
    expect(summary.regions.reduce((n: number, r: { retries: number }) => n + r.retries, 0)).toBe(3);
    // pagination: every page after the first carries the token of the one before
    const lists = aws.calls.filter((c) => c.operation === 'ListFindings' && c.region === 'ap-southeast-2' && c.status === 200);
    expect(lists.length).toBe(Math.ceil(unarchived.filter((e) => e.detail.region === 'ap-southeast-2').length / 20));
    expect(lists[0]!.body.nextToken).toBeUndefined();
    for (const call of lists.slice(1)) expect(call.body.nextToken).toEqual(expect.any(String));
    // the retried calls were answered 429 first, then 200
    expect(aws.calls.filter((c) => c.region === 'eu-west-1' && c.operation === 'ListFindings').slice(0, 3).map((c) => c.status)).toEqual([429, 429, 200]);
    expect(aws.calls.filter((c) => c.region === 'us-west-2' && c.operation === 'GetFindings').slice(0, 2).map((c) => c.status)).toEqual([429, 200]);
  });

  it('sends the window, archived = false and the criteria as GuardDuty FindingCriteria on the wire', async () => {
    // Prepare
    const aws = await start({ regions: allRegions() });
    const cwd = tempDir();
    // Act
    const { code, stderr } = await run(
      ['pull', '--since', '2026-01-01', '--until', '2026-07-01T00:00:00Z', '--criteria', 'severity>=7', '--region', REGIONS.join(','), '-o', 'high.jsonl'],
      cwd,
      aws.env(),
    );
    // Assess
    expect(code, stderr).toBe(0);
    const list = aws.calls.find((c) => c.operation === 'ListFindings')!;
    expect(list.body.findingCriteria).toEqual({
      criterion: {
        severity: { greaterThanOrEqual: 7 },
        updatedAt: { greaterThanOrEqual: Date.parse('2026-01-01'), lessThan: Date.parse('2026-07-01T00:00:00Z') },
        'service.archived': { equals: ['false'] },
      },
    });
    expect(list.body).toMatchObject({ maxResults: 50, sortCriteria: { attributeName: 'updatedAt', orderBy: 'ASC' } });
    const expected = unarchived.filter((e) => e.detail.severity >= 7 && e.detail.updatedAt < '2026-07-01');
    expect(expected.length).toBeGreaterThan(0);
    expect(lines(join(cwd, 'high.jsonl')).map((f) => f.id).sort()).toEqual(expected.map((e) => e.detail.id).sort());
  });

  it('--include-archived drops the archived criterion; GetFindings asks at most 50 ids per call', async () => {
    // Prepare: one detector holding the whole corpus
    const aws = await start({ regions: { 'us-east-1': { findings: [...served.values()] } } });
    const cwd = tempDir();
    // Act
    const { code, stdout, stderr } = await run(['pull', '--since', '2026-01-01', '--include-archived', '-o', 'all.jsonl'], cwd, aws.env('us-east-1'));
    // Assess
    expect(code, stderr).toBe(0);
    expect(lines(join(cwd, 'all.jsonl'))).toHaveLength(samples.length);
    expect(aws.calls.find((c) => c.operation === 'ListFindings')!.body.findingCriteria.criterion).not.toHaveProperty(['service.archived']);
    const gets = aws.calls.filter((c) => c.operation === 'GetFindings').map((c) => c.body.findingIds.length);
    expect(gets).toEqual([50, 50, 50, 50, 50]);
    expect(stdout).toMatch(/^Pulled 250 findings \(updated 2026-01-01T00:00:00.000Z → now; archived included\) into all\.jsonl$/m);
    expect(stdout).toMatch(/^us-east-1\s+\d+\s+\d+\s+\d+\s+\d+\s+250\s+5$/m);
  });
});

describe('pull -o /dev/stdout', () => {
  it('writes the findings to the pipe directly and the summary to stderr', async () => {
    // Prepare
    const aws = await start({ regions: allRegions() });
    const cwd = tempDir();
    // Act
    const { code, stdout, stderr } = await run(['pull', '--since', '2026-01-01', '--region', REGIONS.join(','), '-o', '/dev/stdout'], cwd, aws.env(), 'pipe');
    // Assess
    expect(code, stderr).toBe(0);
    const ids = stdout.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as WireFinding).id);
    expect(ids.sort()).toEqual(unarchived.map((e) => e.detail.id).sort());
    expect(stderr).toMatch(new RegExp(`^Pulled ${unarchived.length} findings .* into /dev/stdout$`, 'm'));
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('pull, then replay', () => {
  it('routes the pulled findings exactly as the same findings arriving from EventBridge', async () => {
    // Prepare
    const aws = await start({ regions: allRegions() });
    const cwd = tempDir();
    const pulledRun = await run(['pull', '--since', '2026-01-01', '--region', REGIONS.join(','), '-o', 'pulled.jsonl'], cwd, aws.env());
    expect(pulledRun.code, pulledRun.stderr).toBe(0);
    // the same findings as EventBridge delivered them
    mkdirSync(join(cwd, 'eventbridge'));
    for (const e of unarchived) writeFileSync(join(cwd, 'eventbridge', `${e.detail.id}.json`), JSON.stringify(e));
    // Act
    const [fromPull, fromEventBridge] = await Promise.all([
      run(['replay', 'pulled.jsonl', '--dry-run', '--json'], cwd, {}),
      run(['replay', 'eventbridge', '--dry-run', '--json'], cwd, {}),
    ]);
    // Assess
    expect(fromPull.code, fromPull.stderr).toBe(0);
    expect(fromEventBridge.code, fromEventBridge.stderr).toBe(0);
    const decisions = (stdout: string) =>
      new Map(
        stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l))
          .map((r) => [r.findingId, { outcome: r.outcome, routes: r.routes, targets: [...r.targets].sort(), reason: r.reason }]),
      );
    const pulled = decisions(fromPull.stdout);
    const delivered = decisions(fromEventBridge.stdout);
    expect(pulled.size).toBe(unarchived.length);
    expect([...pulled.values()].filter((d) => d.outcome === 'routed').length).toBeGreaterThan(0);
    expect([...delivered.keys()].sort()).toEqual([...pulled.keys()].sort());
    const differing = [...pulled].filter(([id, decision]) => JSON.stringify(decision) !== JSON.stringify(delivered.get(id)));
    expect(differing.map(([id, decision]) => ({ id, pulled: decision, eventBridge: delivered.get(id) }))).toEqual([]);
  });
});

describe('pull, then routes diff (the production-replay workflow)', () => {
  it('lists the pulled findings whose targets change between two routes files', async () => {
    // Prepare
    const aws = await start({ regions: allRegions() });
    const cwd = tempDir();
    const pulled = await run(['pull', '--since', '2026-01-01', '--region', REGIONS.join(','), '-o', 'last90.jsonl'], cwd, aws.env());
    expect(pulled.code, pulled.stderr).toBe(0);
    const critical = unarchived.filter((e) => e.detail.severity >= 9).map((e) => e.detail.id);
    // Act
    const same = await run(['routes', 'diff', '--old', join(DIFF_CONFIGS, 'base.yml'), '--new', join(DIFF_CONFIGS, 'base.yml'), 'last90.jsonl'], cwd, {});
    const changed = await run(['routes', 'diff', '--old', join(DIFF_CONFIGS, 'base.yml'), '--new', join(DIFF_CONFIGS, 'target-removed.yml'), 'last90.jsonl', '--json'], cwd, {});
    // Assess
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain(`No changes: all ${unarchived.length} findings route the same`);
    expect(changed.code, changed.stderr).toBe(2);
    expect(critical.length).toBeGreaterThan(0);
    expect(changed.stdout).toContain(critical[0]);
  });
});

describe('pull: what stops it', () => {
  it('a bad --criteria is a usage error in one line, before any call', async () => {
    // Prepare
    const aws = await start({ regions: allRegions() });
    const cwd = tempDir();
    // Act
    const { code, stdout, stderr } = await run(['pull', '--criteria', 'severity>=high', '-o', 'x.jsonl'], cwd, aws.env());
    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("findings-router pull: criteria 'severity>=high': severity >= takes a whole number (GuardDuty compares integers), got 'high' (see pull --help)\n");
    expect(aws.calls).toHaveLength(0);
  });

  it('an output path that cannot be written fails first, in one line, with no AWS call', async () => {
    // Prepare
    const aws = await start({ regions: allRegions() });
    const cwd = tempDir();
    mkdirSync(join(cwd, 'a-directory'));
    // Act
    const missingDir = await run(['pull', '--region', 'us-east-1', '-o', 'no/such/dir/out.jsonl'], cwd, aws.env());
    const directory = await run(['pull', '--region', 'us-east-1', '-o', 'a-directory'], cwd, aws.env());
    // Assess
    expect(missingDir.code).toBe(1);
    expect(missingDir.stderr).toBe('findings-router pull: no/such/dir/out.jsonl: cannot write in no/such/dir (ENOENT)\n');
    expect(directory.code).toBe(1);
    expect(directory.stderr).toBe('findings-router pull: a-directory: is a directory; -o takes a file name\n');
    expect(aws.calls).toHaveLength(0);
  });

  it('no credentials or no region: one line, exit 1, no stack trace', async () => {
    // Prepare
    const cwd = tempDir();
    // Act
    const noCredentials = await run(['pull', '--region', 'us-east-1', '-o', 'x.jsonl'], cwd, {});
    const noRegion = await run(['pull', '-o', 'x.jsonl'], cwd, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'dummy-secret' });
    // Assess
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toMatch(/^findings-router pull: no AWS credentials \(CredentialsProviderError: Could not load credentials from any providers\); set AWS_PROFILE or AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY\n$/);
    expect(noRegion.code).toBe(1);
    expect(noRegion.stderr).toBe('findings-router pull: no region: pass --region (e.g. --region us-east-1,eu-west-1) or set AWS_REGION\n');
    expect(existsSync(join(cwd, 'x.jsonl'))).toBe(false);
  });

  it('exits 1 when no region could be read, and leaves no output file behind', async () => {
    // Prepare
    const aws = await start({ regions: { 'eu-west-3': { denied: true }, 'ca-central-1': { detectorIds: [] } } });
    const cwd = tempDir();
    // Act
    const { code, stdout } = await run(['pull', '--region', 'eu-west-3,ca-central-1', '-o', 'none.jsonl'], cwd, aws.env());
    // Assess
    expect(code).toBe(1);
    expect(stdout).toContain('Skipped:\n  eu-west-3: access denied in eu-west-3: User: arn:aws:iam::999999999999:user/auditor is not authorized');
    expect(stdout).toContain('  ca-central-1: no GuardDuty detector in ca-central-1 (GuardDuty is not enabled there for this account)');
    expect(readdirSync(cwd).filter((f) => f.includes('none.jsonl'))).toEqual([]);
  });

  it('an interrupted pull (SIGINT) removes its partial file and keeps the old one', async () => {
    // Prepare: the first GetFindings never answers
    const aws = await start({ regions: allRegions(), listPageSize: 10 });
    aws.stallNext('GetFindings');
    const cwd = tempDir();
    writeFileSync(join(cwd, 'last.jsonl'), 'previous pull\n');
    const child = spawn(process.execPath, [BIN, 'pull', '--since', '2026-01-01', '--region', 'us-east-1', '-o', 'last.jsonl'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, AWS_EC2_METADATA_DISABLED: 'true', ...aws.env() },
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Act: interrupt once the hung call is in flight and the partial file exists
    while (!aws.calls.some((c) => c.operation === 'GetFindings') || readdirSync(cwd).length < 2) await new Promise((r) => setTimeout(r, 20));
    const during = readdirSync(cwd).sort();
    child.kill('SIGINT');
    const code = await exited;
    // Assess
    expect(during).toEqual([expect.stringMatching(/^\.last\.jsonl\.partial-\d+$/), 'last.jsonl']);
    expect(code).toBe(130);
    expect(readdirSync(cwd)).toEqual(['last.jsonl']);
    expect(readFileSync(join(cwd, 'last.jsonl'), 'utf8')).toBe('previous pull\n');
  });
});
