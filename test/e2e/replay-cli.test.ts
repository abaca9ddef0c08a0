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
      expect(Object.keys(record)).toEqual(['source', 'findingId', 'type', 'severity', 'outcome', 'routes', 'targets', 'reason', 'deliveries']);
      expect(Object.keys(record.deliveries)).toEqual(record.targets);
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

/** The cells of one row of the "Deliveries per target" table. */
const deliveryRow = (text: string, target: string): string[] | undefined => {
  const lines = text.split('\n');
  const start = lines.indexOf('Deliveries per target (findings):');
  return lines.slice(start + 3).find((line) => line.startsWith(`${target} `))?.trim().split(/\s{2,}/);
};

describe('CLI: the replay summary tells sent, rendered only and failed apart', () => {
  it('counts the console and file as sent and the network targets as rendered only; --dry-run sends nothing', () => {
    // Prepare
    const cwd = tempDir();
    // Act
    const live = run(['replay', '--summary-json', 'live.json'], cwd);
    const dry = run(['replay', '--dry-run', '--summary-json', 'dry.json'], cwd);
    // Assess
    expect([live.code, dry.code]).toEqual([0, 0]);
    const liveSummary = JSON.parse(readFileSync(join(cwd, 'live.json'), 'utf8'));
    const drySummary = JSON.parse(readFileSync(join(cwd, 'dry.json'), 'utf8'));
    expect(liveSummary.deliveries['soc-slack']).toMatchObject({ sent: 0, failed: 0 });
    expect(liveSummary.deliveries['soc-slack'].rendered).toBeGreaterThan(0);
    expect(liveSummary.deliveries.siem.sent).toBeGreaterThan(0);
    expect(deliveryRow(live.stdout, 'soc-slack')).toEqual(['soc-slack', '0', String(liveSummary.deliveries['soc-slack'].rendered), '0', '0', '0']);
    expect(deliveryRow(live.stdout, 'siem')?.[1]).toBe(String(liveSummary.deliveries.siem.sent));
    for (const counts of Object.values(drySummary.deliveries) as { sent: number }[]) expect(counts.sent).toBe(0);
    expect(drySummary.digests.sent).toBe(0);
    expect(dry.stdout).toMatch(/Digest groups: 0 sent, \d+ rendered only, 0 failed/);
  });

  it('names rejected lines with file and line, counts skipped files, and never echoes a binary file', () => {
    // Prepare
    const cwd = tempDir();
    const inputs = join(cwd, 'in');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'good.json'), JSON.stringify(sshEvent()));
    writeFileSync(join(inputs, 'lines.jsonl'), `${JSON.stringify(sshEvent().detail)}\nnot json\n{"a":1}\n`);
    writeFileSync(join(inputs, 'notes.txt'), 'hello');
    writeFileSync(join(inputs, 'README.md'), '# readme');
    writeFileSync(join(inputs, 'blob.json'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x00]));
    // Act
    const { code, stdout } = run(['replay', 'in', '--dry-run', '--summary-json', 'summary.json', '--report', 'report.html'], cwd);
    // Assess
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(stdout).toContain('Rejected (2):\n  in/lines.jsonl:2: invalid JSON');
    expect(stdout).toContain('\n  in/lines.jsonl:3: not a GuardDuty finding');
    expect(stdout).toContain('Skipped files (3):');
    expect(stdout).toContain('  in/blob.json: binary (NUL bytes): not JSON text');
    expect(stdout).toContain('  in/notes.txt: not .json');
    const summary = JSON.parse(readFileSync(join(cwd, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ events: 4, outcomes: { routed: 2, rejected: 2 }, rejected: { count: 2 }, skipped: { count: 3 } });
    const report = readFileSync(join(cwd, 'report.html'), 'utf8');
    expect(report).toContain('<h3 id="skipped">Skipped files (3)</h3>');
    expect(report).toContain('<td>in/notes.txt</td>');
  });

  it('--summary-json - writes the summary as the last line of stdout', () => {
    // Prepare
    const cwd = tempDir();
    writeFileSync(join(cwd, 'f.json'), JSON.stringify(sshEvent()));
    // Act
    const { code, stdout } = run(['replay', 'f.json', '--dry-run', '--summary-json', '-'], cwd);
    // Assess
    expect(code).toBe(0);
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ events: 1, deliveries: { siem: { rendered: 1, sent: 0 } } });
  });
});

describe('CLI: replay as a CI gate, stdin, fresh output files, expired suppressions', () => {
  it('--fail-on failed,rejected exits 0 when nothing failed or was rejected, 3 when one was', () => {
    // Prepare
    const cwd = tempDir();
    writeFileSync(join(cwd, 'good.json'), JSON.stringify(sshEvent()));
    writeFileSync(join(cwd, 'bad.jsonl'), 'not json\n');
    // Act
    const clean = run(['replay', 'good.json', '--dry-run', '--fail-on', 'failed,rejected'], cwd);
    const dirty = run(['replay', 'good.json', 'bad.jsonl', '--dry-run', '--fail-on', 'failed,rejected'], cwd);
    // Assess
    expect(clean.code).toBe(0);
    expect(dirty.code).toBe(3);
    expect(dirty.stderr).toContain('replay: --fail-on failed,rejected: 1 rejected (exit 3)');
  });

  it('reads standard input as -, as JSON Lines', () => {
    // Prepare
    const cwd = tempDir();
    const input = `${JSON.stringify(sshEvent())}\nnot json\n`;
    // Act
    const result = spawnSync(process.execPath, [BIN, 'replay', '-', '--json', '--dry-run'], { cwd, encoding: 'utf8', input, timeout: 60_000 });
    // Assess
    expect(result.status).toBe(0);
    expect(jsonLines(result.stdout).map((r) => [r.source, r.outcome])).toEqual([
      ['stdin:1', 'routed'],
      ['stdin:2', 'rejected'],
    ]);
  });

  it('starts the file target afresh on each run: out/siem.ndjson holds this run only', () => {
    // Prepare
    const cwd = tempDir();
    writeFileSync(join(cwd, 'f.json'), JSON.stringify(sshEvent()));
    // Act
    run(['replay', 'f.json'], cwd);
    run(['replay', 'f.json'], cwd);
    // Assess
    expect(readFileSync(join(cwd, 'out/siem.ndjson'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('warns once per expired suppression, naming where it is', () => {
    // Prepare
    const cwd = tempDir();
    writeFileSync(join(cwd, 'f.json'), JSON.stringify(sshEvent()));
    writeFileSync(
      join(cwd, 'routes.yml'),
      'targets:\n  siem: { type: file, path: siem.ndjson }\ndefault:\n  targets: [siem]\nsuppress:\n  - name: old-scan\n    match: { type: "Recon:*" }\n    reason: scan\n    until: 2020-01-01\n',
    );
    // Act
    const { code, stderr } = run(['replay', 'f.json', 'f.json', '--routes', 'routes.yml', '--dry-run'], cwd);
    // Assess
    expect(code).toBe(0);
    expect(stderr.match(/suppression 'old-scan' expired/g)).toHaveLength(1);
    expect(stderr).toContain("warning: routes.yml:6:5: suppression 'old-scan' expired on 2020-01-01");
  });
});

describe('CLI: digests on the console, and the group routes test shows', () => {
  const GROUPING_ROUTES = 'targets:\n  chat: { type: console }\n  siem: { type: file, path: siem.ndjson }\ndefault:\n  targets: [siem]\nroutes:\n  - name: eu\n    match: { region: ["eu-*"] }\n    targets: [chat]\n    group: { by: [accountId], window: 5m }\n';
  const euFinding = (id: string, minute: number) => {
    const event = sshEvent();
    Object.assign(event.detail, { id, region: 'eu-west-1', accountId: '111111111111', severity: 5, updatedAt: `2026-01-01T00:0${minute}:00.000Z` });
    return JSON.stringify(event);
  };

  it('replay prints one digest for findings of one group within the window', () => {
    // Prepare
    const cwd = tempDir();
    writeFileSync(join(cwd, 'routes.yml'), GROUPING_ROUTES);
    writeFileSync(join(cwd, 'burst.jsonl'), [euFinding('a1', 0), euFinding('a2', 1), euFinding('a3', 2)].join('\n'));
    // Act
    const { code, stdout } = run(['replay', 'burst.jsonl', '--routes', 'routes.yml'], cwd);
    // Assess
    expect(code).toBe(0);
    expect(stdout.match(/\[DIGEST /g)).toHaveLength(1);
    expect(stdout).toMatch(/\[DIGEST MEDIUM [\d.]+\] 3 similar findings · route eu/);
    expect(stdout).toContain('Digest groups: 1 sent, 0 rendered only, 0 failed, for 3 grouped findings');
    expect(deliveryRow(stdout, 'chat')).toEqual(['chat', '0', '0', '0', '3', '0']);
  });

  it('routes test names the digest group, its key and window', () => {
    // Prepare
    const cwd = tempDir();
    writeFileSync(join(cwd, 'routes.yml'), GROUPING_ROUTES);
    writeFileSync(join(cwd, 'f.json'), euFinding('a1', 0));
    // Act
    const { code, stdout } = run(['routes', 'test', 'f.json', '--routes', 'routes.yml'], cwd);
    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain("  → grouped: chat joins digest group 'eu accountId=111111111111' (route eu, by accountId, window 5m)");
  });
});
