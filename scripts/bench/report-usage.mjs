// Preloaded into a measured child (NODE_OPTIONS=--import=...): at exit, writes to
// BENCH_USAGE_FILE the process's CPU time, its CPU time when it first wrote to stdout (replay
// --json writes a record as each finding ends: what follows is the per-finding work, start-up
// excluded) and its peak RSS. CPU times survive the CLI's execve re-exec, so they cover the
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
  let stdoutWrites = 0;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (...args) => {
    if (stdoutWrites++ === 0) {
      firstStdoutCpuMs = cpuMs();
      firstStdoutAtMs = Date.now();
    }
    return write(...args);
  };
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({ cpuMs: cpuMs(), firstStdoutCpuMs, firstStdoutAtMs, exitAtMs: Date.now(), stdoutWrites, maxRssKb: peakRssKb() }));
  });
}
