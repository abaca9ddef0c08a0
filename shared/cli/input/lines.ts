/**
 * Lines of a text stream, split the way readline does (\n, \r\n or a lone \r), each at most
 * `maxChars` long. Not readline itself: its async iterator reads up to 1,024 lines ahead of
 * the consumer, and those buffered lines (2.5 KB each for a finding) outlive young-generation
 * GCs and pile up in the old generation. Here only the current chunk (16 KB) is read ahead.
 *
 * A longer line is not kept: its text is dropped as it streams in and it comes out as an
 * `OverlongLine` (with its length), so `/dev/zero`-like input or a runaway line costs at most
 * `maxChars` of memory and the lines after it still come through.
 */
interface OverlongLine {
  overlong: true;
  /** The line's length in characters, all of it counted. */
  length: number;
}

async function* boundedLines(chunks: AsyncIterable<string>, maxChars: number): AsyncGenerator<string | OverlongLine> {
  let line = ''; // the current line's text so far, across chunks
  let dropped = -1; // characters of the current line dropped for being over the bound; -1 while within it
  let afterCr = false; // the last chunk ended in \r: a \n starting the next one completes that break
  const append = (text: string) => {
    if (dropped >= 0) dropped += text.length;
    else if (line.length + text.length > maxChars) {
      dropped = line.length + text.length;
      line = '';
    } else line += text;
  };
  for await (const chunk of chunks) {
    if (chunk === '') continue;
    const breaks = /\r\n|\r|\n/g;
    let start = afterCr && chunk.startsWith('\n') ? 1 : 0;
    breaks.lastIndex = start;
    for (let match = breaks.exec(chunk); match !== null; match = breaks.exec(chunk)) {
      append(chunk.slice(start, match.index));
      yield dropped >= 0 ? { overlong: true, length: dropped } : line;
      line = '';
      dropped = -1;
      start = breaks.lastIndex;
    }
    append(chunk.slice(start));
    afterCr = chunk.endsWith('\r');
  }
  if (dropped >= 0) yield { overlong: true, length: dropped };
  else if (line !== '') yield line;
}

const isOverlong = (line: string | OverlongLine): line is OverlongLine => typeof line !== 'string';

export { boundedLines, isOverlong };
export type { OverlongLine };
