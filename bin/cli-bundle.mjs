// The CLI runs as one esbuild bundle of the project's TypeScript (dependencies stay in
// node_modules and load as usual) instead of Node stripping the types of ~180 files at every
// start. Measured (issue 17, docs/performance-history.md): an empty replay 0.45 s CPU and 87 MB
// RSS against 0.87 s and 117 MB from source, because the process never loads the type stripper.
// The bundle is built on first use into node_modules/.cache/ (never committed: it is made from
// the checkout), and rebuilt when a file it was built from changes size or modification time.
// Whatever goes wrong here (no esbuild, a read-only node_modules, a syntax error being edited),
// the CLI runs from source, where Node reports the real error at its real place.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(ROOT, 'shared/cli/main.ts');
/** Bumped when the build options below change, so a bundle built with other options is not reused. */
const FORMAT = 1;
/** Folders of earlier builds are removed once this old (a long replay may still lazily load chunks of its own). */
const KEEP_OLD_BUILDS_MS = 60 * 60 * 1000;

const cacheDir = () => process.env.FINDINGS_ROUTER_CLI_CACHE || join(ROOT, 'node_modules/.cache/findings-router-cli');

/** [path relative to the root, size, mtimeMs] of a file, or undefined when it is gone. */
const stamp = (file) => {
  try {
    const s = statSync(join(ROOT, file));
    return [file, s.size, s.mtimeMs];
  } catch {
    return undefined;
  }
};

/** The bundle's entry when the last build is there and every file it read is unchanged. */
const freshBundle = (cache) => {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(cache, 'current.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest?.format !== FORMAT || manifest.root !== ROOT || !Array.isArray(manifest.inputs) || typeof manifest.dir !== 'string') return undefined;
  for (const [file, size, mtimeMs] of manifest.inputs) {
    const now = stamp(file);
    if (now === undefined || now[1] !== size || now[2] !== mtimeMs) return undefined;
  }
  const entry = join(cache, manifest.dir, 'main.mjs');
  return existsSync(entry) ? entry : undefined;
};

/**
 * esbuild leaves `import.meta` alone, so in a bundle every module would see the bundle's URL:
 * each of our files gets its own URL, path and folder written in instead.
 */
const ownImportMeta = {
  name: 'own-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.')) return undefined;
      const contents = source
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
};

/** Removes the folders of builds other than `keep` that are older than KEEP_OLD_BUILDS_MS (best effort). */
const removeOldBuilds = (cache, keep) => {
  for (const name of readdirSync(cache)) {
    if (!name.startsWith('b-') || name === keep) continue;
    try {
      if (Date.now() - statSync(join(cache, name)).mtimeMs > KEEP_OLD_BUILDS_MS) rmSync(join(cache, name), { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
};

/**
 * Builds the bundle into a folder of its own and then names it current (an atomic rename), so
 * processes starting meanwhile use the previous build or build their own, never a half-written one.
 */
const buildBundle = async (cache) => {
  const { build } = await import('esbuild');
  const started = Date.now();
  const dir = `b-${started.toString(36)}-${process.pid}`;
  const outdir = join(cache, dir);
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: { main: ENTRY },
    absWorkingDir: ROOT,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Commands load on use (main.ts's `await import()`s): each lands in a chunk read only when run.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [ownImportMeta],
  });
  const inputs = Object.keys(result.metafile.inputs).map((file) => stamp(relative(ROOT, join(ROOT, file))));
  // A file edited while esbuild read it may be in the bundle in its old form: use the bundle
  // this once, but do not name it current, so the next start builds again.
  if (inputs.some((s) => s === undefined || s[2] >= started)) return join(outdir, 'main.mjs');
  const manifest = { format: FORMAT, root: ROOT, dir, inputs };
  const temporary = join(cache, `current.json.${process.pid}`);
  writeFileSync(temporary, JSON.stringify(manifest));
  renameSync(temporary, join(cache, 'current.json'));
  removeOldBuilds(cache, dir);
  return join(outdir, 'main.mjs');
};

/**
 * The module to import: the bundle (built now when missing or stale), or the TypeScript entry
 * when FINDINGS_ROUTER_FROM_SOURCE=1 or the bundle cannot be had (`fallback` says why).
 */
const resolveCliEntry = async () => {
  if (process.env.FINDINGS_ROUTER_FROM_SOURCE === '1') return { entry: ENTRY, fallback: 'FINDINGS_ROUTER_FROM_SOURCE=1' };
  const cache = cacheDir();
  try {
    return { entry: freshBundle(cache) ?? (await buildBundle(cache)) };
  } catch (error) {
    return { entry: ENTRY, fallback: String(error?.message ?? error).split('\n')[0] };
  }
};

const cliEntry = async () => (await resolveCliEntry()).entry;

// `node bin/cli-bundle.mjs` (npm test runs it first, so parallel test workers find the bundle
// built instead of each building their own): builds when stale and says which entry the CLI runs.
if (import.meta.main) {
  const { entry, fallback } = await resolveCliEntry();
  process.stdout.write(fallback ? `CLI runs from source (${fallback}): ${relative(ROOT, entry)}\n` : `CLI bundle: ${relative(ROOT, entry)}\n`);
}

export { cliEntry };
