import { inputFiles, type InputFile, type OnSkipped } from './input/files.ts';
import type { InputItem } from './input/item.ts';
import { describeChars, jsonDocument } from './input/json-document.ts';
import { boundedLines, isOverlong } from './input/lines.ts';
import { openText, streamProblem } from './input/open.ts';
import { eventsOf } from './input/shapes.ts';

/**
 * Reads replay inputs as a stream of events, each with the place it came from:
 * `.json` files (one document: an event, a finding, a GetFindings response, or an array of
 * them, streamed element by element), `.jsonl`/`.ndjson` files (one per line, streamed so
 * large files stay small in memory), the same gzipped (`.gz`, GuardDuty's S3 export), and
 * folders of them. What is wrong with one file, line or element yields one `error` item
 * naming it and never stops the others.
 */

/** The longest line (or array element) read; a longer one is skipped and reported. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;
/** The largest non-array `.json` document, parsed whole (a GetFindings page is a few MB). */
const MAX_DOCUMENT_CHARS = 64 * 1024 * 1024;

async function* readInputs(paths: readonly string[], cwd = process.cwd(), onSkipped?: OnSkipped): AsyncGenerator<InputItem> {
  for await (const entry of inputFiles(paths, cwd, onSkipped)) {
    if ('error' in entry) yield entry;
    else yield* readFile(entry, onSkipped);
  }
}

async function* readFile(file: InputFile, onSkipped?: OnSkipped): AsyncGenerator<InputItem> {
  const opened = await openText(file);
  if ('error' in opened) {
    yield opened;
    return;
  }
  let text: AsyncIterable<string> | undefined;
  try {
    text = await withoutBinary(opened);
  } catch (error) {
    yield { source: file.name, error: `${file.name}: ${streamProblem(error)}; nothing was read` };
    return;
  }
  if (text === undefined) {
    // Its bytes are never echoed (a JSON parser's error would quote them to the terminal).
    if (onSkipped) onSkipped(file.name, 'binary (NUL bytes): not JSON text');
    else yield { source: file.name, error: `${file.name}: binary (NUL bytes), not JSON text: not read` };
    return;
  }
  const position = { line: 0 };
  try {
    yield* file.format.lines ? readLines(text, file.name, position) : readDocument(text, file.name);
  } catch (error) {
    const after = file.format.lines && position.line > 0 ? ` after line ${position.line}` : '';
    yield { source: file.name, error: `${file.name}: ${streamProblem(error)}${after}; the events before it were read` };
  }
}

async function* readDocument(text: AsyncIterable<string>, name: string): AsyncGenerator<InputItem> {
  for await (const part of jsonDocument(text, { maxElementChars: MAX_LINE_CHARS, maxDocumentChars: MAX_DOCUMENT_CHARS })) {
    const source = part.index === undefined ? name : `${name}[${part.index}]`;
    if ('error' in part) yield { source, error: part.error };
    else yield* eventsOf(part.value, source, part.index === undefined ? 'document' : 'element');
  }
}

async function* readLines(text: AsyncIterable<string>, name: string, position: { line: number }): AsyncGenerator<InputItem> {
  for await (const line of boundedLines(text, MAX_LINE_CHARS)) {
    position.line++;
    const source = `${name}:${position.line}`;
    if (isOverlong(line)) {
      yield { source, error: `${source}: line longer than ${describeChars(MAX_LINE_CHARS)} (${describeChars(line.length)}): skipped` };
      continue;
    }
    const content = position.line === 1 ? line.replace(/^\uFEFF/, '') : line;
    if (content.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (error) {
      yield { source, error: `invalid JSON: ${(error as Error).message}` };
      continue;
    }
    yield* eventsOf(value, source);
  }
}

/** The stream again, or `undefined` when its first chunk holds a NUL byte (no JSON text does). */
const withoutBinary = async (text: AsyncIterable<string>): Promise<AsyncIterable<string> | undefined> => {
  const chunks = text[Symbol.asyncIterator]();
  const first = await chunks.next();
  if (!first.done && first.value.includes('\u0000')) {
    await chunks.return?.();
    return undefined;
  }
  return {
    [Symbol.asyncIterator]: async function* () {
      if (first.done) return;
      yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    },
  };
};

/** Lines of a text stream as readline splits them, without a length bound (see boundedLines). */
async function* splitLines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const line of boundedLines(chunks, Infinity)) if (!isOverlong(line)) yield line;
}

export { readInputs, readLines, readDocument, splitLines, MAX_LINE_CHARS };
export type { InputItem };
