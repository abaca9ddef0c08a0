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
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, createWriteStream, existsSync } from 'node:fs';
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
/** Bytes a cold start loads: index.mjs and the chunks it imports statically (not the lazily imported ones). */
const coldStartBytes = (dir: string): number => {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { outputs: Record<string, { imports: { path: string; kind: string }[] }> };
  const outputs = new Map(Object.entries(meta.outputs).map(([file, output]) => [join(ROOT, file), output]));
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !outputs.has(file)) return;
    seen.add(file);
    for (const i of outputs.get(file)!.imports) if (i.kind === 'import-statement') visit(join(ROOT, i.path));
  };
  visit(join(dir, 'index.mjs'));
  return [...seen].reduce((sum, file) => sum + statSync(file).size, 0);
};
const bundles: { function: string; bytes: number; importMsOverBare: number }[] = [];
const runs = small ? 5 : 11;
if (existsSync(join(ROOT, 'dist'))) {
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    bare.push(performance.now() - t);
  }
  for (const fn of readdirSync(join(ROOT, 'dist'))) {
    const file = join(ROOT, 'dist', fn, 'index.mjs');
    if (!existsSync(file)) continue;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      // Import only: the module's top level reads env and config; give it what it needs.
      spawnSync(process.execPath, ['-e', `import(${JSON.stringify(file)}).catch(()=>{})`], {
        cwd: join(ROOT, 'dist', fn),
        env: { ...process.env, LAMBDA_TASK_ROOT: join(ROOT, 'dist', fn), ROUTES_FILE: 'routes.json', ACCOUNTS_FILE: 'accounts.json', EVENT_BUS_NAME: 'b', QUARANTINE_QUEUE_URL: 'q', DELIVERY_QUEUE_URL: 'q', DELIVERY_DLQ_URL: 'q', STATE_TABLE: 's', IDEMPOTENCY_TABLE: 'i', AWS_REGION: 'us-east-1' },
      });
      times.push(performance.now() - t);
    }
    const entry = { function: fn, bytes: coldStartBytes(join(ROOT, 'dist', fn)), importMsOverBare: Math.round((median(times) - median(bare)) * 10) / 10 };
    bundles.push(entry);
    log(`3. Cold start ${fn}: ${(entry.bytes / 1024).toFixed(0)} KiB, import +${entry.importMsOverBare} ms over bare node (goal ≤ 250 KB, ≤ 40 ms)`);
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
