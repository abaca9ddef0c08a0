import { once } from 'node:events';
import { createWriteStream, unlinkSync, type WriteStream } from 'node:fs';
import { access, constants, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FindingsRouterError } from '../../errors.ts';

/**
 * The pulled findings file. Lines go to a sibling `.partial` file created before any AWS call
 * (so an unwritable path fails first, not after an hour of pulling) and renamed over the target
 * at the end: a run that dies never leaves a truncated file under the name a later
 * `routes diff` would read as complete. Created 0600: findings name hosts, users and addresses.
 */
class OutputError extends FindingsRouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OutputError';
  }
}

interface FindingsFile {
  readonly path: string;
  /** Appends lines, waiting when the disk is slower than the pull. */
  write(lines: readonly string[]): Promise<void>;
  /** Flushes and renames the partial file over the target. */
  commit(): Promise<void>;
  /** Removes the partial file (a failed run). */
  abort(): Promise<void>;
  /** The same, from a signal handler that is about to exit. */
  abortSync(): void;
}

const reason = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

const openFindingsFile = async (target: string): Promise<FindingsFile> => {
  const path = resolve(target);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new OutputError(`${target}: is a directory; -o takes a file name`);
  if (existing) {
    await access(path, constants.W_OK).catch((error: unknown) => {
      throw new OutputError(`${target}: not writable (${reason(error)})`, { cause: error });
    });
  }
  const partial = join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
  const stream: WriteStream = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  let failure: unknown;
  stream.on('error', (error) => (failure ??= error));
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new OutputError(`${target}: cannot write in ${dirname(target) || '.'} (${reason(error)})`, { cause: error });
  }
  const check = () => {
    if (failure) throw new OutputError(`${target}: write failed (${reason(failure)})`, { cause: failure });
  };
  return {
    path,
    write: async (lines) => {
      check();
      if (lines.length === 0) return;
      if (!stream.write(`${lines.join('\n')}\n`)) await Promise.race([once(stream, 'drain'), once(stream, 'error')]).catch(() => undefined);
      check();
    },
    commit: async () => {
      check();
      stream.end();
      await once(stream, 'close');
      check();
      await rename(partial, path).catch((error: unknown) => {
        throw new OutputError(`${target}: cannot replace (${reason(error)})`, { cause: error });
      });
    },
    abort: async () => {
      stream.destroy();
      await unlink(partial).catch(() => undefined);
    },
    abortSync: () => {
      stream.destroy();
      try {
        unlinkSync(partial);
      } catch {
        // already gone
      }
    },
  };
};

export { openFindingsFile, OutputError };
export type { FindingsFile };
