import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedLines, type OverlongLine } from '../../../shared/cli/input/lines.ts';

const collect = async (chunks: string[], max: number): Promise<(string | OverlongLine)[]> => {
  const out: (string | OverlongLine)[] = [];
  for await (const line of boundedLines(Readable.from(chunks), max)) out.push(line);
  return out;
};

describe('boundedLines: lines with a length bound', () => {
  it('gives a line longer than the bound as its length only, and the lines around it as they are', async () => {
    // Prepare: the long line spans chunks and ends in \r\n split across two of them
    const chunks = ['ok1\nxxxxx', 'xxxxxxxx', 'xx\r', '\nok2\n', 'yyyyyyyyyyyy'];
    // Act
    const lines = await collect(chunks, 10);
    // Assess
    expect(lines).toEqual(['ok1', { overlong: true, length: 15 }, 'ok2', { overlong: true, length: 12 }]);
  });

  it('passes every line within the bound unchanged, however long the input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.stringMatching(/^[ab\r\n]{1,12}$/), { maxLength: 8 }), async (chunks) => {
        const all = await collect(chunks, Infinity);
        const bounded = await collect(chunks, 5);
        expect(bounded).toEqual(all.map((line) => (typeof line === 'string' && line.length > 5 ? { overlong: true, length: line.length } : line)));
      }),
      { numRuns: 1_000 },
    );
  });
});
