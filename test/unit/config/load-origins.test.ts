import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACCOUNTS_CONFIG } from '../../../shared/accounts/directory.ts';
import { loadConfig } from '../../../shared/config/load.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { encodeRoutesDocument, routesSha256, decodeRoutesDocument } from '../../../shared/config/ssm-document.ts';
import { ConfigError } from '../../../shared/errors.ts';

/** loadConfig from each origin: a file, text in hand, the Lambda's bundled copy, an SSM document. */
const ROUTES_YAML = 'targets:\n  chat: { type: console }\ndefault:\n  targets: [chat]\n';
const SHADOWED_YAML = `${ROUTES_YAML}routes:\n  - name: all\n    targets: [chat]\n  - name: high\n    match: { severity: { min: 7 } }\n    targets: [chat]\n`;

const problemsOf = async (load: Promise<unknown>): Promise<string[]> => {
  try {
    await load;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
};

const saved = { ...process.env };
afterEach(() => {
  for (const name of ['ROUTES_FILE', 'ACCOUNTS_FILE', 'LAMBDA_TASK_ROOT']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('Config: loadConfig', () => {
  it('loads the bundled JSON next to the function (LAMBDA_TASK_ROOT) and names a bad one with its JSON path', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 'bundled-'));
    process.env.LAMBDA_TASK_ROOT = root;
    writeFileSync(join(root, 'routes.json'), JSON.stringify({ targets: { chat: { type: 'console' } }, default: { targets: ['chat'] } }));
    writeFileSync(join(root, 'accounts.json'), JSON.stringify({ accounts: { '111111111111': { name: 'payments' }, '12345': {} } }));
    // Act
    const routes = await loadConfig(ROUTES_CONFIG, { bundled: true });
    const problems = await problemsOf(loadConfig(ACCOUNTS_CONFIG, { bundled: true }));
    // Assess
    expect(routes.file).toBe(join(root, 'routes.json'));
    expect([...routes.targets.keys()]).toEqual(['chat']);
    expect(problems).toEqual([`${join(root, 'accounts.json')}:1:1: accounts.12345: key '12345': expected a 12-digit account id (quote it in YAML)`]);
  });

  it('follows ROUTES_FILE and ACCOUNTS_FILE to another file, YAML included', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'env-files-'));
    process.env.ROUTES_FILE = join(dir, 'prod.yml');
    process.env.ACCOUNTS_FILE = join(dir, 'accounts.yml');
    writeFileSync(process.env.ROUTES_FILE, ROUTES_YAML);
    writeFileSync(process.env.ACCOUNTS_FILE, 'accounts:\n  "111111111111": { name: payments }\n');
    // Act
    const routes = await loadConfig(ROUTES_CONFIG, { bundled: true });
    const accounts = await loadConfig(ACCOUNTS_CONFIG, { bundled: true });
    // Assess
    expect(routes.file).toBe(process.env.ROUTES_FILE);
    expect(accounts.get('111111111111')?.name).toBe('payments');
  });

  it('reports a folder, a missing file and a file over the size bound as one located line each', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'unreadable-'));
    const huge = join(dir, 'huge.yml');
    writeFileSync(huge, Buffer.alloc(8 * 1024 * 1024 + 1, 0x20));
    // Act
    const folder = await problemsOf(loadConfig(ROUTES_CONFIG, { file: dir }));
    const missing = await problemsOf(loadConfig(ACCOUNTS_CONFIG, { file: join(dir, 'nope.yml') }));
    const large = await problemsOf(loadConfig(ROUTES_CONFIG, { file: huge }));
    // Assess
    expect(folder).toEqual([`${dir}:1:1: cannot read routes file (EISDIR)`]);
    expect(missing).toEqual([`${join(dir, 'nope.yml')}:1:1: cannot read accounts file (ENOENT)`]);
    expect(large).toEqual([`${huge}:1:1: routes file is larger than 8 MiB: not a routes file`]);
  });

  it('gives text in hand the same problems as parseConfig', async () => {
    // Prepare
    const text = 'targets:\n  chat: { type: telegraph }\ndefault:\n  targets: [chat, pager]\n';
    const sync = (() => {
      try {
        parseConfig(ROUTES_CONFIG, text, 'r.yml');
      } catch (error) {
        return (error as Error).message.split('\n');
      }
      return [];
    })();
    // Act
    const loaded = await problemsOf(loadConfig(ROUTES_CONFIG, { text, file: 'r.yml' }));
    // Assess
    expect(loaded).toEqual(sync);
    expect(loaded[0]).toMatch(/^r\.yml:2:17: target 'chat': unknown type 'telegraph'/);
  });

  it('refuses an SSM document that config check would refuse (a shadowed route), naming ssm:<path>:line:column', async () => {
    // Prepare
    const document = (yaml: string) => decodeRoutesDocument(encodeRoutesDocument({ sha256: routesSha256(yaml), publishedAt: '2026-12-05T00:00:00Z', source: 'routes.prod.yml', yaml }), 'ssm:/fr/prod/routes');
    // Act
    const good = await loadConfig(ROUTES_CONFIG, { ssm: document(ROUTES_YAML), path: '/fr/prod/routes' });
    const problems = await problemsOf(loadConfig(ROUTES_CONFIG, { ssm: document(SHADOWED_YAML), path: '/fr/prod/routes' }));
    // The same text from a file is not held to the stricter checks (the build and replay load it)
    const fromText = await loadConfig(ROUTES_CONFIG, { text: SHADOWED_YAML, file: 'r.yml' });
    // Assess
    expect(good.file).toBe('ssm:/fr/prod/routes');
    expect(problems).toEqual(["ssm:/fr/prod/routes:8:11: route 'high' can never match: route 'all' before it (without continue) matches everything it would"]);
    expect(fromText.routes.map((r) => r.name)).toEqual(['all', 'high']);
  });
});
