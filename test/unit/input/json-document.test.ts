import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonDocument, type DocumentPart } from '../../../shared/cli/input/json-document.ts';

const collect = async (text: string | string[], maxElementChars = 1_000_000, maxDocumentChars = 1_000_000): Promise<DocumentPart[]> => {
  const parts: DocumentPart[] = [];
  for await (const part of jsonDocument(Readable.from(typeof text === 'string' ? [text] : text), { maxElementChars, maxDocumentChars })) parts.push(part);
  return parts;
};

/** Cuts a text into chunks at the given (sorted, deduplicated) offsets. */
const cut = (text: string, offsets: number[]): string[] => {
  const points = [...new Set(offsets.map((o) => o % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let start = 0;
  for (const point of points) {
    if (point > start) chunks.push(text.slice(start, point));
    start = Math.max(start, point);
  }
  if (start < text.length) chunks.push(text.slice(start));
  return chunks;
};

describe('jsonDocument: one JSON document from a stream', () => {
  it('splits a top-level array into exactly the elements JSON.parse gives, however the text is cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue()), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), async (values, offsets, spaced) => {
        // Prepare: the array written compactly or pretty-printed (strings with brackets, commas, escapes)
        const text = JSON.stringify(values, null, spaced ? 2 : undefined);
        // Act
        const parts = await collect(cut(text, offsets));
        // Assess
        expect(parts).toEqual((JSON.parse(text) as unknown[]).map((value, index) => ({ index, value })));
      }),
      { numRuns: 500 },
    );
  });

  it('parses any other document whole', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.nat(), { maxLength: 8 }), async (value, offsets) => {
        const text = JSON.stringify(value);
        expect(await collect(cut(`\uFEFF ${text}\n`, offsets))).toEqual([{ value: JSON.parse(text) }]);
      }),
      { numRuns: 200 },
    );
  });

  it('reports a bad element, an overlong element and an empty one by index, and reads the elements after them', async () => {
    // Prepare
    const text = `[{"id":"a"}, {oops}, "${'x'.repeat(50)}", , {"id":"e"}]`;
    // Act
    const parts = await collect(text, 40);
    // Assess
    expect(parts).toEqual([
      { index: 0, value: { id: 'a' } },
      { index: 1, error: expect.stringMatching(/^invalid JSON/) },
      { index: 2, error: 'element longer than 40 characters (53 characters): skipped' },
      { index: 3, error: 'invalid JSON: an empty array element' },
      { index: 4, value: { id: 'e' } },
    ]);
  });

  it('reports an array that is not closed, text after it, an empty file and a document over its bound', async () => {
    expect(await collect('[{"id":"a"}, {"id":')).toEqual([{ index: 0, value: { id: 'a' } }, { index: 1, error: 'invalid JSON: unexpected end of input (the array is not closed)' }]);
    expect(await collect('[1] [2]')).toEqual([{ index: 0, value: 1 }, { error: 'invalid JSON: unexpected text after the closing ] of the array' }]);
    expect(await collect(' \n')).toEqual([{ error: 'invalid JSON: the file is empty' }]);
    expect(await collect(['{"a":', '"0123456789"}'], 1000, 10)).toEqual([{ error: expect.stringMatching(/^document longer than 10 characters: write it as JSON Lines/) }]);
  });
});
