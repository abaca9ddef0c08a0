// Bundles each Lambda function with esbuild: functions/<fn>.ts -> dist/<fn>/index.mjs (+ lazily loaded
// chunk-*.mjs, .map, meta.json), validates the routing/account config with the real (YAML) loader and writes it
// next to each bundle as JSON (the Lambdas parse JSON and never load the YAML parser), and enforces
// scripts/bundle-budget.json on the code a cold start loads (index.mjs plus its static imports).
// `osls package`/`osls deploy` run the same buildBundles() through deploy/build-plugin.mjs.
// Usage: npm run build [-- --only <fn>] [-- --outdir <dir> (default dist; tests build elsewhere)]
//          [-- --allow-example-config] [-- --no-budget (local only: skips the size budget)]
//   Env: ROUTES_FILE (required: no silent default), ACCOUNTS_FILE (optional: none bundles an empty directory).
//   The examples are bundled only when named (ROUTES_FILE=routes.example.yml) or with --allow-example-config.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../shared/errors.ts';
import { coldStartBytes } from './cold-start-bytes.ts';
import { describeJudgement, judgeBundle, readBundleBudget } from './bundle-budget.mjs';
import { ACCOUNTS_CONFIG } from '../shared/accounts/directory.ts';
import { parseConfig } from '../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../shared/config/routes-config.ts';
import { parseYamlSource } from '../shared/config/yaml-source.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FUNCTIONS = ['enrich', 'route', 'deliver', 'watch-members', 'actions'];
const EXAMPLE_ROUTES = 'routes.example.yml';
const EXAMPLE_ACCOUNTS = 'accounts.example.yml';
/** Bundled when no accounts file is given: every account is then named by Organizations/GuardDuty (or unknown). */
const NO_ACCOUNTS = { accounts: {} };
/** Local only (CI keeps the check): lets a build over scripts/bundle-budget.json finish. */
const SKIP_BUDGET_ENV = 'FINDINGS_ROUTER_SKIP_BUNDLE_BUDGET';

/** A refusal or failure of the build, one line a user can act on. */
class BuildError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'BuildError';
  }
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const shown = (file) => (isAbsolute(file) && !relative(root, file).startsWith('..') ? relative(root, file) : file);

/**
 * Which routes and accounts files to bundle. `routes` is required (the examples only when named
 * or with allowExampleConfig); `accounts` is optional. Paths are relative to the repository root.
 */
const chooseConfigFiles = ({ routes, accounts, allowExampleConfig = false, routesHint }) => {
  const routesFile = routes || (allowExampleConfig ? EXAMPLE_ROUTES : undefined);
  if (!routesFile) {
    throw new BuildError(`no routes file: ${routesHint}`);
  }
  const accountsFile = accounts || (allowExampleConfig && !routes ? EXAMPLE_ACCOUNTS : undefined);
  return { routesFile: resolve(root, routesFile), accountsFile: accountsFile ? resolve(root, accountsFile) : undefined };
};

/** Validates each file with the loader the CLI uses (errors as file:line:column) and keeps its plain value as JSON. */
const readConfig = (file, label, check) => {
  if (!existsSync(file)) throw new BuildError(`${label} file not found: ${shown(file)}`);
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  let checked;
  try {
    checked = check(text, file);
  } catch (error) {
    if (error instanceof ConfigError) throw new BuildError(`invalid ${label} file:\n${error.message}`, { cause: error });
    throw error;
  }
  return { file, shown: shown(file), sha256: sha256(bytes), json: `${JSON.stringify(parseYamlSource(text, file).value ?? {})}\n`, checked };
};

/** The routes (validated, with its compiled targets) and accounts documents a build bundles. */
const loadConfigFiles = ({ routesFile, accountsFile }) => {
  const routes = readConfig(routesFile, 'routes', (text, file) => parseConfig(ROUTES_CONFIG, text, file));
  const accounts = accountsFile
    ? readConfig(accountsFile, 'accounts', (text, file) => parseConfig(ACCOUNTS_CONFIG, text, file))
    : { file: undefined, shown: '(none: account names from Organizations/GuardDuty)', sha256: sha256(`${JSON.stringify(NO_ACCOUNTS)}\n`), json: `${JSON.stringify(NO_ACCOUNTS)}\n` };
  return { routes, accounts };
};

/** The lines both `npm run build` and `osls package` print: which files, which hashes. */
const describeConfig = ({ routes, accounts }) => [`routes   ${routes.shown} sha256:${routes.sha256}`, `accounts ${accounts.shown} sha256:${accounts.sha256}`];

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

/**
 * Packages whose code has no side effects at load but that do not say so in their package.json
 * (`"sideEffects": false`): esbuild then keeps the whole package once a module that imports it is
 * in the bundle, even when nothing of it is used. ipaddr.js (CommonJS, 12.8 KB minified) reached
 * route through the target specs' files (issue 17).
 */
const PURE_PACKAGES = new Set(['ipaddr.js']);
const purePackages = {
  name: 'pure-packages',
  setup(b) {
    b.onResolve({ filter: /^[a-z@][^:]*$/ }, async (args) => {
      if (!PURE_PACKAGES.has(args.path) || args.pluginData?.purePackages) return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { purePackages: true } });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { ...resolved, sideEffects: false };
    });
  },
};

/**
 * Bundles `only` (default: every function) into `outDir` with the chosen config files, after
 * validating them. Throws BuildError (one line) for a refusal, an invalid file or a failed bundle;
 * `checkBudget: false` reports sizes over budget without failing (local use only).
 */
const buildBundles = async ({ routesFile, accountsFile, outDir = join(root, 'dist'), only, checkBudget = true, log = console.log }) => {
  if (only !== undefined && !FUNCTIONS.includes(only)) throw new BuildError(`--only expects one of ${FUNCTIONS.join(', ')}, got "${only}"`);
  const config = loadConfigFiles({ routesFile, accountsFile });
  for (const line of describeConfig(config)) log(line);
  const budget = readBundleBudget();
  const buildOne = async (fn) => {
    const entry = join(root, 'functions', `${fn}.ts`);
    if (!existsSync(entry)) throw new BuildError(`entry point not found: ${entry}`);
    const outdir = join(outDir, fn);
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
      plugins: [requireBuiltins, purePackages],
      // The AWS SDK is bundled on purpose (pinned versions, no dependency on the runtime's copy).
      // CJS dependencies inside an ESM bundle may still call require() for node builtins.
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    }).catch((cause) => {
      throw new BuildError(`esbuild failed for ${fn}`, { cause });
    });
    writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
    writeFileSync(join(outdir, 'routes.json'), config.routes.json);
    writeFileSync(join(outdir, 'accounts.json'), config.accounts.json);
    return { fn, size: coldStartBytes(result.metafile, join(outdir, 'index.mjs'), root), ms: Math.round(performance.now() - started) };
  };
  let overBudget = false;
  for (const { fn, size, ms } of await Promise.all((only ? [only] : FUNCTIONS).map(buildOne))) {
    const judgement = judgeBundle(budget, fn, size);
    const status = describeJudgement(judgement);
    if (judgement.overLimit) overBudget = true;
    log(`${fn.padEnd(8)} ${shown(join(outDir, fn))}/index.mjs + static chunks ${(size / 1024).toFixed(1)} KiB (${size} B, ${status}) ${ms} ms`);
  }
  if (overBudget && checkBudget) {
    throw new BuildError(`bundle size budget exceeded (scripts/bundle-budget.json); inspect dist/<fn>/meta.json, e.g. with esbuild --analyze`);
  }
  if (overBudget) log(`bundle size budget exceeded, not enforced (--no-budget / ${SKIP_BUDGET_ENV}=1: local use only)`);
  return config;
};

const optionValue = (args, name) => {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  if (!args[index + 1] || args[index + 1].startsWith('--')) throw new BuildError(`${name} expects a value`);
  return args[index + 1];
};

/** `npm run build`: the environment and flags in, the same lines out, exit 1 with one line on a refusal. */
const main = async (args) => {
  const known = new Set(['--only', '--outdir', '--allow-example-config', '--no-budget']);
  const unknown = args.find((arg, i) => arg.startsWith('--') && !known.has(arg) && !['--only', '--outdir'].includes(args[i - 1] ?? ''));
  if (unknown) throw new BuildError(`unknown option ${unknown} (known: ${[...known].join(', ')})`);
  const outdir = optionValue(args, '--outdir');
  const files = chooseConfigFiles({
    routes: process.env.ROUTES_FILE,
    accounts: process.env.ACCOUNTS_FILE,
    allowExampleConfig: args.includes('--allow-example-config'),
    routesHint: `set ROUTES_FILE=<routes.yml> (the examples: ROUTES_FILE=${EXAMPLE_ROUTES} or --allow-example-config)`,
  });
  await buildBundles({
    ...files,
    outDir: outdir ? resolve(outdir) : undefined,
    only: optionValue(args, '--only'),
    checkBudget: !args.includes('--no-budget') && process.env[SKIP_BUDGET_ENV] !== '1',
  });
};

if (import.meta.main) {
  main(process.argv.slice(2)).catch((error) => {
    if (!(error instanceof BuildError)) throw error;
    console.error(`build: ${error.message}`);
    process.exitCode = 1;
  });
}

export { BuildError, FUNCTIONS, SKIP_BUDGET_ENV, buildBundles, chooseConfigFiles, describeConfig, loadConfigFiles };
