import { describe, expect, it } from 'vitest';
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { memoryRunOnce } from '../../../shared/delivery/idempotency.ts';
import { boundedMap } from '../../../shared/bounded-map.ts';

describe('memoryRunOnce (replay: Powertools semantics in memory)', () => {
  it('runs a key once; a repeat returns the stored outcome as a duplicate', async () => {
    const once = memoryRunOnce();
    let runs = 0;
    const run = async () => ({ status: 'delivered' as const, attempts: ++runs });
    const first = await once('k', run);
    const second = await once('k', run);
    expect(runs).toBe(1);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ ...first, duplicate: true });
    expect((await once('other', run)).attempts).toBe(2);
  });

  it('a run that throws leaves no record: the next try runs again', async () => {
    const once = memoryRunOnce();
    await expect(once('k', async () => { throw new Error('receiver down'); })).rejects.toThrow('receiver down');
    expect(await once('k', async () => ({ status: 'rendered' as const, attempts: 1 }))).toMatchObject({ status: 'rendered', duplicate: false });
  });

  it('a key still in progress throws IdempotencyAlreadyInProgressError, like Powertools', async () => {
    const once = memoryRunOnce();
    let release!: () => void;
    const pending = once('k', () => new Promise((resolve) => { release = () => resolve({ status: 'delivered', attempts: 1 }); }));
    await expect(once('k', async () => ({ status: 'delivered' as const, attempts: 1 }))).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
    release();
    expect((await pending).duplicate).toBe(false);
  });

  it('remembers at least maxEntries most recent keys; older ones run again', async () => {
    const once = memoryRunOnce({ maxEntries: 8 });
    let runs = 0;
    const run = async () => ({ status: 'delivered' as const, attempts: ++runs });
    for (let i = 0; i < 100; i++) await once(`k${i}`, run);
    for (let i = 92; i < 100; i++) expect((await once(`k${i}`, run)).duplicate).toBe(true);
    expect((await once('k0', run)).duplicate).toBe(false);
  });
});

describe('boundedMap', () => {
  it('keeps at least the newest maxEntries keys and at most an eighth more', () => {
    const map = boundedMap<number, number>(80);
    for (let i = 0; i < 10_000; i++) {
      map.set(i, i);
      expect(map.size).toBeLessThanOrEqual(90);
    }
    for (let i = 10_000 - 80; i < 10_000; i++) expect(map.get(i)).toBe(i);
    expect(map.has(0)).toBe(false);
  });

  it('a rewrite makes a key the newest', () => {
    const map = boundedMap<string, number>(4);
    for (const key of ['a', 'b', 'c', 'd']) map.set(key, 1);
    map.set('a', 2);
    map.set('e', 1);
    map.set('f', 1);
    expect([map.has('b'), map.has('c'), map.get('a'), map.has('d')]).toEqual([false, false, 2, true]);
  });
});
