import { vi } from 'vitest';

/**
 * Takes over stdout and stderr for a test (vi.restoreAllMocks gives them back): Powertools writes
 * INFO lines and EMF to stdout, ERROR lines to stderr, and both land in one list, in order.
 * `logLines()` is every JSON line written so far; `clear()` forgets them.
 */
const captureLambdaOutput = () => {
  const chunks: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
  }
  return {
    logLines: () => chunks.flatMap((c) => c.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>),
    clear: () => {
      chunks.length = 0;
    },
  };
};

export { captureLambdaOutput };
