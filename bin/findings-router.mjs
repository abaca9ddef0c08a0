#!/usr/bin/env node
// The CLI is TypeScript that Node 24 bundles or runs as is; an older Node would fail on the
// `.ts` import with ERR_UNKNOWN_FILE_EXTENSION. Say so in one line before loading anything.
const MIN_NODE_MAJOR = 24;
if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
  process.stderr.write(
    `findings-router: needs Node.js ${MIN_NODE_MAJOR} or newer, this is ${process.version}; run it as npx findings-router or npm run findings-router, which use the Node ${MIN_NODE_MAJOR} pinned in node_modules\n`,
  );
  process.exit(1);
}
// V8 grows the young generation as long as objects keep surviving it, up to 2 × 64 MB on a
// machine with plenty of memory: a replay of 100,000 findings then peaks at ~300 MB RSS though
// its live heap stays under 50 MB. A bounded young generation keeps it near 160 MB at no
// measurable cost in speed. The size must be set before V8 starts, so the CLI re-executes itself
// once with it (execve: same process id, stdio and exit code; ~70 ms) unless it is set already.
// The old generation likewise: V8 lets it grow to up to 4 × the live heap between full
// collections when they are cheap, so a 200,000-finding replay with a ~60 MB live heap peaked
// at 285 MB RSS; growing by half at most keeps it under 200 MB for ~2% more CPU (issue 17,
// docs/performance-history.md). Both are V8 flags that Node 24 has.
const SEMI_SPACE_FLAG = '--max-semi-space-size=8';
const HEAP_GROWING_FLAG = '--heap-growing-percent=50';
const nodeOptions = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const semiSpaceSet = nodeOptions.some((arg) => /^--max[-_]semi[-_]space[-_]size\b/.test(arg));
const heapGrowingSet = nodeOptions.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
if (!semiSpaceSet && typeof process.execve === 'function' && process.platform !== 'win32') {
  const flags = [SEMI_SPACE_FLAG, ...(heapGrowingSet ? [] : [HEAP_GROWING_FLAG])];
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...flags, ...process.argv.slice(1)]);
}
// The CLI as a bundle built from the checkout on first use (cli-bundle.mjs says why and how);
// with --debug, stack traces name the TypeScript files through the bundle's source maps.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const { cliEntry } = await import('./cli-bundle.mjs');
await import(await cliEntry());
