import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Appends text to local files through one open handle per path, one write for everything that
 * arrived for the path while the previous write was under way (and in the event-loop turn before
 * the first). Opening, appending and closing per line cost a replay of 50,000 findings ~4 s of
 * its main thread and most of its system CPU (issue 17). The handle is closed once the path has
 * been idle for FILE_IDLE_CLOSE_MS, so a file moved or deleted between bursts (log rotation, a
 * test's temporary folder) is created anew, and no handle outlives the work for long.
 */
interface Waiting {
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface PathState {
  queue: Waiting[];
  handle?: FileHandle;
  writing: boolean;
  idleClose?: NodeJS.Timeout;
}

const FILE_IDLE_CLOSE_MS = 50;
/** At most this much text a write, so a burst of large lines is not joined into one huge string. */
const MAX_BATCH_CHARS = 1 << 20;

const paths = new Map<string, PathState>();

const takeBatch = (queue: Waiting[]): Waiting[] => {
  let chars = 0;
  let count = 0;
  while (count < queue.length && (count === 0 || chars + queue[count]!.text.length <= MAX_BATCH_CHARS)) chars += queue[count++]!.text.length;
  return queue.splice(0, count);
};

const closeWhenIdle = (path: string, state: PathState) => {
  if (state.writing || state.queue.length > 0) return;
  paths.delete(path);
  const handle = state.handle;
  state.handle = undefined;
  // The lines are written: a failed close loses nothing.
  void handle?.close().catch(() => {});
};

/** Writes the path's waiting lines batch by batch, in the order they were appended. */
const drain = async (path: string, state: PathState): Promise<void> => {
  const { queue } = state;
  while (queue.length > 0) {
    if (state.handle === undefined) {
      try {
        await mkdir(dirname(path), { recursive: true });
        state.handle = await open(path, 'a');
      } catch (error) {
        for (const waiting of queue.splice(0)) waiting.reject(error);
        break;
      }
    }
    const batch = takeBatch(queue);
    try {
      await state.handle.appendFile(batch.map((waiting) => waiting.text).join(''));
      for (const waiting of batch) waiting.resolve();
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      // The next batch opens the file again.
      const failed = state.handle;
      state.handle = undefined;
      await failed.close().catch(() => {});
    }
  }
  state.writing = false;
  if (state.handle === undefined) paths.delete(path);
  else state.idleClose = setTimeout(() => closeWhenIdle(path, state), FILE_IDLE_CLOSE_MS).unref();
};

/** Appends `text` to the file at `path` (its folder made when missing); resolves once written. */
const appendToFile = (path: string, text: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let state = paths.get(path);
    if (state === undefined) {
      state = { queue: [], writing: false };
      paths.set(path, state);
    }
    state.queue.push({ text, resolve, reject });
    if (state.writing) return;
    state.writing = true;
    clearTimeout(state.idleClose);
    const started = state;
    setImmediate(() => void drain(path, started));
  });

export { appendToFile, FILE_IDLE_CLOSE_MS };
