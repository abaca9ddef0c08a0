import type { RuntimeSuppression, SuppressionStore } from '../../suppressions/model.ts';

/** A store in memory: tests, `actions simulate`, and the file store's working copy. */
const memorySuppressionStore = (initial: readonly RuntimeSuppression[] = []): SuppressionStore => {
  const byId = new Map(initial.map((s) => [s.id, s] as const));
  return {
    put: async (suppression) => {
      byId.set(suppression.id, structuredClone(suppression));
    },
    get: async (id) => {
      const found = byId.get(id);
      return found === undefined ? undefined : structuredClone(found);
    },
    list: async () => ({ suppressions: [...byId.values()].map((s) => structuredClone(s)), bad: [] }),
    remove: async (id) => byId.delete(id),
  };
};

export { memorySuppressionStore };
