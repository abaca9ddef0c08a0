import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCOUNTS_CONFIG } from '../../../shared/accounts/directory.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { runBin } from '../../helpers/run-bin.ts';

/**
 * Issue 14 item 9: a YAML-level failure (an alias bomb, an alias before its anchor, duplicate
 * keys, bad indentation) is one `file:line:column: message` line like every other config
 * error, from `config check` as an operator runs it: the real bin, exit 1, no stack trace.
 */
const VALID_REST = 'targets:\n  chat: { type: console }\ndefault:\n  targets: [chat]\n';

const BOMB = [
  'lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
  'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
  'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
  '',
].join('\n');

const cases: [string, string, string][] = [
  ['an alias bomb', `${BOMB}${VALID_REST}`, ':4:8: alias *c expands into too many nodes'],
  ['an alias before its anchor', 'targets:\n  chat: { type: console }\ndefault:\n  targets: [*nope]\n', ':4:13: Unresolved alias (the anchor must be set before the alias): nope'],
  ['a duplicate key', `${VALID_REST}default:\n  targets: [chat]\n`, ':5:1: Map keys must be unique'],
  ['bad indentation', 'targets:\n  chat: { type: console }\n   x: 1\ndefault:\n  targets: [chat]\n', ':3:1: All mapping items must start at the same column'],
];

describe('Config: YAML-level failures from config check', () => {
  for (const [name, text, expected] of cases) {
    it(`reports ${name} as one file:line:column line, exit 1, no stack`, async () => {
      // Prepare
      const file = join(mkdtempSync(join(tmpdir(), 'yaml-errors-')), 'routes.yml');
      writeFileSync(file, text);
      // Act
      const run = await runCli(['config', 'check', '--routes', file]);
      // Assess
      const lines = run.stderr.trimEnd().split('\n');
      expect(run.code).toBe(1);
      expect(lines).toEqual([expect.stringContaining(`${file}${expected}`), 'config check: 1 error(s), 0 warning(s)']);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    });
  }

  it('reports an alias bomb in the accounts file the same way', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'yaml-errors-'));
    writeFileSync(join(dir, 'routes.yml'), VALID_REST);
    writeFileSync(join(dir, 'accounts.yml'), `${BOMB}accounts: {}\n`);
    // Act
    const run = await runCli(['config', 'check', '--routes', join(dir, 'routes.yml'), '--accounts', join(dir, 'accounts.yml')]);
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(`${join(dir, 'accounts.yml')}:4:8: alias *c`), 'config check: 1 error(s), 0 warning(s)']);
  });

  it('throws a located ConfigError to in-process callers, keeping the parser error as cause', () => {
    // Act
    const error = (() => {
      try {
        parseConfig(ACCOUNTS_CONFIG, `${BOMB}accounts: {}\n`, 'accounts.yml');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([{ file: 'accounts.yml', line: 4, column: 8, message: expect.stringContaining('resource exhaustion') }]);
    expect((error as ConfigError).cause).toBeInstanceOf(ReferenceError);
  });

  it('still expands ordinary aliases', () => {
    // Act
    const accounts = parseConfig(ACCOUNTS_CONFIG, 'accounts:\n  "111111111111": { tags: &tags { env: prod } }\n  "222222222222": { tags: *tags }\n', 'accounts.yml');
    // Assess
    expect(accounts.get('222222222222')?.tags).toEqual({ env: 'prod' });
  });
});

const runCli = (args: string[]) => runBin(args, { env: { PATH: process.env.PATH ?? '', HOME: tmpdir() } });
