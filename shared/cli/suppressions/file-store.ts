import { open, rename, writeFile } from 'node:fs/promises';
import { MAX_SUPPRESSIONS, SuppressionError, type BadSuppressionRow, type RuntimeSuppression, type SuppressionListing, type SuppressionStore } from '../../suppressions/model.ts';
import { parseSuppressionRow, rowWhere } from '../../suppressions/row.ts';

/**
 * Runtime suppressions in a local file, one JSON object a line: the lines `suppressions list
 * --json` prints from a table, so a table's suppressions can be saved and replayed offline
 * (`replay --suppressions FILE`). A missing file is an empty store (the first `put` creates it).
 * Writes go to a temporary file renamed over the old one: a crash leaves the old file or the new.
 */
/** A full table's lines are about 3 KiB each at most; beyond this the file is not a suppressions file. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

const fileSuppressionStore = (file: string): SuppressionStore => {
  const read = async (): Promise<{ listing: SuppressionListing }> => {
    const text = await readBounded(file);
    const suppressions: RuntimeSuppression[] = [];
    const bad: BadSuppressionRow[] = [];
    const lines = text === undefined ? [] : text.split('\n');
    let truncated = false;
    for (const [index, line] of lines.entries()) {
      if (line.trim() === '') continue;
      if (suppressions.length + bad.length >= MAX_SUPPRESSIONS) {
        truncated = true;
        break;
      }
      const where = `${file}:${index + 1}`;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        bad.push({ where, reason: 'not a JSON object' });
        continue;
      }
      try {
        suppressions.push(parseSuppressionRow(row));
      } catch (error) {
        bad.push({ where: `${where} (${rowWhere(row, 'no id')})`, reason: (error as Error).message });
      }
    }
    return { listing: { suppressions, bad, ...(truncated ? { truncated } : {}) } };
  };
  // Rewrites keep only the good rows: a bad one is reported by every read until someone fixes it by hand,
  // so a write refuses while there are bad rows rather than dropping them silently.
  const rewrite = async (change: (rows: RuntimeSuppression[]) => RuntimeSuppression[]): Promise<void> => {
    const { listing } = await read();
    if (listing.bad.length > 0) throw new SuppressionError(`${listing.bad[0]!.where}: ${listing.bad[0]!.reason}; fix or delete that line first (${listing.bad.length} bad line(s))`);
    const rows = change(listing.suppressions);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, rows.map((row) => `${JSON.stringify(row)}\n`).join(''), { mode: 0o600 });
    await rename(temporary, file);
  };
  return {
    put: (suppression) => rewrite((rows) => [...rows.filter((row) => row.id !== suppression.id), suppression]),
    get: async (id) => (await read()).listing.suppressions.find((s) => s.id === id),
    list: async () => (await read()).listing,
    remove: async (id) => {
      let found = false;
      await rewrite((rows) => {
        found = rows.some((row) => row.id === id);
        return rows.filter((row) => row.id !== id);
      });
      return found;
    },
  };
};

/** The file's text, undefined when it does not exist; at most MAX_FILE_BYTES. */
const readBounded = async (file: string): Promise<string | undefined> => {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ENOENT') return undefined;
    throw new SuppressionError(`${file}: cannot read (${(cause as { code?: string }).code ?? cause})`, { cause });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new SuppressionError(`${file}: not a regular file`);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > MAX_FILE_BYTES) throw new SuppressionError(`${file}: larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB; not a suppressions file`);
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } finally {
    await handle.close();
  }
};

export { fileSuppressionStore };
