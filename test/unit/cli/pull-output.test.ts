import { mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFindingsFile, OutputError } from '../../../shared/cli/pull/output.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'pull-output-'));

describe('pull output file', () => {
  it('writes to a hidden partial file, 0600, and replaces the target only on commit', async () => {
    // Prepare
    const cwd = dir();
    const target = join(cwd, 'findings.jsonl');
    writeFileSync(target, 'old\n');
    // Act
    const file = await openFindingsFile(target);
    await file.write(['{"id":"a"}', '{"id":"b"}']);
    const during = { target: readFileSync(target, 'utf8'), entries: readdirSync(cwd).sort() };
    await file.commit();
    // Assess
    expect(during.target).toBe('old\n');
    expect(during.entries).toEqual([`.findings.jsonl.partial-${process.pid}`, 'findings.jsonl']);
    expect(readFileSync(target, 'utf8')).toBe('{"id":"a"}\n{"id":"b"}\n');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(cwd)).toEqual(['findings.jsonl']);
  });

  it('abort leaves the old file as it was and no partial file', async () => {
    // Prepare
    const cwd = dir();
    const target = join(cwd, 'findings.jsonl');
    writeFileSync(target, 'old\n');
    // Act
    const file = await openFindingsFile(target);
    await file.write(['{"id":"a"}']);
    await file.abort();
    // Assess
    expect(readdirSync(cwd)).toEqual(['findings.jsonl']);
    expect(readFileSync(target, 'utf8')).toBe('old\n');
  });

  it('follows a symlink: the file it names is replaced, the link stays', async () => {
    // Prepare
    const cwd = dir();
    writeFileSync(join(cwd, 'real.jsonl'), 'old\n');
    symlinkSync(join(cwd, 'real.jsonl'), join(cwd, 'link.jsonl'));
    // Act
    const file = await openFindingsFile(join(cwd, 'link.jsonl'));
    await file.write(['{"id":"a"}']);
    await file.commit();
    // Assess
    expect(readFileSync(join(cwd, 'real.jsonl'), 'utf8')).toBe('{"id":"a"}\n');
    expect(readdirSync(cwd).sort()).toEqual(['link.jsonl', 'real.jsonl']);
  });

  it('refuses a directory and a missing folder with one line', async () => {
    // Prepare
    const cwd = dir();
    // Act
    const directory = openFindingsFile(cwd);
    const missing = openFindingsFile(join(cwd, 'no', 'such.jsonl'));
    // Assess
    await expect(directory).rejects.toThrow(new OutputError(`${cwd}: is a directory; -o takes a file name`));
    await expect(missing).rejects.toThrow(new OutputError(`${join(cwd, 'no', 'such.jsonl')}: cannot write in ${join(cwd, 'no')} (ENOENT)`));
  });
});
