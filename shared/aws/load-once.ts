/**
 * A load (an SDK chunk, a client) run once and shared by every caller; a failed load is not
 * kept, so the next caller tries again.
 */
const loadOnce = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    }));
};

export { loadOnce };
