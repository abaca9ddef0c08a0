// Bundles each Lambda function with esbuild: functions/<fn>.ts -> dist/<fn>/index.mjs (+ lazily loaded
// chunk-*.mjs, .map, meta.json), validates the routing/account config with the real (YAML) loader and writes it
// next to each bundle as JSON (the Lambdas parse JSON and never load the YAML parser), and enforces
// scripts/bundle-budget.json on the code a cold start loads (index.mjs plus its static imports).
// Usage: npm run build [-- --only <fn>] [-- --outdir <dir> (default dist; tests build elsewhere)]   Env: ROUTES_FILE, ACCOUNTS_FILE (default *.example.yml at repo root)
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../shared/errors.ts';
import { coldStartBytes } from './cold-start-bytes.ts';
import { loadAccounts } from '../shared/accounts.ts';
import { parseRoutesConfig } from '../shared/config/load.ts';
import { parseYamlSource } from '../shared/config/yaml-source.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FUNCTIONS = ['enrich', 'route', 'deliver', 'watch-members'];
const fail = (msg) => {
  console.error(`build: ${msg}`);
  process.exit(1);
};

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
if (onlyIdx >= 0 && !FUNCTIONS.includes(only ?? '')) fail(`--only expects one of ${FUNCTIONS.join(', ')}, got "${only ?? ''}"`);
const targets = only ? [only] : FUNCTIONS;
const outIdx = args.indexOf('--outdir');
if (outIdx >= 0 && !args[outIdx + 1]) fail('--outdir expects a directory');
const outRoot = outIdx >= 0 ? resolve(args[outIdx + 1]) : join(root, 'dist');

const configs = [
  ['routes.json', process.env.ROUTES_FILE || 'routes.example.yml', 'ROUTES_FILE', parseRoutesConfig],
  ['accounts.json', process.env.ACCOUNTS_FILE || 'accounts.example.yml', 'ACCOUNTS_FILE', loadAccounts],
].map(([dest, src, envName, check]) => [dest, resolve(root, src), envName, check]);
// Validate each file with the loader the CLI uses (errors as file:line:column), then keep its plain value as JSON.
const configJson = new Map();
for (const [dest, src, envName, check] of configs) {
  if (!existsSync(src)) fail(`config file not found: ${src} (set ${envName} to override)`);
  const text = readFileSync(src, 'utf8');
  try {
    check(text, src);
  } catch (error) {
    if (error instanceof ConfigError) fail(`invalid ${envName} file:\n${error.message}`);
    throw error;
  }
  configJson.set(dest, `${JSON.stringify(parseYamlSource(text, src).value ?? {})}\n`);
}
const budgetFile = join(root, 'scripts', 'bundle-budget.json');
const budget = existsSync(budgetFile) ? JSON.parse(readFileSync(budgetFile, 'utf8')) : {};

/**
 * Node builtins are loaded with require(), not ESM import. In Node 24 an ESM import of a builtin
 * whose exports include lazy getters (node:http, node:https, node:crypto, …) makes the ESM facade
 * read every export at link time: `import … from 'node:http'` loads undici (fetch, WebSocket, …) and
 * `'node:crypto'` loads webcrypto, none of which the Lambdas use. require() returns the module
 * object and leaves the getters alone. Every builtin import becomes a tiny CommonJS module
 * `module.exports = require('node:x')` (esbuild's interop keeps named and default imports working;
 * `require` is the createRequire of the banner). test/integration/bundles.test.ts checks the bundles.
 */
const builtins = new Set(builtinModules.flatMap((name) => (name.startsWith('node:') ? [name] : [name, `node:${name}`])));
const requireBuiltins = {
  name: 'require-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!builtins.has(args.path)) return undefined;
      const id = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      // The require() inside the shim stays a runtime require of the builtin itself.
      if (args.namespace === 'node-builtin') return { path: id, external: true };
      return { path: id, namespace: 'node-builtin', sideEffects: false };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

const buildOne = async (fn) => {
  const entry = join(root, 'functions', `${fn}.ts`);
  if (!existsSync(entry)) fail(`entry point not found: ${entry}`);
  const outdir = join(outRoot, fn);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const started = performance.now();
  const result = await build({
    entryPoints: { index: entry },
    absWorkingDir: root,
    outdir,
    outExtension: { '.js': '.mjs' },
    // Rarely used targets and clients are `await import()`ed: they land in chunks loaded on first use.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    // ES module builds of dependencies (the AWS SDK ships both): they tree-shake, the CJS builds do not.
    mainFields: ['module', 'main'],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [requireBuiltins],
    // The AWS SDK is bundled on purpose (pinned versions, no dependency on the runtime's copy).
    // CJS dependencies inside an ESM bundle may still call require() for node builtins.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  }).catch(() => fail(`esbuild failed for ${fn}`));
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  for (const [dest] of configs) writeFileSync(join(outdir, dest), configJson.get(dest));
  return { fn, size: coldStartBytes(result.metafile, join(outdir, 'index.mjs'), root), ms: Math.round(performance.now() - started) };
};

let overBudget = false;
for (const { fn, size, ms } of await Promise.all(targets.map(buildOne))) {
  const limit = budget[fn];
  const status = limit === undefined ? 'no budget' : size > limit ? `OVER budget ${limit}` : `budget ${limit}`;
  if (limit !== undefined && size > limit) overBudget = true;
  console.log(`${fn.padEnd(8)} ${outRoot === join(root, 'dist') ? 'dist' : outRoot}/${fn}/index.mjs + static chunks ${(size / 1024).toFixed(1)} KiB (${size} B, ${status}) ${ms} ms`);
}
if (overBudget) fail('bundle size budget exceeded (scripts/bundle-budget.json); inspect dist/<fn>/meta.json, e.g. with esbuild --analyze');
