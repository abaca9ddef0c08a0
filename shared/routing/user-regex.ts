import type { RE2JS } from 're2js';

/**
 * Regular expressions written in the routes file (`typeRegex`) run on finding-derived text,
 * so they run on RE2 (re2js), whose matching is linear in the input: no pattern/input pair
 * can hang the router the way `^([\w:/]+)+$` hangs JavaScript's backtracking engine. The
 * price is RE2's syntax: no backreferences, no lookaround.
 *
 * The engine is ~150 kB that most routes files never use, so the Lambdas load it (a chunk of
 * their bundle) only for a file that has a `typeRegex` (`loadRegexEngineFor`); the CLI, which
 * parses YAML and does not count cold-start bytes, registers it statically (shared/cli/config/parse.ts).
 */
type RegexEngine = typeof RE2JS;

class UserRegexError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserRegexError';
  }
}

let engine: RegexEngine | undefined;

const useRegexEngine = (re2: RegexEngine): void => {
  engine = re2;
};

const loadRegexEngine = async (): Promise<void> => {
  engine ??= (await import('re2js')).RE2JS;
};

/** Loads the engine when a parsed routes file (any shape) uses a `typeRegex` anywhere. */
const loadRegexEngineFor = async (routesFile: unknown): Promise<void> => {
  if (usesUserRegex(routesFile)) await loadRegexEngine();
};

const usesUserRegex = (value: unknown): boolean => {
  if (Array.isArray(value)) return value.some(usesUserRegex);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, inner]) => key === 'typeRegex' || usesUserRegex(inner));
};

/** What RE2 leaves out, named so the config error says why instead of quoting RE2's parser. */
const UNSUPPORTED: readonly [RegExp, string][] = [
  [/\\[1-9]|\\k</, 'backreferences are'],
  [/\(\?<?[=!]/, 'lookaround (lookahead, lookbehind) is'],
];

/** Compiled once at config load; `test` is unanchored, like RegExp.prototype.test. */
const compileUserRegex = (pattern: string): RE2JS => {
  if (engine === undefined) throw new UserRegexError('internal: the regex engine is not loaded (call loadRegexEngineFor before compiling the routes file)');
  try {
    return engine.compile(pattern);
  } catch (cause) {
    const unsupported = UNSUPPORTED.find(([syntax]) => syntax.test(pattern));
    if (unsupported) {
      throw new UserRegexError(`Invalid regular expression: ${unsupported[1]} not supported (patterns run on RE2, which matches in linear time)`, { cause });
    }
    const detail = ((cause as Error).message ?? String(cause)).replace(/^error parsing regexp: /, '');
    throw new UserRegexError(`Invalid regular expression (RE2 syntax): ${detail}`, { cause });
  }
};

export { compileUserRegex, loadRegexEngineFor, useRegexEngine };
