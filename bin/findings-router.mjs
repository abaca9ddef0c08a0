#!/usr/bin/env node
// The CLI is TypeScript that Node 24 runs as is; an older Node would fail on the `.ts` import
// with ERR_UNKNOWN_FILE_EXTENSION. Say so in one line before loading anything.
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
const SEMI_SPACE_FLAG = '--max-semi-space-size=8';
const semiSpaceSet = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) =>
  /^--max[-_]semi[-_]space[-_]size\b/.test(arg),
);
if (!semiSpaceSet && typeof process.execve === 'function' && process.platform !== 'win32') {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, SEMI_SPACE_FLAG, ...process.argv.slice(1)]);
}
// Runs the TypeScript CLI directly: Node 24 strips types natively (no build step).
await import('../shared/cli/main.ts');
