import { describe, expect, it } from 'vitest';
import { cachedRuntimeSuppressions } from '../../../shared/suppressions/cache.ts';
import { memorySuppressionStore } from '../../../shared/cli/suppressions/memory-store.ts';
import { suppressionFromFinding, type BadSuppressionRow, type SuppressionListing, type SuppressionStore } from '../../../shared/suppressions/model.ts';
import { makeFinding } from '../../helpers/finding-factory.ts';
import { ANALYST, DAY, NOW } from './helpers.ts';

const make = (instanceId: string, days = 7, now = NOW) =>
  suppressionFromFinding(makeFinding({ resource: { resourceType: 'Instance', instanceDetails: { instanceId } } }), { reason: 'known noise', days, actor: ANALYST, now, maxDays: 30 });

/** A store whose list() is counted, and can be made to fail or to return bad rows. */
const observed = (inner: SuppressionStore) => {
  const state = { reads: 0, fail: undefined as Error | undefined, bad: [] as BadSuppressionRow[] };
  const store: Pick<SuppressionStore, 'list'> = {
    list: async (): Promise<SuppressionListing> => {
      state.reads++;
      if (state.fail) throw state.fail;
      const listing = await inner.list();
      return { ...listing, bad: state.bad };
    },
  };
  return { store, state };
};

describe('Function: cachedRuntimeSuppressions', () => {
  it('reads the store once per maxAge and again after it', async () => {
    // Prepare
    const inner = memorySuppressionStore([make('i-1')]);
    const { store, state } = observed(inner);
    let now = NOW;
    const current = cachedRuntimeSuppressions(store, { maxAgeMs: 60_000, now: () => now });
    // Act
    const first = await current();
    await inner.put(make('i-2'));
    now += 59_999;
    const cached = await current();
    now += 1;
    const fresh = await current();
    // Assess
    expect(first).toHaveLength(1);
    expect(cached).toHaveLength(1);
    expect(fresh).toHaveLength(2);
    expect(state.reads).toBe(2);
  });

  it('leaves out expired suppressions when it reads', async () => {
    // Prepare
    const { store } = observed(memorySuppressionStore([make('i-live'), make('i-old', 1, NOW - 2 * DAY)]));
    // Act
    const list = await cachedRuntimeSuppressions(store, { maxAgeMs: 60_000, now: () => NOW })();
    // Assess
    expect(list.map((s) => /resourceId: "(.*)"/.exec(s.conditions[0]!.label)?.[1])).toEqual(['i-live']);
  });

  it('reports bad rows and still applies the good ones', async () => {
    // Prepare
    const { store, state } = observed(memorySuppressionStore([make('i-1')]));
    state.bad = [{ where: 'table t item 2', reason: 'expiresAt: Invalid ISO datetime' }];
    const reported: BadSuppressionRow[][] = [];
    // Act
    const list = await cachedRuntimeSuppressions(store, { maxAgeMs: 60_000, now: () => NOW, reports: { badRows: (bad) => reported.push([...bad]) } })();
    // Assess
    expect(list).toHaveLength(1);
    expect(reported).toEqual([[{ where: 'table t item 2', reason: 'expiresAt: Invalid ISO datetime' }]]);
  });

  it('keeps the last good list when a read fails, reports it, and does not ask again before maxAge', async () => {
    // Prepare
    const { store, state } = observed(memorySuppressionStore([make('i-1')]));
    let now = NOW;
    const failures: { message: string; kept: number }[] = [];
    const current = cachedRuntimeSuppressions(store, { maxAgeMs: 60_000, now: () => now, reports: { readFailed: (error, kept) => failures.push({ message: error.message, kept }) } });
    await current();
    state.fail = new Error('ThrottlingException: Rate exceeded');
    now += 60_000;
    // Act
    const during = await current();
    const soonAfter = await current();
    // Assess
    expect(during).toHaveLength(1);
    expect(soonAfter).toHaveLength(1);
    expect(failures).toEqual([{ message: 'ThrottlingException: Rate exceeded', kept: 1 }]);
    expect(state.reads).toBe(2);
  });

  it('applies none when the very first read fails (fails open)', async () => {
    // Prepare
    const { store, state } = observed(memorySuppressionStore([make('i-1')]));
    state.fail = new Error('AccessDeniedException');
    // Act
    const list = await cachedRuntimeSuppressions(store, { maxAgeMs: 60_000, now: () => NOW })();
    // Assess
    expect(list).toEqual([]);
  });

  it('shares one read between findings routed at the same time', async () => {
    // Prepare
    const { store, state } = observed(memorySuppressionStore([make('i-1')]));
    const current = cachedRuntimeSuppressions(store, { maxAgeMs: 60_000, now: () => NOW });
    // Act
    const lists = await Promise.all([current(), current(), current()]);
    // Assess
    expect(lists.map((l) => l.length)).toEqual([1, 1, 1]);
    expect(state.reads).toBe(1);
  });
});
