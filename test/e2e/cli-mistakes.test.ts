import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The command line's answer to every ordinary mistake: one line naming it, the documented
 * exit code, never a stack trace. Spawned through the bin, as a user runs it.
 */
const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const SSH = join(import.meta.dirname, '../events/published/ssh-bruteforce.sample.eventbridge.json');

/** No AWS settings from this machine: no region, no credentials, no instance metadata. */
const NO_AWS = {
  AWS_REGION: '',
  AWS_DEFAULT_REGION: '',
  AWS_PROFILE: '',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};

const run = (args: string[], cwd: string, options: { node?: string; input?: string } = {}) => {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const [name, value] of Object.entries(NO_AWS)) {
    if (value === '') delete env[name];
    else env[name] = value;
  }
  const result = spawnSync(options.node ?? process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env, timeout: 60_000, input: options.input ?? '' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

const workspace = () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-mistakes-'));
  copyFileSync(SSH, join(cwd, 'ssh.json'));
  writeFileSync(join(cwd, 'a-file'), 'not a folder');
  writeFileSync(join(cwd, 'broken.jsonl'), 'not json\n');
  return cwd;
};

/** command → exit code and its one line on stderr (a regular expression over the whole of stderr). */
const MISTAKES: [string, string[], number, RegExp][] = [
  ['no command', [], 2, /^Usage: findings-router <command>/],
  ['unknown command', ['bogus'], 2, /^findings-router: unknown command 'bogus'\n$/],
  ['group word alone', ['members'], 2, /^findings-router members: give a subcommand: import \| status \| diff \(.*\)\n$/],
  ['dlq alone', ['dlq'], 2, /^findings-router dlq: give a subcommand: list \| show \| redrive \| export .*\n$/],
  ['unknown option', ['replay', '--bogus'], 2, /^findings-router replay: Unknown option '--bogus'.*\n$/],
  ['input path that does not exist', ['replay', 'nothere.json'], 2, /^findings-router replay: nothere\.json: no such file or folder\n$/],
  ['--report into a folder that does not exist', ['replay', 'ssh.json', '--report', 'no/such/report.html'], 2, /^findings-router replay: --report no\/such\/report\.html: the folder no\/such does not exist\n$/],
  ['--report under a file', ['replay', 'ssh.json', '--report', 'a-file/report.html'], 2, /^findings-router replay: --report a-file\/report\.html: a-file is not a folder\n$/],
  ['--report naming a folder', ['replay', 'ssh.json', '--report', '.'], 2, /^findings-router replay: --report \.: is a folder; give a file name\n$/],
  ['--payloads naming a file', ['replay', 'ssh.json', '--payloads', 'a-file'], 2, /^findings-router replay: --payloads a-file: is a file, not a folder\n$/],
  ['--summary-json into a folder that does not exist', ['replay', 'ssh.json', '--summary-json', 'no/s.json'], 2, /^findings-router replay: --summary-json no\/s\.json: the folder no does not exist\n$/],
  ['--dry-run with --send', ['replay', 'ssh.json', '--dry-run', '--send'], 2, /^findings-router replay: --dry-run and --send exclude each other.*\n$/],
  ['--fail-on an unknown outcome', ['replay', 'ssh.json', '--fail-on', 'failed,bogus'], 2, /^findings-router replay: --fail-on: unknown outcome 'bogus'; choose from failed, rejected, ignored, suppressed, skipped\n$/],
  ['--fail-on rejected with a rejected event', ['replay', 'broken.jsonl', '--fail-on', 'failed,rejected', '--json'], 3, /replay: --fail-on failed,rejected: 1 rejected \(exit 3\)\n$/],
  ['routes file that does not exist', ['replay', 'ssh.json', '--routes', 'nope.yml'], 1, /^nope\.yml:1:1: cannot read routes file \(ENOENT\)\n$/],
  ['config check of a file that does not exist', ['config', 'check', '--routes', 'nope.yml'], 1, /^nope\.yml:1:1: cannot read routes file \(ENOENT\)\nconfig check: 1 error\(s\), 0 warning\(s\)\n$/],
  ['accounts file that does not exist', ['routes', 'test', 'ssh.json', '--accounts', 'nope.yml'], 1, /^nope\.yml:1:1: cannot read accounts file \(ENOENT\)\n$/],
  ['routes test without an event', ['routes', 'test'], 2, /^findings-router routes test: give at least one EVENT file \(or --matrix\)\n$/],
  ['routes test of a path that does not exist', ['routes', 'test', 'nothere.json'], 2, /^findings-router routes test: nothere\.json: no such file or folder\n$/],
  ['routes test --expect an unknown target', ['routes', 'test', 'ssh.json', '--expect', 'siem,pagr'], 2, /^findings-router routes test: --expect: no target named 'pagr' in .*routes\.example\.yml \(targets: siem, soc-slack, oncall, chat\)\n$/],
  ['members without a region', ['members', 'status'], 1, /^findings-router members status: no AWS region: pass --region \(e\.g\. --region us-east-1\) or set AWS_REGION\n$/],
  ['members without credentials', ['members', 'status', '--region', 'us-east-1'], 1, /^findings-router members status: .*credentials.*\n$/i],
  ['dlq without a region', ['dlq', 'list', '--queue-url', 'http://127.0.0.1:9/000000000000/dlq'], 1, /^findings-router dlq: no AWS region: pass --region .* or set AWS_REGION\n$/],
  ['pull without a region', ['pull', '-o', 'out.jsonl'], 1, /^findings-router pull: no region: .*\n$/],
];

describe('CLI mistakes: one line, the documented exit code, no stack trace', () => {
  it.each(MISTAKES)('%s', (_name, args, exitCode, line) => {
    // Prepare
    const cwd = workspace();
    // Act
    const { code, stderr } = run(args, cwd);
    // Assess
    expect({ code, stderr }).toMatchObject({ code: exitCode, stderr: expect.stringMatching(line) });
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('checks output paths before the work starts: nothing is written when --report cannot be', () => {
    // Prepare
    const cwd = workspace();
    // Act
    const { code } = run(['replay', 'ssh.json', '--report', 'no/such/report.html'], cwd);
    // Assess
    expect(code).toBe(2);
    expect(existsSync(join(cwd, 'out/siem.ndjson'))).toBe(false);
  });

  it('--debug prints the stack trace of an error that is not a user mistake', () => {
    // Prepare: a folder where the file target's output file should be
    const cwd = workspace();
    mkdirSync(join(cwd, 'siem.ndjson'));
    writeFileSync(join(cwd, 'routes.yml'), 'targets:\n  siem: { type: file, path: siem.ndjson }\ndefault:\n  targets: [siem]\n');
    // Act
    const plain = run(['replay', 'ssh.json', '--routes', 'routes.yml'], cwd);
    const debug = run(['replay', 'ssh.json', '--routes', 'routes.yml', '--debug'], cwd);
    // Assess
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^findings-router replay: .*siem\.ndjson.*\n$/);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });
});

describe('CLI help and version', () => {
  it.each([
    [['--version'], /^findings-router \d+\.\d+\.\d+ \(Node\.js \d+/],
    [['help'], /^Usage: findings-router <command>/],
    [['help', 'replay'], /^Usage: findings-router replay /],
    [['help', 'dlq', 'list'], /^Usage: findings-router dlq /],
    [['dlq', '--help'], /^Usage: findings-router dlq <list \| show \| redrive \| export>/],
    [['members', '--help'], /^Usage: findings-router members <import \| status \| diff>/],
    [['members', 'status', '--help'], /^Usage: findings-router members status/],
    [['config', 'check', '--help'], /^Usage: findings-router config check/],
    [['config', 'schema', '--help'], /^Usage: findings-router config schema/],
    [['routes', 'test', '--help'], /^Usage: findings-router routes test/],
    [['routes', 'diff', '--help'], /^Usage: findings-router routes diff/],
    [['targets', '--help'], /^Usage: findings-router targets/],
    [['pull', '--help'], /^Usage: findings-router pull/],
  ])('%j prints on stdout and exits 0', (args, text) => {
    // Act
    const { code, stdout, stderr } = run(args, workspace());
    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(text);
  });
});

describe('CLI under an older Node', () => {
  // The machine's own node, when it is older than the CLI needs (npm's pinned Node 24 runs the rest).
  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => {
    if (!existsSync(path)) return false;
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
    return Number(/^v(\d+)/.exec(version)?.[1] ?? 99) < 24;
  });

  it.skipIf(systemNode === undefined)('says which Node it needs in one line, exit 1, before loading TypeScript', () => {
    // Act
    const { code, stderr } = run(['replay', '--help'], workspace(), { node: systemNode! });
    // Assess
    expect(code).toBe(1);
    expect(stderr).toMatch(/^findings-router: needs Node\.js 24 or newer, this is v\d+\.\d+\.\d+; run it as npx findings-router .*\n$/);
  });
});
