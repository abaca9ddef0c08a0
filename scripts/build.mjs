// Bundles each Lambda function with esbuild: functions/<fn>.ts -> dist/<fn>/index.mjs (+ .map, meta.json),
// copies the routing/account config next to each bundle and enforces scripts/bundle-budget.json.
// Usage: npm run build [-- --only <fn>]   Env: ROUTES_FILE, ACCOUNTS_FILE (default *.example.yml at repo root)
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const configs = [
  ['routes.yml', process.env.ROUTES_FILE || 'routes.example.yml', 'ROUTES_FILE'],
  ['accounts.yml', process.env.ACCOUNTS_FILE || 'accounts.example.yml', 'ACCOUNTS_FILE'],
].map(([dest, src, envName]) => [dest, resolve(root, src), envName]);
for (const [, src, envName] of configs) {
  if (!existsSync(src)) fail(`config file not found: ${src} (set ${envName} to override)`);
}
const budgetFile = join(root, 'scripts', 'bundle-budget.json');
const budget = existsSync(budgetFile) ? JSON.parse(readFileSync(budgetFile, 'utf8')) : {};

const buildOne = async (fn) => {
  const entry = join(root, 'functions', `${fn}.ts`);
  if (!existsSync(entry)) fail(`entry point not found: ${entry}`);
  const outdir = join(root, 'dist', fn);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const started = performance.now();
  const result = await build({
    entryPoints: [entry],
    outfile: join(outdir, 'index.mjs'),
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
    // The AWS SDK is bundled on purpose (pinned versions, no dependency on the runtime's copy).
    // CJS dependencies inside an ESM bundle may still call require() for node builtins.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  }).catch(() => fail(`esbuild failed for ${fn}`));
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  for (const [dest, src] of configs) copyFileSync(src, join(outdir, dest));
  return { fn, size: statSync(join(outdir, 'index.mjs')).size, ms: Math.round(performance.now() - started) };
};

let overBudget = false;
for (const { fn, size, ms } of await Promise.all(targets.map(buildOne))) {
  const limit = budget[fn];
  const status = limit === undefined ? 'no budget' : size > limit ? `OVER budget ${limit}` : `budget ${limit}`;
  if (limit !== undefined && size > limit) overBudget = true;
  console.log(`${fn.padEnd(8)} dist/${fn}/index.mjs ${(size / 1024).toFixed(1)} KiB (${size} B, ${status}) ${ms} ms`);
}
if (overBudget) fail('bundle size budget exceeded (scripts/bundle-budget.json); inspect dist/<fn>/meta.json, e.g. with esbuild --analyze');
