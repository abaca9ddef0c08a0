import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendToFile, FILE_IDLE_CLOSE_MS } from '../../../shared/targets/file-appender.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const scratch = mkdtempSync(join(tmpdir(), 'file-appender-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `{"${tag}":${i},"pad":"${'x'.repeat(i % 300)}"}\n`);

describe('appendToFile', () => {
  it('writes every line whole and in the order appended, creating the folder', async () => {
    // Arrange
    const path = join(scratch, 'new/folder/out.ndjson');
    const expected = lines(5_000, 'n');

    // Act
    await Promise.all(expected.map((line) => appendToFile(path, line)));

    // Assess
    expect(readFileSync(path, 'utf8')).toBe(expected.join(''));
  });

  it('keeps lines for different files apart and appends to what a file already holds', async () => {
    // Arrange
    const a = join(scratch, 'a.ndjson');
    const b = join(scratch, 'b.ndjson');
    await appendToFile(a, 'first\n');

    // Act
    await Promise.all([...lines(300, 'a').map((line) => appendToFile(a, line)), ...lines(300, 'b').map((line) => appendToFile(b, line))]);

    // Assess
    expect(readFileSync(a, 'utf8')).toBe(`first\n${lines(300, 'a').join('')}`);
    expect(readFileSync(b, 'utf8')).toBe(lines(300, 'b').join(''));
  });

  it('writes lines appended while an earlier batch is being written, large lines whole', async () => {
    // Arrange: 3 MiB in lines of 64 KiB, half appended after the first write started
    const path = join(scratch, 'burst.ndjson');
    const big = Array.from({ length: 48 }, (_, i) => `${String(i).padStart(4, '0')}${'y'.repeat(65_530)}\n`);

    // Act
    const first = big.slice(0, 24).map((line) => appendToFile(path, line));
    await new Promise((resolve) => setImmediate(resolve));
    const second = big.slice(24).map((line) => appendToFile(path, line));
    await Promise.all([...first, ...second]);

    // Assess
    expect(readFileSync(path, 'utf8')).toBe(big.join(''));
  });

  it('rejects every waiting line with the system error when the file cannot be opened, and recovers after', async () => {
    // Arrange: the path is a folder
    const path = join(scratch, 'is-a-folder');
    mkdirSync(path);

    // Act
    const results = await Promise.allSettled(lines(10, 'f').map((line) => appendToFile(path, line)));
    rmSync(path, { recursive: true });
    await appendToFile(path, 'after\n');

    // Assess
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'ok'))).toEqual(Array(10).fill('EISDIR'));
    expect(readFileSync(path, 'utf8')).toBe('after\n');
  });

  it('creates the file anew when it was deleted while idle (log rotation)', async () => {
    // Arrange
    const path = join(scratch, 'rotated.ndjson');
    await appendToFile(path, 'old\n');
    await sleep(FILE_IDLE_CLOSE_MS * 4);
    rmSync(path);

    // Act
    await appendToFile(path, 'new\n');

    // Assess
    expect(readFileSync(path, 'utf8')).toBe('new\n');
  });
});
