import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const PUBLISHED = join(import.meta.dirname, '../events/published');

const run = (args: string[], cwd: string, env: Record<string, string> = {}) => {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const jsonLines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
const tempDir = () => mkdtempSync(join(tmpdir(), 'replay-'));
const sshEvent = () => JSON.parse(readFileSync(join(PUBLISHED, 'ssh-bruteforce.sample.eventbridge.json'), 'utf8'));

describe('CLI: replay over the bundled corpus', () => {
  it('prints one JSON line per sample with the documented keys, and nothing else on stdout', () => {
    // Prepare
    const cwd = tempDir();
    // Act
    const { code, stdout, stderr } = run(['replay', '--json'], cwd);
    // Assess
    expect(code).toBe(0);
    const records = jsonLines(stdout);
    expect(records).toHaveLength(250);
    for (const record of records) {
      expect(Object.keys(record)).toEqual(['source', 'findingId', 'type', 'severity', 'outcome', 'routes', 'targets', 'reason']);
      expect(['routed', 'suppressed', 'rejected', 'ignored', 'failed']).toContain(record.outcome);
    }
    expect(records.every((r) => r.outcome === 'routed' || r.outcome === 'suppressed')).toBe(true);
    expect(stderr).toContain('Replay summary: 250 events');
  });

  it('delivers to the live file target and renders the network targets without sending', () => {
    // Prepare
    const cwd = tempDir();
    // Act
    const { code, stdout } = run(['replay', '--json'], cwd);
    // Assess
    expect(code).toBe(0);
    const toSiem = jsonLines(stdout).filter((r) => r.targets.includes('siem'));
    const lines = readFileSync(join(cwd, 'out/siem.ndjson'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(toSiem.length);
    expect(JSON.parse(lines[0]!)).toHaveProperty('enrichment.severityLabel');
  });

  it('prints the summary table on stdout without --json', () => {
    // Prepare
    const cwd = tempDir();
    // Act
    const { code, stdout } = run(['replay'], cwd);
    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/Replay summary: 250 events — routed \d+, suppressed \d+, rejected 0, ignored 0, failed 0/);
    expect(stdout).toMatch(/severity\s+chat\s+oncall\s+siem\s+soc-slack/);
  });
});

describe('CLI: replay with bad input beside good input', () => {
  it('reports each bad event as rejected with the field at fault and routes every good one', () => {
    // Prepare
    const cwd = tempDir();
    const inputs = join(cwd, 'in');
    mkdirSync(inputs);
    const good = sshEvent();
    const noId = sshEvent(); delete noId.detail.id;
    const stringSeverity = sshEvent(); stringSeverity.detail.severity = 'high';
    const otherType = { ...sshEvent(), 'detail-type': 'GuardDuty Malware Protection Object Scan Result' };
    const unknownType = sshEvent(); unknownType.detail.type = 'Mystery:Thing/NewKind'; unknownType.detail.resource.resourceType = 'Teleporter';
    writeFileSync(join(inputs, 'a-broken.json'), '{"detail": ');
    writeFileSync(join(inputs, 'b-mixed.json'), JSON.stringify([good, noId, stringSeverity, otherType, unknownType]));
    writeFileSync(join(inputs, 'c-lines.ndjson'), `${JSON.stringify(good.detail)}\nnot json\n\n${JSON.stringify(noId)}\n`);
    // Act
    const { code, stdout } = run(['replay', inputs, '--json'], cwd);
    // Assess
    expect(code).toBe(0);
    const bySource = Object.fromEntries(jsonLines(stdout).map((r) => [r.source, r]));
    expect(bySource['in/a-broken.json']).toMatchObject({ outcome: 'rejected', reason: expect.stringContaining('invalid JSON') });
    expect(bySource['in/b-mixed.json[0]']).toMatchObject({ outcome: 'routed', routes: ['default'], targets: ['siem'] });
    expect(bySource['in/b-mixed.json[1]']).toMatchObject({ outcome: 'rejected', reason: expect.stringContaining('$.detail.id') });
    expect(bySource['in/b-mixed.json[2]']).toMatchObject({ outcome: 'rejected', reason: expect.stringContaining('$.detail.severity') });
    expect(bySource['in/b-mixed.json[3]']).toMatchObject({ outcome: 'ignored' });
    expect(bySource['in/b-mixed.json[4]']).toMatchObject({ outcome: 'routed', type: 'Mystery:Thing/NewKind' });
    expect(bySource['in/c-lines.ndjson:1']).toMatchObject({ outcome: 'routed', reason: expect.stringContaining('already delivered') });
    expect(bySource['in/c-lines.ndjson:2']).toMatchObject({ outcome: 'rejected' });
    expect(bySource['in/c-lines.ndjson:4']).toMatchObject({ outcome: 'rejected' });
    expect(Object.keys(bySource)).toHaveLength(9);
  });
});

describe('CLI: replay tolerates a byte order mark', () => {
  it('reads a .json file saved with a UTF-8 BOM (as some editors write it)', () => {
    // Prepare
    const cwd = tempDir();
    writeFileSync(join(cwd, 'bom.json'), `\uFEFF${JSON.stringify(sshEvent())}`);
    // Act
    const { code, stdout } = run(['replay', 'bom.json', '--json', '--dry-run'], cwd);
    // Assess
    expect(code).toBe(0);
    expect(jsonLines(stdout)[0]).toMatchObject({ outcome: 'routed' });
  });
});

describe('CLI: replay --dry-run --payloads', () => {
  it('writes the exact bytes per target and finding, and sends nothing', () => {
    // Prepare
    const cwd = tempDir();
    const finding = sshEvent();
    finding.detail.service.additionalInfo = {};
    finding.detail.accountId = '111111111111';
    finding.detail.severity = 9.5;
    writeFileSync(join(cwd, 'f.json'), JSON.stringify(finding));
    // Act
    const { code, stdout } = run(['replay', 'f.json', '--dry-run', '--payloads', 'payloads', '--json'], cwd);
    // Assess
    expect(code).toBe(0);
    const [record] = jsonLines(stdout);
    expect(record).toMatchObject({ outcome: 'routed', routes: ['siem-copy', 'critical'], targets: ['siem', 'oncall', 'soc-slack', 'chat'] });
    const id = finding.detail.id;
    expect(readdirSync(join(cwd, 'payloads')).sort()).toEqual(['chat', 'oncall', 'siem', 'soc-slack']);
    const slack = JSON.parse(readFileSync(join(cwd, 'payloads/soc-slack', `${id}.json`), 'utf8'));
    expect(slack.blocks.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(cwd, 'payloads/oncall', `${id}.json`), 'utf8')).finding.id).toBe(id);
    expect(existsSync(join(cwd, 'out/siem.ndjson'))).toBe(false);
  });
});

describe('CLI: configuration errors', () => {
  it('exits non-zero with file:line:column', () => {
    // Prepare
    const cwd = tempDir();
    writeFileSync(join(cwd, 'routes.yml'), 'targets:\n  chat: { type: console }\ndefault:\n  targets: [chat]\nroutes:\n  - name: r\n    targets: [pager]\n');
    // Act
    const { code, stderr, stdout } = run(['replay', '--routes', 'routes.yml', '--json'], cwd);
    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain("routes.yml:7:15: undefined target 'pager'");
    expect(stdout).toBe('');
  });

  it('exits 2 on an unknown option', () => {
    // Act
    const { code, stderr } = run(['replay', '--bogus'], tempDir());
    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('bogus');
  });
});
