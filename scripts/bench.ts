/**
 * `npm run bench [-- --json] [-- --small]`: the router's costs as ratios against baselines
 * measured in the same run, so the figures hold on a noisy machine.
 *   1. CPU per finding: validate + enrich + route + render every matched target, ÷ JSON.parse.
 *   2. Delivery throughput: replay with real HTTP to loopback receivers ÷ a bare fetch loop.
 *   3. Cold start: each Lambda bundle's size and import time over a bare `node -e 0`.
 *   4. Memory at scale: replay of a generated NDJSON file: peak RSS and findings per second.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, createWriteStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { loadAccounts, staticAccountDirectory } from '../shared/accounts.ts';
import { parseRoutesConfig } from '../shared/config/load.ts';
import { ingest, route } from '../shared/pipeline.ts';
import { memoryFindingState } from '../shared/state/finding-state.ts';
import { createTargets } from '../shared/targets/create.ts';
import { createHttpClient } from '../shared/targets/http.ts';
import { memoryLedger } from '../shared/targets/ledger.ts';
import { localSecretResolver } from '../shared/secrets.ts';
import { coldStartBytes, type Metafile } from './cold-start-bytes.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, small: { type: 'boolean', default: false } } });
const small = values.small;
const log = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timeIt = (fn: () => void, minMs: number): number => {
  let rounds = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    rounds++;
  }
  return (performance.now() - start) / rounds;
};
const timeAsync = async (fn: () => Promise<void>, minMs: number): Promise<number> => {
  let rounds = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    await fn();
    rounds++;
  }
  return (performance.now() - start) / rounds;
};

// ── 1. CPU per finding ───────────────────────────────────────────────────────
const samplesDir = join(ROOT, 'test/events/samples');
const texts = readdirSync(samplesDir).filter((f) => f.endsWith('.json')).map((f) => readFileSync(join(samplesDir, f), 'utf8'));
const accounts = staticAccountDirectory(loadAccounts(readFileSync(join(ROOT, 'accounts.example.yml'), 'utf8'), 'accounts.example.yml'));
const config = parseRoutesConfig(readFileSync(join(ROOT, 'routes.example.yml'), 'utf8'), 'routes.example.yml');
const context = { secrets: localSecretResolver(), http: createHttpClient(), stdout: process.stderr, ledger: memoryLedger() };
const targets = createTargets(config, context);

const parsed = texts.map((t) => JSON.parse(t));
const pipelineOnce = async () => {
  const state = memoryFindingState();
  for (const event of parsed) {
    const ingested = await ingest(event, accounts);
    if (ingested.kind !== 'enriched') throw new Error('bench corpus must be valid');
    const routed = await route(ingested.enriched, { config, state });
    for (const job of routed.jobs) targets.get(job.target)!.render(job.enriched);
  }
};
const budgetMs = small ? 300 : 3_000;
await pipelineOnce(); // warm up
const parseMs = [];
const pipelineMs = [];
for (let i = 0; i < (small ? 3 : 7); i++) {
  parseMs.push(timeIt(() => { for (const t of texts) JSON.parse(t); }, budgetMs / 7));
  pipelineMs.push(await timeAsync(pipelineOnce, budgetMs / 7));
}
const cpuRatio = median(pipelineMs) / median(parseMs);
log(`1. CPU per finding: pipeline ${(median(pipelineMs) * 1000 / texts.length).toFixed(1)} µs vs JSON.parse ${(median(parseMs) * 1000 / texts.length).toFixed(1)} µs → ratio ${cpuRatio.toFixed(2)} (goal ≤ 3.0)`);

// ── 2. Delivery throughput ───────────────────────────────────────────────────
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
const work = mkdtempSync(join(tmpdir(), 'bench-'));
const hooks = ['a', 'b', 'c'];
const benchRoutes = [
  'targets:',
  ...hooks.map((h) => `  hook-${h}: { type: webhook, url: "${base}/${h}", allowPrivateNetwork: true }`),
  `default: { targets: [${hooks.map((h) => `hook-${h}`).join(', ')}] }`,
].join('\n');
writeFileSync(join(work, 'routes.yml'), benchRoutes);
const deliveryFindings = small ? 100 : 1_000;
const ndjson = (n: number, file: string) => {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const event = parsed[i % parsed.length];
    const id = `${String(i).padStart(8, '0')}${event.detail.id.slice(8)}`;
    out.write(`${JSON.stringify({ ...event, detail: { ...event.detail, id } })}\n`);
  }
  return new Promise<void>((resolve) => out.end(resolve));
};
await ndjson(deliveryFindings, join(work, 'delivery.ndjson'));
const bin = join(ROOT, 'bin/findings-router.mjs');
// Asynchronous: the loopback receiver lives in this process and must keep answering.
const replay = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'replay', ...args], { cwd: work, env: { ...process.env, ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });

const replayStart = performance.now();
const delivered = await replay([join(work, 'delivery.ndjson'), '--routes', join(work, 'routes.yml'), '--send', '--json']);
const replaySeconds = (performance.now() - replayStart) / 1000;
if (delivered.status !== 0) throw new Error(`replay failed: ${delivered.stderr}`);
const routedLines = delivered.stdout.trim().split('\n').filter((l) => JSON.parse(l).outcome === 'routed').length;
if (routedLines !== deliveryFindings) throw new Error(`expected ${deliveryFindings} routed, got ${routedLines}`);
// Baseline: the same number of POSTs of the same bodies with Node's fetch (keep-alive), at the same
// concurrency as replay: one finding at a time, its three targets in parallel.
const bodies = parsed.map((e) => JSON.stringify(e));
const fetchStart = performance.now();
for (let i = 0; i < deliveryFindings; i++) {
  await Promise.all(hooks.map(async (h) => {
    const response = await fetch(`${base}/${h}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i % bodies.length] });
    await response.text();
  }));
}
const fetchSeconds = (performance.now() - fetchStart) / 1000;
// The replay includes its own start-up (node, TypeScript stripping, loading the CLI and the routes):
// subtract a replay of an empty file with the same routes, measured the same way (median of 3).
writeFileSync(join(work, 'empty.ndjson'), '');
const startups: number[] = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  await replay([join(work, 'empty.ndjson'), '--routes', join(work, 'routes.yml'), '--send', '--json']);
  startups.push((performance.now() - t) / 1000);
}
const startupSeconds = median(startups);
const throughputRatio = fetchSeconds / Math.max(0.001, replaySeconds - startupSeconds);
log(`2. Delivery throughput: replay ${(deliveryFindings * 3 / (replaySeconds - startupSeconds)).toFixed(0)} deliveries/s (start-up ${startupSeconds.toFixed(2)} s excluded) vs bare fetch ${(deliveryFindings * 3 / fetchSeconds).toFixed(0)}/s → ratio ${throughputRatio.toFixed(2)} (goal ≥ 0.8)`);
receiver.close();

// ── 3. Cold start ────────────────────────────────────────────────────────────
const coldStartBytesOf = (dir: string): number =>
  coldStartBytes(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Metafile, join(dir, 'index.mjs'), ROOT);
const bundles: { function: string; bytes: number; importMsOverBare: number; importMsOverBareWithoutSourceMaps: number }[] = [];
const runs = small ? 5 : 11;
// The environment of the deployed functions (serverless.yml defaults): NODE_OPTIONS=--enable-source-maps
// reads and parses every loaded file's .map at load, and ACCOUNT_SOURCES decides which account
// sources enrich and watch-members set up at init. Both entries are ES modules, like the Lambda
// runtime's import of the handler: `node -e` (CommonJS) would preload node:crypto and others and
// make `globalThis.crypto` the node:crypto module, for the baseline and the bundle alike.
const deployedEnv = (fn: string, sourceMaps: boolean) => ({
  ...process.env,
  NODE_OPTIONS: sourceMaps ? '--enable-source-maps' : '',
  LAMBDA_TASK_ROOT: join(ROOT, 'dist', fn), ROUTES_FILE: 'routes.json', ACCOUNTS_FILE: 'accounts.json',
  ACCOUNT_SOURCES: 'organizations,guardduty', EXPECTED_ACCOUNTS: 'accounts', EVENT_BUS_NAME: 'b', QUARANTINE_QUEUE_URL: 'q',
  DELIVERY_QUEUE_URL: 'q', DELIVERY_DLQ_URL: 'q', STATE_TABLE: 's', IDEMPOTENCY_TABLE: 'i', AWS_REGION: 'us-east-1',
});
const spawnMs = (code: string, cwd: string, env: NodeJS.ProcessEnv): number => {
  const t = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, env });
  const ms = performance.now() - t;
  // A bundle that fails to import would look fast: fail the bench instead.
  if (child.status !== 0) throw new Error(`cold start: ${code} failed: ${child.stderr.toString().slice(0, 2_000)}`);
  return ms;
};
const fns = existsSync(join(ROOT, 'dist')) ? readdirSync(join(ROOT, 'dist')).filter((fn) => existsSync(join(ROOT, 'dist', fn, 'index.mjs'))) : [];
if (fns.length > 0) {
  // Interleaved (bare, then each bundle with and without source maps, per round): load on the machine hits all alike.
  const bare: number[] = [];
  const times = new Map(fns.map((fn) => [fn, { deployed: [] as number[], noMaps: [] as number[] }]));
  for (let i = 0; i < runs; i++) {
    bare.push(spawnMs('0', ROOT, { ...process.env, NODE_OPTIONS: '' }));
    for (const fn of fns) {
      const file = join(ROOT, 'dist', fn, 'index.mjs');
      times.get(fn)!.deployed.push(spawnMs(`await import(${JSON.stringify(file)})`, join(ROOT, 'dist', fn), deployedEnv(fn, true)));
      times.get(fn)!.noMaps.push(spawnMs(`await import(${JSON.stringify(file)})`, join(ROOT, 'dist', fn), deployedEnv(fn, false)));
    }
  }
  const over = (xs: number[]) => Math.round((median(xs) - median(bare)) * 10) / 10;
  for (const fn of fns) {
    const entry = { function: fn, bytes: coldStartBytesOf(join(ROOT, 'dist', fn)), importMsOverBare: over(times.get(fn)!.deployed), importMsOverBareWithoutSourceMaps: over(times.get(fn)!.noMaps) };
    bundles.push(entry);
    log(`3. Cold start ${fn}: ${(entry.bytes / 1000).toFixed(0)} kB (${(entry.bytes / 1024).toFixed(0)} KiB), import +${entry.importMsOverBare} ms over bare node as deployed (+${entry.importMsOverBareWithoutSourceMaps} ms without source maps) (goal ≤ 250 KB, ≤ 40 ms)`);
  }
} else {
  log('3. Cold start: no dist/ (run npm run build first); skipped');
}

// ── 4. Memory at scale ───────────────────────────────────────────────────────
const bigCount = small ? 2_000 : 100_000;
await ndjson(bigCount, join(work, 'big.ndjson'));
writeFileSync(join(work, 'file-only.yml'), `targets:\n  siem: { type: file, path: ${join(work, 'siem.ndjson')} }\ndefault: { targets: [siem] }\n`);
const bigStart = performance.now();
const big = await replay([join(work, 'big.ndjson'), '--routes', join(work, 'file-only.yml')], { FINDINGS_ROUTER_REPORT_RSS: '1' });
const bigSeconds = (performance.now() - bigStart) / 1000;
if (big.status !== 0) throw new Error(`big replay failed: ${big.stderr}`);
const rssKb = Number(/maxRssKb=(\d+)/.exec(big.stderr)?.[1] ?? 'NaN');
const replay100k = { peakRssMb: Math.round(rssKb / 1024), findingsPerSec: Math.round(bigCount / bigSeconds) };
log(`4. Memory: replay of ${bigCount} findings: peak RSS ${replay100k.peakRssMb} MB, ${replay100k.findingsPerSec} findings/s (goal ≤ 200 MB)`);

if (values.json) {
  process.stdout.write(`${JSON.stringify({ cpuRatio: Math.round(cpuRatio * 100) / 100, throughputRatio: Math.round(throughputRatio * 100) / 100, bundles, replay100k })}\n`);
}
