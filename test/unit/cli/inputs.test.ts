import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS, readInputs, splitLines, type InputItem } from '../../../shared/cli/inputs.ts';

/** Each item as [source, error or finding id]. */
const sources = (items: InputItem[]) => items.map((item) => [item.source, item.error ?? (item.value as { id?: string }).id]);
const wireFindings = (JSON.parse(readFileSync(new URL('../../events/api/get-findings.wire.json', import.meta.url), 'utf8')) as { findings: object[] }).findings;

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

describe('Replay inputs: files that are not plain files', () => {
  const finding = (id: string) => JSON.stringify({ ...wireFindings[0], id });

  it('refuses a FIFO, a unix socket and a device given as paths, without opening them, and reads the file beside them', async () => {
    // Prepare: a real FIFO (opening it would wait for a writer forever) and a listening socket
    const dir = mkdtempSync(join(tmpdir(), 'inputs-special-'));
    execFileSync('mkfifo', [join(dir, 'pipe.jsonl')]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'socket.json'), resolve));
    writeFileSync(join(dir, 'good.jsonl'), `${finding('good')}\n`);
    try {
      // Act
      const items = await collect(readInputs(['pipe.jsonl', 'socket.json', '/dev/zero', 'good.jsonl'].map((name) => (name.startsWith('/') ? name : join(dir, name))), dir));
      // Assess
      expect(sources(items)).toEqual([
        ['pipe.jsonl', 'pipe.jsonl: refused: a FIFO (named pipe), not a file: opening it would wait for a writer'],
        ['socket.json', 'socket.json: refused: a socket, not a file'],
        ['/dev/zero', '/dev/zero: refused: a device, not a file (it may never end)'],
        ['good.jsonl:1', 'good'],
      ]);
    } finally {
      server.close();
    }
  });

  it('refuses a FIFO found in a folder by its name, and reads the rest of the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inputs-special-'));
    execFileSync('mkfifo', [join(dir, 'b.jsonl')]);
    writeFileSync(join(dir, 'a.jsonl'), `${finding('a')}\n`);
    writeFileSync(join(dir, 'c.jsonl'), `${finding('c')}\n`);
    expect(sources(await collect(readInputs([dir], dir)))).toEqual([
      ['a.jsonl:1', 'a'],
      ['b.jsonl', 'b.jsonl: refused: a FIFO (named pipe), not a file: opening it would wait for a writer'],
      ['c.jsonl:1', 'c'],
    ]);
  });

  it('reports symlink loops with their path, follows symlinked files in a folder once, and goes on', async () => {
    // Prepare: a self-loop given as a path and inside the folder, a folder link back to an ancestor,
    // two links to one file outside the folder, a link to a file inside it, a missing path
    const outside = mkdtempSync(join(tmpdir(), 'inputs-outside-'));
    writeFileSync(join(outside, 'x.json'), finding('outside'));
    const dir = mkdtempSync(join(tmpdir(), 'inputs-links-'));
    mkdirSync(join(dir, 'folder', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'folder', 'own.json'), finding('own'));
    symlinkSync('loop', join(dir, 'loop'));
    symlinkSync('loop.json', join(dir, 'folder', 'loop.json'));
    symlinkSync('..', join(dir, 'folder', 'sub', 'up'));
    symlinkSync(join(outside, 'x.json'), join(dir, 'folder', 'link-1.json'));
    symlinkSync(join(outside, 'x.json'), join(dir, 'folder', 'link-2.json'));
    symlinkSync('own.json', join(dir, 'folder', 'same-as-own.json'));
    // Act
    const items = await collect(readInputs([join(dir, 'loop'), join(dir, 'missing.json'), join(dir, 'folder')], dir));
    // Assess
    expect(sources(items)).toEqual([
      ['loop', 'loop: symlink loop (too many levels of symbolic links): not read'],
      ['missing.json', 'missing.json: no such file or folder (or a symlink whose target does not exist)'],
      ['folder/link-1.json', 'outside'],
      ['folder/loop.json', 'folder/loop.json: symlink loop (too many levels of symbolic links): not read'],
      ['folder/own.json', 'own'],
      ['folder/sub/up', 'folder/sub/up: symlink loop (links back to a folder that contains it): not followed'],
    ]);
  });

  it('rejects a line longer than 16 MiB with its source and line, and reads the lines after it', async () => {
    // Prepare: what ended the run with RangeError before, made bounded: one line just over the bound
    const dir = mkdtempSync(join(tmpdir(), 'inputs-long-'));
    const over = MAX_LINE_CHARS + 1;
    writeFileSync(join(dir, 'big.jsonl'), `${finding('first')}\n"${'x'.repeat(over - 2)}"\n${finding('after')}\n`);
    // Act
    const items = await collect(readInputs([join(dir, 'big.jsonl')], dir));
    // Assess
    expect(sources(items)).toEqual([
      ['big.jsonl:1', 'first'],
      ['big.jsonl:2', `big.jsonl:2: line longer than 16 MiB (${(over / 1024 / 1024).toFixed(1)} MiB): skipped`],
      ['big.jsonl:3', 'after'],
    ]);
  });
});

describe('Replay inputs: gzip and the S3 export layout', () => {
  const line = (id: string) => `${JSON.stringify({ ...wireFindings[1], id })}\n`;

  it('reads an export-style folder of .jsonl.gz objects in path order, and .json.gz arrays', async () => {
    // Prepare: AWSLogs/<account>/GuardDuty/<region>/<yyyy>/<mm>/<dd>/<uuid>.jsonl.gz, as the publishing destination writes them
    const dir = mkdtempSync(join(tmpdir(), 'inputs-export-'));
    const day = (region: string, date: string) => {
      const path = join(dir, 'AWSLogs', '123456789012', 'GuardDuty', region, ...date.split('-'));
      mkdirSync(path, { recursive: true });
      return path;
    };
    writeFileSync(join(day('us-east-1', '2026-11-30'), 'b1.jsonl.gz'), gzipSync(line('e1') + line('e2')));
    writeFileSync(join(day('us-east-1', '2026-12-01'), 'a2.jsonl.gz'), gzipSync(line('e3')));
    writeFileSync(join(day('eu-west-1', '2026-12-01'), 'c3.jsonl.gz'), Buffer.concat([gzipSync(line('w1')), gzipSync(line('w2'))]));
    writeFileSync(join(dir, 'array.json.gz'), gzipSync(JSON.stringify([JSON.parse(line('j0')), JSON.parse(line('j1'))])));
    writeFileSync(join(dir, 'ignored.txt.gz'), gzipSync('not an input'));
    // Act
    const items = await collect(readInputs([dir], dir));
    // Assess
    expect(sources(items)).toEqual([
      ['AWSLogs/123456789012/GuardDuty/eu-west-1/2026/12/01/c3.jsonl.gz:1', 'w1'],
      ['AWSLogs/123456789012/GuardDuty/eu-west-1/2026/12/01/c3.jsonl.gz:2', 'w2'],
      ['AWSLogs/123456789012/GuardDuty/us-east-1/2026/11/30/b1.jsonl.gz:1', 'e1'],
      ['AWSLogs/123456789012/GuardDuty/us-east-1/2026/11/30/b1.jsonl.gz:2', 'e2'],
      ['AWSLogs/123456789012/GuardDuty/us-east-1/2026/12/01/a2.jsonl.gz:1', 'e3'],
      ['array.json.gz[0]', 'j0'],
      ['array.json.gz[1]', 'j1'],
    ]);
  });

  it('reports a truncated gzip and a .gz that is not gzip with their source, after the events read before, and goes on', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'inputs-badgz-'));
    const whole = gzipSync(line('t1') + line('t2') + 'x'.repeat(100_000));
    writeFileSync(join(dir, 'a-truncated.jsonl.gz'), whole.subarray(0, whole.length - 40));
    writeFileSync(join(dir, 'b-plain.jsonl.gz'), line('plain'));
    writeFileSync(join(dir, 'c-good.jsonl.gz'), gzipSync(line('good')));
    // Act
    const items = await collect(readInputs([dir], dir));
    // Assess
    expect(sources(items)).toEqual([
      ['a-truncated.jsonl.gz:1', 't1'],
      ['a-truncated.jsonl.gz:2', 't2'],
      ['a-truncated.jsonl.gz', 'a-truncated.jsonl.gz: truncated gzip data (unexpected end of file) after line 2; the events before it were read'],
      ['b-plain.jsonl.gz', 'b-plain.jsonl.gz: not gzip data (it does not start with the gzip magic bytes 1f 8b)'],
      ['c-good.jsonl.gz:1', 'good'],
    ]);
  });

  it('bounds the decompressed line, not the compressed bytes: a gzip bomb line is rejected and the next line read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inputs-bomb-'));
    writeFileSync(join(dir, 'bomb.jsonl.gz'), gzipSync(`${'0'.repeat(MAX_LINE_CHARS + 10)}\n${line('after')}`));
    const items = await collect(readInputs([join(dir, 'bomb.jsonl.gz')], dir));
    expect(items.map((item) => item.source)).toEqual(['bomb.jsonl.gz:1', 'bomb.jsonl.gz:2']);
    expect(items[0]!.error).toMatch(/^bomb\.jsonl\.gz:1: line longer than 16 MiB/);
    expect((items[1]!.value as { id: string }).id).toBe('after');
  });
});

describe('Replay inputs: names', () => {
  it('escapes control characters in a file name, which goes into terminal output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inputs-names-'));
    writeFileSync(join(dir, 'evil\u001b[2J\nname.json'), JSON.stringify({ ...wireFindings[0], id: 'n' }));
    expect(sources(await collect(readInputs([dir], dir)))).toEqual([['evil\\u001b[2J\\u000aname.json', 'n']]);
  });
});
