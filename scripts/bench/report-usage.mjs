// Preloaded into a measured child (NODE_OPTIONS=--import=...): at exit, writes to
// BENCH_USAGE_FILE the process's CPU time, its CPU time when it first wrote to stdout (replay
// --json writes a record as each finding ends: what follows is the per-finding work, start-up
// excluded) and its peak RSS. CPU times survive the CLI's execve re-exec, so they cover the
// whole process. Wall times are Date.now(): the re-exec restarts performance.now().
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_USAGE_FILE;
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
    writeFileSync(file, JSON.stringify({ cpuMs: cpuMs(), firstStdoutCpuMs, firstStdoutAtMs, exitAtMs: Date.now(), stdoutWrites, maxRssKb: process.resourceUsage().maxRSS }));
  });
}
