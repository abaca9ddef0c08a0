/**
 * Work that must not overtake earlier work with the same key runs in that key's lane, one at
 * a time, in the order it was queued; different keys run side by side. A lane is forgotten
 * once it is idle, so memory follows the work in flight, not the run.
 */
const orderLanes = () => {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run: <T>(key: string, work: () => Promise<T>): Promise<T> => {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(work, work);
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    /** Lanes with work queued or running. */
    busy: (): number => tails.size,
  };
};

type OrderLanes = ReturnType<typeof orderLanes>;

export { orderLanes };
export type { OrderLanes };
