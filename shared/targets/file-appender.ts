import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Appends text to local files, one write for everything that arrived for a path while the
 * previous write was under way (and in the event-loop turn before the first). Opening, appending
 * and closing per line cost a replay of 200,000 findings ~4 s of its main thread and ~18 s of
 * system CPU (issue 17). The file is closed whenever no line is waiting, so a file moved or
 * deleted between batches (log rotation, a test's temporary folder) is created anew, and no
 * handle outlives the work.
 */
interface Waiting {
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** At most this much text a write, so a burst of large lines is not joined into one huge string. */
const MAX_BATCH_CHARS = 1 << 20;

const queues = new Map<string, Waiting[]>();

const takeBatch = (queue: Waiting[]): Waiting[] => {
  let chars = 0;
  let count = 0;
  while (count < queue.length && (count === 0 || chars + queue[count]!.text.length <= MAX_BATCH_CHARS)) chars += queue[count++]!.text.length;
  return queue.splice(0, count);
};

/** Writes the path's waiting lines batch by batch, in the order they were appended, then closes the file. */
const drain = async (path: string, queue: Waiting[]): Promise<void> => {
  while (queue.length > 0) {
    let handle;
    const failAll = (error: unknown) => {
      for (const waiting of queue.splice(0)) waiting.reject(error);
    };
    try {
      await mkdir(dirname(path), { recursive: true });
      handle = await open(path, 'a');
    } catch (error) {
      failAll(error);
      break;
    }
    let failure: unknown;
    const written: Waiting[] = [];
    try {
      while (queue.length > 0) {
        const batch = takeBatch(queue);
        try {
          await handle.appendFile(batch.map((waiting) => waiting.text).join(''));
          written.push(...batch);
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      await handle.close().catch((error: unknown) => {
        failure = error;
      });
    }
    for (const waiting of written) {
      if (failure === undefined) waiting.resolve();
      else waiting.reject(failure);
    }
  }
  queues.delete(path);
};

/** Appends `text` to the file at `path` (its folder made when missing); resolves once written and closed. */
const appendToFile = (path: string, text: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const queue = queues.get(path);
    if (queue !== undefined) {
      queue.push({ text, resolve, reject });
      return;
    }
    const started: Waiting[] = [{ text, resolve, reject }];
    queues.set(path, started);
    setImmediate(() => void drain(path, started));
  });

export { appendToFile };
