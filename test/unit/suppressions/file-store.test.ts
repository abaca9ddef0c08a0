import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSuppressionStore } from '../../../shared/cli/suppressions/file-store.ts';
import { suppressionFromFinding } from '../../../shared/suppressions/model.ts';
import { makeFinding } from '../../helpers/finding-factory.ts';
import { ANALYST, NOW } from './helpers.ts';

const make = (instanceId: string) =>
  suppressionFromFinding(makeFinding({ resource: { resourceType: 'Instance', instanceDetails: { instanceId } } }), { reason: 'known noise', days: 7, actor: ANALYST, now: NOW, maxDays: 30 });
const fileIn = () => join(mkdtempSync(join(tmpdir(), 'suppressions-file-')), 'suppressions.jsonl');

describe('Function: fileSuppressionStore', () => {
  it('puts, replaces by id, gets, lists and removes; a missing file is empty', async () => {
    // Prepare
    const store = fileSuppressionStore(fileIn());
    const first = make('i-1');
    // Act
    const empty = await store.list();
    await store.put(first);
    await store.put({ ...first, reason: 'renewed' });
    await store.put(make('i-2'));
    const got = await store.get(first.id);
    const removed = await store.remove(first.id);
    const removedAgain = await store.remove(first.id);
    const left = await store.list();
    // Assess
    expect(empty).toEqual({ suppressions: [], bad: [] });
    expect(got?.reason).toBe('renewed');
    expect(removed).toBe(true);
    expect(removedAgain).toBe(false);
    expect(left.suppressions.map((s) => s.conditions.resourceId)).toEqual(['i-2']);
  });

  it('reports each bad line with its line number and keeps reading the others', async () => {
    // Prepare
    const file = fileIn();
    const good = make('i-1');
    const tampered = { ...make('i-2'), conditions: { ...make('i-2').conditions, resourceId: 'i-other' } };
    writeFileSync(file, `${JSON.stringify(good)}\n{not json\n${JSON.stringify({ ...make('i-3'), expiresAt: 'next week' })}\n${JSON.stringify(tampered)}\n`);
    appendFileSync(file, `${JSON.stringify(make('i-4'))}\n`);
    // Act
    const listing = await fileSuppressionStore(file).list();
    // Assess
    expect(listing.suppressions.map((s) => s.conditions.resourceId)).toEqual(['i-1', 'i-4']);
    expect(listing.bad.map((b) => b.where.replace(file, 'F'))).toEqual(['F:2', `F:3 (id "${make('i-3').id}")`, `F:4 (id "${tampered.id}")`]);
    expect(listing.bad[1]!.reason).toContain('expiresAt');
    expect(listing.bad[2]!.reason).toContain('is not the id of its conditions');
  });

  it('refuses to rewrite a file with bad lines rather than drop them', async () => {
    // Prepare
    const file = fileIn();
    writeFileSync(file, `${JSON.stringify(make('i-1'))}\n{broken\n`);
    // Act
    const attempt = fileSuppressionStore(file).put(make('i-2'));
    // Assess
    await expect(attempt).rejects.toThrow(/:2: not a JSON object; fix or delete that line first/);
    expect(readFileSync(file, 'utf8')).toContain('{broken');
  });
});
