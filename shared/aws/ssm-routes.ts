import type { RouterConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import { ROUTES_CONFIG } from '../config/routes-config.ts';
import { decodeRoutesDocument } from '../config/ssm-document.ts';
import { ConfigError, formatProblem } from '../errors.ts';

/** The routes the route stage runs, and which document they came from. */
interface ActiveRoutes {
  config: RouterConfig;
  sha256: string;
  origin: 'bundled' | 'ssm';
  /** The file `config publish` read (ssm), or the bundled file. */
  source: string;
}

/** Why the published document is not the one running: it failed the checks, or SSM could not be read. */
interface Refusal {
  kind: 'invalid' | 'unreadable';
  /** One line each: `ssm:/path:line:column: message`, or the SDK's error. */
  problems: string[];
}

interface RoutesState {
  active: ActiveRoutes;
  /** Set while the published document (or SSM) is refused: the last good routes stay active. */
  refused: Refusal | undefined;
}

/** The part of a Powertools parameters provider used here (SSMProvider; tests may pass another). */
interface ParameterProvider {
  get(name: string, options: { maxAge: number }): Promise<unknown>;
  addToCache(key: string, value: unknown, maxAge: number): void;
}

interface Reports {
  /** A new document is running (or, after the parameter was deleted, the bundled one again). */
  applied(active: ActiveRoutes, previous: ActiveRoutes): void;
  /** Once per refused value or failed read; the state keeps the refusal until a good document arrives. */
  refused(refusal: Refusal, active: ActiveRoutes): void;
}

/** No parameter at the path: the bundled routes run. SSM refuses empty values, so '' cannot be a real one. */
const NOTHING_PUBLISHED = '';

/**
 * The route stage's routes from an SSM parameter written by `config publish`, read through
 * Powertools Parameters and cached for `maxAgeSeconds`: a publish reaches every warm
 * environment within that time, without a deploy. Each new value is checked with the same
 * function as `config check`; a value that fails (edited by hand in the console, or not
 * written by `config publish`) is refused and the last good routes stay active — the
 * bundled ones at a cold start. A failed read is treated the same way and retried after
 * `maxAgeSeconds`, not at every invocation.
 */
const publishedRoutes = (options: { provider: ParameterProvider; path: string; maxAgeSeconds: number; bundled: ActiveRoutes; reports: Reports }) => {
  const { provider, path, maxAgeSeconds, bundled, reports } = options;
  const where = `ssm:${path}`;
  // Powertools' cache key for a get without a transform (BaseProvider.get: [name, transform]).
  const cacheKey = [path, undefined].toString();
  let state: RoutesState = { active: bundled, refused: undefined };
  let lastSeen: string | undefined;

  const fetchValue = async (): Promise<string | Refusal> => {
    try {
      const value = await provider.get(path, { maxAge: maxAgeSeconds });
      return typeof value === 'string' ? value : NOTHING_PUBLISHED;
    } catch (error) {
      const cause = (error as { cause?: { name?: string } }).cause;
      const value = cause?.name === 'ParameterNotFound' ? NOTHING_PUBLISHED : undefined;
      // Failures are not cached by Powertools; cache what we hold so the next read waits a TTL.
      provider.addToCache(cacheKey, value ?? lastSeen ?? NOTHING_PUBLISHED, maxAgeSeconds);
      if (value !== undefined) return value;
      return { kind: 'unreadable', problems: [`${where}: cannot read the parameter (${(cause as Error | undefined)?.name ?? (error as Error).name}: ${(error as Error).message})`] };
    }
  };

  const apply = async (value: string): Promise<RoutesState> => {
    if (value === NOTHING_PUBLISHED) return { active: bundled, refused: undefined };
    try {
      const document = decodeRoutesDocument(value, where);
      const config = await loadConfig(ROUTES_CONFIG, { ssm: document, path });
      return { active: { config, sha256: document.sha256, origin: 'ssm', source: document.source }, refused: undefined };
    } catch (error) {
      if (error instanceof ConfigError) return { active: state.active, refused: { kind: 'invalid', problems: error.problems.map(formatProblem) } };
      throw error;
    }
  };

  return async (): Promise<RoutesState> => {
    const value = await fetchValue();
    if (typeof value !== 'string') {
      if (state.refused?.kind !== 'unreadable') reports.refused(value, state.active);
      state = { active: state.active, refused: value };
      return state;
    }
    // The same text as last time (the cache, or a republish of it): nothing to check again.
    if (value === lastSeen && state.refused?.kind !== 'unreadable') return state;
    lastSeen = value;
    const previous = state.active;
    state = await apply(value);
    if (state.refused) reports.refused(state.refused, state.active);
    else if (state.active !== previous) reports.applied(state.active, previous);
    return state;
  };
};

export { publishedRoutes };
export type { ActiveRoutes, RoutesState };
