/**
 * One JSON document read from a stream of text, in bounded memory. A top-level array is
 * split into its elements as it streams in (each element parsed on its own, at most
 * `maxElementChars` long), so a 1 GB array costs one element of memory and a bad element
 * is reported without losing its neighbours. Any other document (an object: a finding, an
 * event, a GetFindings response) is parsed whole, up to `maxDocumentChars`.
 */
type DocumentPart = { index?: number; value: unknown } | { index?: number; error: string };

interface DocumentBounds {
  maxElementChars: number;
  maxDocumentChars: number;
}

const STRUCTURE = /[[\]{}",]/g;
const IN_STRING = /["\\]/g;
const LEADING_SPACE = /^[\s\uFEFF]*/;

async function* jsonDocument(chunks: AsyncIterable<string>, bounds: DocumentBounds): AsyncGenerator<DocumentPart> {
  let mode: 'start' | 'array' | 'document' | 'after' = 'start';
  let whole: string[] = []; // 'document': the text so far
  let wholeLength = 0;
  let element: string[] = []; // 'array': the current element's text before this chunk
  let elementLength = 0;
  let index = 0;
  let depth = 0; // nesting inside the top-level array: 0 = between its elements
  let inString = false;
  let escaped = false; // the previous chunk ended inside a string, right after a backslash
  let sawComma = false; // the element being read follows a comma (so it must not be empty)

  const finishElement = (text: string): DocumentPart | undefined => {
    const overlong = elementLength + text.length > bounds.maxElementChars;
    const full = overlong ? '' : element.join('') + text;
    const length = elementLength + text.length;
    element = [];
    elementLength = 0;
    const at = index;
    if (overlong) {
      index++;
      return { index: at, error: `element longer than ${describeChars(bounds.maxElementChars)} (${describeChars(length)}): skipped` };
    }
    if (full.trim() === '') return sawComma ? { index: index++, error: 'invalid JSON: an empty array element' } : undefined;
    index++;
    return parse(full, at);
  };

  for await (const chunk of chunks) {
    let position = 0;
    if (mode === 'start') {
      position = LEADING_SPACE.exec(chunk)![0].length;
      if (position === chunk.length) continue;
      if (chunk[position] === '[') {
        mode = 'array';
        position++;
      } else mode = 'document';
    }
    if (mode === 'document') {
      wholeLength += chunk.length - position;
      if (wholeLength > bounds.maxDocumentChars) {
        yield { error: `document longer than ${describeChars(bounds.maxDocumentChars)}: write it as JSON Lines (.jsonl, one finding per line)` };
        return;
      }
      whole.push(position === 0 ? chunk : chunk.slice(position));
      continue;
    }
    if (mode === 'after') {
      if (chunk.slice(position).trim() !== '') {
        yield { error: 'invalid JSON: unexpected text after the closing ] of the array' };
        return;
      }
      continue;
    }
    // mode === 'array'
    let start = position; // where the current element's text begins in this chunk
    while (position < chunk.length) {
      if (inString) {
        if (escaped) {
          escaped = false;
          position++;
          continue;
        }
        IN_STRING.lastIndex = position;
        const match = IN_STRING.exec(chunk);
        if (match === null) {
          position = chunk.length;
          break;
        }
        position = match.index + 1;
        if (match[0] === '"') inString = false;
        else if (position < chunk.length) position++; // skip the escaped character
        else escaped = true;
        continue;
      }
      STRUCTURE.lastIndex = position;
      const match = STRUCTURE.exec(chunk);
      if (match === null) {
        position = chunk.length;
        break;
      }
      position = match.index + 1;
      const char = match[0];
      if (char === '"') inString = true;
      else if (char === '[' || char === '{') depth++;
      else if ((char === ']' || char === '}') && depth > 0) depth--;
      else if (char === ',' && depth === 0) {
        const part = finishElement(chunk.slice(start, match.index));
        if (part) yield part;
        sawComma = true;
        start = position;
      } else if (char === ']' && depth === 0) {
        const part = finishElement(chunk.slice(start, match.index));
        if (part) yield part;
        mode = 'after';
        if (chunk.slice(position).trim() !== '') {
          yield { error: 'invalid JSON: unexpected text after the closing ] of the array' };
          return;
        }
        break;
      } else if (char === '}' && depth === 0) {
        yield { index, error: 'invalid JSON: unexpected } in the array' };
        return;
      }
    }
    if (mode === 'array') {
      const rest = chunk.slice(start);
      if (elementLength + rest.length <= bounds.maxElementChars) element.push(rest);
      else element = [];
      elementLength += rest.length;
    }
  }

  if (mode === 'start') yield { error: 'invalid JSON: the file is empty' };
  if (mode === 'array') yield { index, error: 'invalid JSON: unexpected end of input (the array is not closed)' };
  if (mode === 'document') {
    const text = whole.join('');
    whole = [];
    yield parse(text);
  }
}

const parse = (text: string, index?: number): DocumentPart => {
  const at = index === undefined ? {} : { index };
  try {
    return { ...at, value: JSON.parse(text) };
  } catch (error) {
    return { ...at, error: `invalid JSON: ${(error as Error).message}` };
  }
};

const MIB = 1024 * 1024;
const describeChars = (chars: number): string =>
  chars >= MIB ? `${(chars / MIB).toFixed(chars % MIB === 0 ? 0 : 1)} MiB` : `${chars} characters`;

export { jsonDocument, describeChars };
export type { DocumentPart };
