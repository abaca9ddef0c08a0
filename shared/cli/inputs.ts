import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';

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

async function* readLines(file: string, name: string): AsyncGenerator<InputItem> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    try {
      yield { source: `${name}:${lineNumber}`, value: JSON.parse(line) };
    } catch (error) {
      yield { source: `${name}:${lineNumber}`, error: `invalid JSON: ${(error as Error).message}` };
    }
  }
}

export { readInputs, expandPaths };
export type { InputItem };
