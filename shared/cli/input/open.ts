import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { codeOf, refusal, type InputFile, type InputProblem } from './files.ts';

/**
 * Opens one input file as a stream of text (gunzipped for `.gz`), read 16 KB at a time.
 * The file is opened non-blocking and checked again once open: a path swapped for a FIFO
 * after the walk looked at it is still refused instead of waiting forever for a writer.
 * A `.gz` file that does not start with gzip's magic bytes is refused before any reading;
 * one that breaks off later fails the stream with an error `gzipProblem` words.
 */
const READ_CHUNK_BYTES = 16 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b];

const openText = async (file: InputFile): Promise<AsyncIterable<string> | InputProblem> => {
  let handle: FileHandle;
  try {
    handle = await open(file.path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { source: file.name, error: `${file.name}: cannot open (${codeOf(error)})` };
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      return { source: file.name, error: refusal(file.name, info) };
    }
    if (!file.format.gzip) return handle.createReadStream({ encoding: 'utf8', highWaterMark: READ_CHUNK_BYTES });
    const head = Buffer.alloc(GZIP_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead < head.length || head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
      await handle.close();
      const what = bytesRead === 0 ? 'the file is empty' : 'it does not start with the gzip magic bytes 1f 8b';
      return { source: file.name, error: `${file.name}: not gzip data (${what})` };
    }
    const gunzip = createGunzip({ chunkSize: READ_CHUNK_BYTES });
    // pipeline passes a read error on to gunzip and closes the file when either side ends.
    pipeline(handle.createReadStream({ start: 0, highWaterMark: READ_CHUNK_BYTES }), gunzip, () => {});
    return gunzip.setEncoding('utf8');
  } catch (error) {
    await handle.close().catch(() => {});
    return { source: file.name, error: `${file.name}: cannot read (${codeOf(error)})` };
  }
};

/** A stream error in words: a gzip that breaks off or is corrupt, or a failed read. */
const streamProblem = (error: unknown): string => {
  const code = codeOf(error);
  if (code === 'Z_BUF_ERROR') return 'truncated gzip data (unexpected end of file)';
  if (code === 'Z_DATA_ERROR') return `corrupt gzip data (${(error as Error).message})`;
  return `read failed (${code})`;
};

export { openText, streamProblem };
