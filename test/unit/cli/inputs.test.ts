import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readInputs, splitLines } from '../../../shared/cli/inputs.ts';

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

describe('Replay inputs: NDJSON lines', () => {
  it('splits a stream exactly as readline does (\\n, \\r\\n, lone \\r, breaks across chunk edges)', async () => {
    // Prepare: arbitrary chunkings of text made of the characters that matter (a file stream
    // never yields an empty chunk; readline forgets a pending \r on one)
    const chunkings = fc.array(fc.stringMatching(/^[ab\r\n]{1,8}$/), { maxLength: 6 });
    // Act and assess
    await fc.assert(
      fc.asyncProperty(chunkings, async (chunks) => {
        const expected = await collect(createInterface({ input: Readable.from(chunks), crlfDelay: Infinity }));
        expect(await collect(splitLines(Readable.from(chunks)))).toEqual(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it('numbers lines from 1 counting blank ones, and reports a bad line without stopping', async () => {
    // Prepare: a long line spans several 64 KB read chunks
    const dir = mkdtempSync(join(tmpdir(), 'inputs-'));
    const long = { id: 'long', padding: 'x'.repeat(200_000) };
    writeFileSync(join(dir, 'a.ndjson'), `{"id":"1"}\r\n\n{oops\n${JSON.stringify(long)}\r\n{"id":"5"}`);
    // Act
    const items = await collect(readInputs([join(dir, 'a.ndjson')], dir));
    // Assess
    expect(items.map((item) => item.source)).toEqual(['a.ndjson:1', 'a.ndjson:3', 'a.ndjson:4', 'a.ndjson:5']);
    expect(items[0]!.value).toEqual({ id: '1' });
    expect(items[1]!.error).toMatch(/^invalid JSON/);
    expect(items[2]!.value).toEqual(long);
    expect(items[3]!.value).toEqual({ id: '5' });
  });
});
