import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatSeverity } from '../../../shared/severity.ts';

/**
 * The commands over real GuardDuty data in its other shapes: a finding from `aws guardduty
 * get-findings` output or from the S3 export routes exactly as the same finding arriving
 * from EventBridge; what is not data is reported beside it.
 */
const BIN = join(import.meta.dirname, '../../../bin/findings-router.mjs');
const API = join(import.meta.dirname, '../../events/api');
const wire = (JSON.parse(readFileSync(join(API, 'get-findings.wire.json'), 'utf8')) as { findings: Record<string, unknown>[] }).findings;

const run = (args: string[], cwd: string) => {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const records = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
/** A record without its source: what routing decided. */
const decision = ({ source: _, ...rest }: Record<string, unknown>) => rest;

describe('replay, routes test, routes diff over GetFindings output and the S3 export', () => {
  it('routes each finding from CLI output and from an export .jsonl.gz exactly as from EventBridge', { timeout: 120_000 }, () => {
    // Prepare: the same ten findings as EventBridge events, as CLI v2-style output, as one export object
    const cwd = mkdtempSync(join(tmpdir(), 'shapes-'));
    const events = wire.map((detail, index) => ({ version: '0', id: `e-${index}`, 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: detail.accountId, time: detail.updatedAt, region: detail.region, resources: [], detail }));
    writeFileSync(join(cwd, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n'));
    copyFileSync(join(API, 'get-findings.cli-iso8601.json'), join(cwd, 'cli.json'));
    const prefix = join(cwd, 'export', 'AWSLogs', '123456789012', 'GuardDuty', 'us-east-1', '2026', '12', '01');
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, '0b1c2d3e-export.jsonl.gz'), gzipSync(wire.map((f) => JSON.stringify(f)).join('\n')));
    // Act
    const fromEvents = run(['replay', '--json', '--dry-run', 'events.jsonl'], cwd);
    const fromCli = run(['replay', '--json', '--dry-run', '--report', 'report.html', 'cli.json'], cwd);
    const fromExport = run(['replay', '--json', '--dry-run', 'export'], cwd);
    // Assess
    for (const result of [fromEvents, fromCli, fromExport]) expect(result.code).toBe(0);
    const expected = records(fromEvents.stdout).map(decision);
    expect(expected).toHaveLength(10);
    expect(expected.filter((r) => r.outcome === 'routed').length).toBeGreaterThan(5);
    expect(records(fromCli.stdout).map(decision)).toEqual(expected);
    expect(records(fromExport.stdout).map(decision)).toEqual(expected);
    expect(records(fromCli.stdout)[3]!.source).toBe('cli.json.Findings[3]');
    const report = readFileSync(join(cwd, 'report.html'), 'utf8');
    for (const finding of wire) expect(report).toContain(String(finding.id));
    expect(records(fromExport.stdout)[3]!.source).toBe('export/AWSLogs/123456789012/GuardDuty/us-east-1/2026/12/01/0b1c2d3e-export.jsonl.gz:4');
  });

  it('reports what is not data with its source and reason, routes the good input beside it, and exits 0', { timeout: 120_000 }, () => {
    // Prepare
    const cwd = mkdtempSync(join(tmpdir(), 'shapes-bad-'));
    mkdirSync(join(cwd, 'in'));
    writeFileSync(join(cwd, 'in', 'a-good.json'), JSON.stringify({ Findings: JSON.parse(readFileSync(join(API, 'get-findings.cli-v1.json'), 'utf8')).Findings.slice(0, 1), UnprocessedFindings: [{ FindingId: 'gone', Reason: 'NotFound' }] }));
    writeFileSync(join(cwd, 'in', 'b-empty.json'), '{"Findings": []}');
    writeFileSync(join(cwd, 'in', 'c-other.json'), '{"hello": "world"}');
    writeFileSync(join(cwd, 'in', 'd-truncated.jsonl.gz'), gzipSync(JSON.stringify(wire[1])).subarray(0, 30));
    execFileSync('mkfifo', [join(cwd, 'in', 'e-pipe.jsonl')]);
    symlinkSync('f-loop.json', join(cwd, 'in', 'f-loop.json'));
    // Act
    const { code, stdout } = run(['replay', '--json', '--dry-run', 'in', '/dev/zero'], cwd);
    // Assess
    expect(code).toBe(0);
    expect(records(stdout).map((r) => [r.source, r.outcome, r.reason === null ? null : String(r.reason).replace(/ \(.*$/, '')])).toEqual([
      ['in/a-good.json.Findings[0]', 'routed', null],
      ['in/a-good.json.UnprocessedFindings[0]', 'rejected', '$: GetFindings did not return this finding: finding "gone": "NotFound"'],
      ['in/b-empty.json', 'rejected', '$: looks like a GetFindings response with no findings'],
      ['in/c-other.json', 'rejected', '$: not a GuardDuty finding: no id/type/resource'],
      ['in/d-truncated.jsonl.gz', 'rejected', '$: in/d-truncated.jsonl.gz: truncated gzip data'],
      ['in/e-pipe.jsonl', 'rejected', '$: in/e-pipe.jsonl: refused: a FIFO'],
      ['in/f-loop.json', 'rejected', '$: in/f-loop.json: symlink loop'],
      ['/dev/zero', 'rejected', '$: /dev/zero: refused: a device, not a file'],
    ]);
  });

  it('routes test and routes diff read the same shapes', { timeout: 120_000 }, () => {
    const cwd = mkdtempSync(join(tmpdir(), 'shapes-cmd-'));
    copyFileSync(join(API, 'get-findings.boto3.json'), join(cwd, 'boto3.json'));
    const test = run(['routes', 'test', 'boto3.json'], cwd);
    expect(test.code).toBe(0);
    expect(test.stdout).toContain(`boto3.json.Findings[0]: ${wire[0]!.type} severity ${formatSeverity(Number(wire[0]!.severity))} account ${wire[0]!.accountId}`);
    const diff = run(['routes', 'diff', '--old', join(import.meta.dirname, '../../../routes.example.yml'), '--new', join(import.meta.dirname, '../../../routes.example.yml'), 'boto3.json'], cwd);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('all 10 findings route the same');
  });
});
