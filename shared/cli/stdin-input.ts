import type { Readable } from 'node:stream';
import type { OnSkipped } from './input/files.ts';
import { readDocument, readInputs, readLines, type InputItem } from './inputs.ts';

/** The name standard input goes by in sources and reasons (`stdin:3`). */
const STDIN_NAME = 'stdin';

/**
 * Replay inputs where `-` stands for standard input (`jq -c … | replay -`): read as JSON Lines,
 * or as one document (a streamed array, or a pretty-printed object as `jq .` writes it) when it
 * starts with `[`, or with `{` on a first line that is not JSON on its own. Other paths are read
 * by readInputs, in the order given.
 */
async function* readInputsOrStdin(paths: readonly string[], onSkipped?: OnSkipped, stdin: Readable = process.stdin): AsyncGenerator<InputItem> {
  let pending: string[] = [];
  for (const path of paths) {
    if (path !== '-') {
      pending.push(path);
      continue;
    }
    if (pending.length > 0) yield* readInputs(pending, process.cwd(), onSkipped);
    pending = [];
    yield* readStdin(stdin);
  }
  if (pending.length > 0) yield* readInputs(pending, process.cwd(), onSkipped);
}

async function* readStdin(stdin: Readable): AsyncGenerator<InputItem> {
  stdin.setEncoding('utf8');
  const chunks = stdin[Symbol.asyncIterator]() as AsyncIterator<string>;
  const first = await chunks.next();
  if (first.done) return;
  const head = first.value;
  const rest: AsyncIterable<string> = {
    [Symbol.asyncIterator]: async function* () {
      yield head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    },
  };
  try {
    if (isOneDocument(head)) yield* readDocument(rest, STDIN_NAME);
    else yield* readLines(rest, STDIN_NAME, { line: 0 });
  } catch (error) {
    yield { source: STDIN_NAME, error: `${STDIN_NAME}: read failed (${(error as { code?: string }).code ?? error})` };
  }
}

const isOneDocument = (head: string): boolean => {
  const text = head.trimStart();
  if (text.startsWith('[')) return true;
  if (!text.startsWith('{')) return false;
  const newline = text.indexOf('\n');
  if (newline === -1) return false;
  try {
    JSON.parse(text.slice(0, newline));
    return false;
  } catch {
    return true;
  }
};

export { readInputsOrStdin };
