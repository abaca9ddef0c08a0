import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';

/**
 * Reads replay inputs as a stream of events, each with the place it came from:
 * `.json` files (one event, one bare finding, or an array of either) and
 * `.jsonl`/`.ndjson` files (one per line, streamed so large files stay small in memory).
 * A file that does not parse yields one `error` item and never stops the others.
 */
interface InputItem {
  source: string;
  value?: unknown;
  error?: string;
}

const EXTENSIONS = new Set(['.json', '.jsonl', '.ndjson']);

const expandPaths = async (paths: readonly string[]): Promise<string[]> => {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      const found = entries
        .filter((entry) => entry.isFile() && EXTENSIONS.has(extname(entry.name)))
        .map((entry) => join(entry.parentPath, entry.name))
        .sort();
      files.push(...found);
    } else {
      files.push(path);
    }
  }
  return files;
};

async function* readInputs(paths: readonly string[], cwd = process.cwd()): AsyncGenerator<InputItem> {
  for (const file of await expandPaths(paths)) {
    const name = relative(cwd, file) || file;
    if (extname(file) === '.jsonl' || extname(file) === '.ndjson') {
      yield* readLines(file, name);
    } else {
      yield* readJsonFile(file, name);
    }
  }
}

async function* readJsonFile(file: string, name: string): AsyncGenerator<InputItem> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (error) {
    yield { source: name, error: `invalid JSON: ${(error as Error).message}` };
    return;
  }
  if (Array.isArray(parsed)) {
    for (const [index, value] of parsed.entries()) yield { source: `${name}[${index}]`, value };
  } else {
    yield { source: name, value: parsed };
  }
}

const READ_CHUNK_BYTES = 16 * 1024;

async function* readLines(file: string, name: string): AsyncGenerator<InputItem> {
  let lineNumber = 0;
  for await (const line of splitLines(createReadStream(file, { encoding: 'utf8', highWaterMark: READ_CHUNK_BYTES }))) {
    lineNumber++;
    if (line.trim() === '') continue;
    try {
      yield { source: `${name}:${lineNumber}`, value: JSON.parse(line) };
    } catch (error) {
      yield { source: `${name}:${lineNumber}`, error: `invalid JSON: ${(error as Error).message}` };
    }
  }
}

/**
 * Lines of a text stream, split the way readline does (\n, \r\n or a lone \r). Not readline
 * itself: its async iterator reads up to 1,024 lines ahead of the consumer, and those buffered
 * lines (2.5 KB each for a finding) outlive young-generation GCs and pile up in the old
 * generation. Here only the current chunk (16 KB) is read ahead.
 */
async function* splitLines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let line = ''; // the current line's text so far, across chunks
  let afterCr = false; // the last chunk ended in \r: a \n starting the next one completes that break
  for await (const chunk of chunks) {
    if (chunk === '') continue;
    const breaks = /\r\n|\r|\n/g;
    let start = afterCr && chunk.startsWith('\n') ? 1 : 0;
    breaks.lastIndex = start;
    for (let match = breaks.exec(chunk); match !== null; match = breaks.exec(chunk)) {
      yield line + chunk.slice(start, match.index);
      line = '';
      start = breaks.lastIndex;
    }
    line += chunk.slice(start);
    afterCr = chunk.endsWith('\r');
  }
  if (line !== '') yield line;
}

export { readInputs, expandPaths, splitLines };
export type { InputItem };
