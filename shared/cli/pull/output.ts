import { once } from 'node:events';
import { createWriteStream, unlinkSync, type WriteStream } from 'node:fs';
import { access, constants, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FindingsRouterError } from '../../errors.ts';

/**
 * The pulled findings file. Lines go to a sibling `.partial` file created before any AWS call
 * (so an unwritable path fails first, not after an hour of pulling) and renamed over the target
 * at the end: a run that dies never leaves a truncated file under the name a later
 * `routes diff` would read as complete. Created 0600: findings name hosts, users and addresses.
 * A pipe or a device is written directly.
 */
class OutputError extends FindingsRouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OutputError';
  }
}

interface FindingsFile {
  readonly path: string;
  /** A pipe or a device, written as it is (no partial file, no rename). */
  readonly direct: boolean;
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
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new OutputError(`${target}: is a directory; -o takes a file name`);
  if (existing) {
    await access(target, constants.W_OK).catch((error: unknown) => {
      throw new OutputError(`${target}: not writable (${reason(error)})`, { cause: error });
    });
  }
  // A pipe or a device (`-o /dev/stdout`, `-o >(gzip > f.gz)`) is written as it is: it cannot be
  // replaced by a rename. A symlink to a file is followed, so the file it names is replaced.
  const direct = existing !== undefined && !existing.isFile();
  const path = existing?.isFile() ? await realpath(target) : resolve(target);
  const partial = direct ? path : join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
  const stream: WriteStream = createWriteStream(partial, direct ? { flags: 'w' } : { flags: 'wx', mode: 0o600 });
  let failure: unknown;
  stream.on('error', (error) => (failure ??= error));
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new OutputError(`${target}: cannot write${direct ? '' : ` in ${dirname(target) || '.'}`} (${reason(error)})`, { cause: error });
  }
  const check = () => {
    if (failure) throw new OutputError(`${target}: write failed (${reason(failure)})`, { cause: failure });
  };
  return {
    path,
    direct,
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
      if (direct) return;
      await rename(partial, path).catch((error: unknown) => {
        throw new OutputError(`${target}: cannot replace (${reason(error)})`, { cause: error });
      });
    },
    abort: async () => {
      stream.destroy();
      if (!direct) await unlink(partial).catch(() => undefined);
    },
    abortSync: () => {
      stream.destroy();
      if (direct) return;
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
