import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/findings-router.mjs');
const USAGE_PRELOAD = join(ROOT, 'scripts/bench/report-usage.mjs');

interface ChildRun {
  status: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** User + system CPU of the whole process (start-up included), from report-usage.mjs. */
  cpuMs: number;
  /** CPU when the process first wrote to stdout (undefined: it never did). */
  firstStdoutCpuMs?: number;
  /** Date.now() at the first stdout write and at exit. */
  firstStdoutAtMs?: number;
  /** Lines (records) the first stdout write carried: replay --json writes its records in batches. */
  firstStdoutLines?: number;
  exitAtMs?: number;
  stdoutWrites: number;
  /** Lines written to stdout in all (one per record). */
  stdoutLines: number;
  maxRssKb: number;
}

let runs = 0;
const scratch = mkdtempSync(join(tmpdir(), 'bench-usage-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs node with `args` in its own process and measures it. `stdoutFile` sends its stdout to a
 * file instead of this process (a 200k-line --json output would cost the bench, not the child).
 * Asynchronous: a receiver or loop in another process may be answering meanwhile.
 */
const runNode = (args: string[], options: { cwd?: string; env?: Record<string, string>; stdoutFile?: string } = {}): Promise<ChildRun> => {
  const usageFile = join(scratch, `usage-${runs++}.json`);
  const fd = options.stdoutFile ? openSync(options.stdoutFile, 'w') : undefined;
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env, NODE_OPTIONS: `--import=${USAGE_PRELOAD}`, BENCH_USAGE_FILE: usageFile },
    stdio: ['ignore', fd ?? 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      if (fd !== undefined) closeSync(fd);
      const wallMs = performance.now() - started;
      let usage: Pick<ChildRun, 'cpuMs' | 'firstStdoutCpuMs' | 'firstStdoutAtMs' | 'firstStdoutLines' | 'exitAtMs' | 'stdoutWrites' | 'stdoutLines' | 'maxRssKb'> = { cpuMs: Number.NaN, stdoutWrites: 0, stdoutLines: 0, maxRssKb: Number.NaN };
      try {
        usage = JSON.parse(readFileSync(usageFile, 'utf8'));
      } catch {
        // no usage: the figure that needs it fails as impossible
      }
      resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), wallMs, ...usage });
    });
  });
};

/** The CLI as users run it (bin: the Node check and the heap-flag re-exec included). */
const runReplay = (args: string[], options: { cwd?: string; stdoutFile?: string } = {}) => runNode([BIN, 'replay', ...args], options);

/** Fails the bench with the child's own words when it did not succeed. */
const succeeded = (what: string, run: ChildRun): ChildRun => {
  if (run.status !== 0) throw new Error(`${what} exited ${run.status}: ${run.stderr.slice(-2_000)}`);
  return run;
};

/** The sample corpus as parsed events (every one valid: the bench depends on it). */
const sampleEvents = (): { detail: { id: string } }[] => {
  const dir = join(ROOT, 'test/events/samples');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
};

/** N findings cycling through the samples, each with its own id (so none is a duplicate). */
const writeCorpus = (events: { detail: { id: string } }[], n: number, file: string): Promise<void> => {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const event = events[i % events.length]!;
    const id = `${String(i).padStart(8, '0')}${event.detail.id.slice(8)}`;
    out.write(`${JSON.stringify({ ...event, detail: { ...event.detail, id } })}\n`);
  }
  return new Promise((resolve) => out.end(resolve));
};

export { ROOT, runNode, runReplay, sampleEvents, succeeded, writeCorpus };
