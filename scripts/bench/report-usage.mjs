// Preloaded into a measured child (NODE_OPTIONS=--import=...): at exit, writes to
// BENCH_USAGE_FILE the process's CPU time, its CPU time when it first wrote to stdout and the
// lines that first write carried (replay --json writes each finding's record once it ends, a
// batch of records a write: what follows the first write is the per-finding work of the
// findings after those lines, start-up excluded), the lines written in all, and its peak RSS. CPU times survive the CLI's execve re-exec, so they cover the
// whole process. Wall times are Date.now(): the re-exec restarts performance.now().
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.BENCH_USAGE_FILE;
/**
 * Peak RSS from /proc/self/status (VmHWM, the peak of this program image): getrusage's maxRSS
 * of a child forked from the bench starts at the bench's own RSS.
 */
const peakRssKb = () => {
  try {
    return Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
};
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
if (file) {
  let firstStdoutCpuMs;
  let firstStdoutAtMs;
  let firstStdoutLines;
  let stdoutWrites = 0;
  let stdoutLines = 0;
  const lines = (chunk) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('latin1') : '';
    let count = 0;
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
    return count;
  };
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (...args) => {
    const count = lines(args[0]);
    if (stdoutWrites++ === 0) {
      firstStdoutCpuMs = cpuMs();
      firstStdoutAtMs = Date.now();
      firstStdoutLines = count;
    }
    stdoutLines += count;
    return write(...args);
  };
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({ cpuMs: cpuMs(), firstStdoutCpuMs, firstStdoutAtMs, firstStdoutLines, exitAtMs: Date.now(), stdoutWrites, stdoutLines, maxRssKb: peakRssKb() }));
  });
}
