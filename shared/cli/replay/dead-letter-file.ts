import { createWriteStream, type WriteStream } from 'node:fs';
import type { DeadLetter } from '../../delivery/sink.ts';
import { redactJson, safeJson } from '../dlq-cmd.ts';

/**
 * `replay --send --dead-letters FILE`: every delivery that ended dead-lettered, one letter per
 * line as `dlq export` writes them (redacted, terminal-safe JSON), in the order they ended, so
 * that `replay FILE --send` sends exactly those again. Lines are written as letters come (a
 * long run keeps none in memory); a write that fails is reported once at the end, and never
 * turns a delivery's outcome into something else.
 */
class DeadLetterFileError extends Error {
  constructor(file: string, options: ErrorOptions) {
    super(`dead letters not written to ${file}: ${(options.cause as Error | undefined)?.message ?? 'unknown error'}`, options);
    this.name = 'DeadLetterFileError';
  }
}

interface DeadLetterFile {
  write(letter: DeadLetter): void;
  readonly count: number;
  /** Flushes and closes; throws DeadLetterFileError if any write failed. */
  close(): Promise<void>;
}

const letterLine = (letter: DeadLetter): string => `${safeJson(redactJson(letter))}\n`;

const openDeadLetterFile = (file: string): DeadLetterFile => {
  const stream: WriteStream = createWriteStream(file, { flags: 'w' });
  let failure: unknown;
  let count = 0;
  stream.on('error', (error) => (failure ??= error));
  return {
    write: (letter) => {
      if (failure !== undefined) return;
      count++;
      stream.write(letterLine(letter));
    },
    get count() {
      return count;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        if (stream.destroyed) return resolve();
        stream.end(() => resolve());
        stream.once('error', () => resolve());
      });
      if (failure !== undefined) throw new DeadLetterFileError(file, { cause: failure });
    },
  };
};

export { openDeadLetterFile };
