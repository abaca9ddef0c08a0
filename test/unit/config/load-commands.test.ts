import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every command that reads a routes or accounts file goes through loadConfig, so a missing
 * file, bad YAML and a schema error read the same everywhere: `file:line:column: message`,
 * exit 1, never a stack trace. Spawned through the bin, as a user runs it.
 */
const BIN = join(import.meta.dirname, '../../../bin/findings-router.mjs');
const EVENT = join(import.meta.dirname, '../../events/published/ssh-bruteforce.sample.eventbridge.json');
const EXAMPLE_ROUTES = join(import.meta.dirname, '../../../routes.example.yml');

/** No AWS settings from this machine: a command that reached AWS would fail differently. */
const NO_AWS = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/** Asynchronous, so the cases run side by side (each is a Node start-up). */
const run = (args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> => {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' };
  for (const name of NO_AWS) delete env[name];
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
    });
    child.stdin?.end();
  });
};

/** The three ways a configuration file goes wrong, with the one line each must produce. */
const workspace = () => {
  const cwd = mkdtempSync(join(tmpdir(), 'load-commands-'));
  copyFileSync(EVENT, join(cwd, 'event.json'));
  copyFileSync(EXAMPLE_ROUTES, join(cwd, 'good-routes.yml'));
  writeFileSync(join(cwd, 'bad-yaml.yml'), 'targets: [\n');
  writeFileSync(join(cwd, 'bad-routes.yml'), 'targets:\n  chat: { type: telegraph }\ndefault:\n  targets: [chat]\n');
  writeFileSync(join(cwd, 'bad-accounts.yml'), 'accounts:\n  "12345": { name: a }\n');
  return cwd;
};

const LINES = {
  missing: (file: string, what: string) => new RegExp(`^${file}:1:1: cannot read ${what} file \\(ENOENT\\)$`),
  badYaml: /^bad-yaml\.yml:2:1: Flow sequence in block collection must be sufficiently indented and end with a \]$/,
  badRoutes: /^bad-routes\.yml:2:17: target 'chat': unknown type 'telegraph' \(known: [a-z, -]+\)$/,
  badAccounts: /^bad-accounts\.yml:2:3: key '12345': expected a 12-digit account id \(quote it in YAML\)$/,
};

/** [command, args with FILE where the file goes, which kind of file, a summary line the command adds after the problem]. */
const COMMANDS: [string, (file: string) => string[], 'routes' | 'accounts', RegExp?][] = [
  ['replay --routes', (f) => ['replay', 'event.json', '--routes', f], 'routes'],
  ['replay --accounts', (f) => ['replay', 'event.json', '--accounts', f], 'accounts'],
  ['routes test --routes', (f) => ['routes', 'test', 'event.json', '--routes', f], 'routes'],
  ['routes test --accounts', (f) => ['routes', 'test', 'event.json', '--accounts', f], 'accounts'],
  ['routes diff --new', (f) => ['routes', 'diff', '--old', 'good-routes.yml', '--new', f, 'event.json'], 'routes'],
  ['routes diff --accounts', (f) => ['routes', 'diff', '--old', 'good-routes.yml', '--new', 'good-routes.yml', '--accounts', f, 'event.json'], 'accounts'],
  ['config check --routes', (f) => ['config', 'check', '--routes', f], 'routes', /^config check: 1 error\(s\), 0 warning\(s\)$/],
  ['config check --accounts', (f) => ['config', 'check', '--routes', 'good-routes.yml', '--accounts', f], 'accounts', /^config check: 1 error\(s\), 0 warning\(s\)$/],
  ['config publish --routes', (f) => ['config', 'publish', '--routes', f, '--ssm', '/findings-router/test/routes'], 'routes', /^config publish: 1 error\(s\): nothing published to \/findings-router\/test\/routes$/],
  ['siem setup --routes', (f) => ['siem', 'setup', '--target', 'siem', '--routes', f], 'routes'],
  ['members status --accounts', (f) => ['members', 'status', '--region', 'us-east-1', '--accounts', f], 'accounts'],
  ['members diff --accounts', (f) => ['members', 'diff', '--region', 'us-east-1', '--accounts', f], 'accounts'],
];

const CASES = COMMANDS.flatMap(([name, args, kind, summary]) => [
  { name: `${name}: a file that does not exist`, args: args('nope.yml'), line: LINES.missing('nope\\.yml', kind), summary },
  { name: `${name}: bad YAML`, args: args('bad-yaml.yml'), line: LINES.badYaml, summary },
  { name: `${name}: a schema error`, args: args(kind === 'routes' ? 'bad-routes.yml' : 'bad-accounts.yml'), line: kind === 'routes' ? LINES.badRoutes : LINES.badAccounts, summary },
]);

describe('Config: every command reports a bad routes or accounts file the same way', () => {
  it.concurrent.each(CASES)('$name', async ({ args, line, summary }) => {
    // Prepare
    const cwd = workspace();
    // Act
    const { code, stderr } = await run(args, cwd);
    // Assess: the problem's one line (a read failure of `config publish` stops before its summary), exit 1
    const lines = stderr.trimEnd().split('\n');
    expect({ code, first: lines[0] }).toEqual({ code: 1, first: expect.stringMatching(line) });
    const rest = lines.slice(1);
    if (summary === undefined || (args[0] === 'config' && args[1] === 'publish' && args.includes('nope.yml'))) expect(rest).toEqual([]);
    else expect(rest).toEqual([expect.stringMatching(summary)]);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
