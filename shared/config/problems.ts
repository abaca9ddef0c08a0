import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type { ConfigProblem } from '../errors.ts';
import type { ConfigSource } from './source.ts';
import { suggest } from './suggest.ts';

z.config(en());

/** Turns zod issues into located problems; unknown keys get a did-you-mean. */
const zodProblems = (
  error: z.core.$ZodError,
  source: ConfigSource,
  knownKeys: readonly string[] = [],
  base: readonly PropertyKey[] = [],
): ConfigProblem[] =>
  error.issues.flatMap((raw) => {
    const issue = { ...raw, path: [...base, ...raw.path] };
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const hint = suggest(key, knownKeys);
        return source.problem(issue.path, `unknown key '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}`, { key });
      });
    }
    if (issue.code === 'invalid_key') {
      const key = String(issue.path.at(-1));
      const inner = issue.issues[0]?.message ?? issue.message;
      return [source.problem(issue.path.slice(0, -1), `key '${key}': ${inner}`, { key })];
    }
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return [source.problem(issue.path, `${where}${issue.message}`)];
  });

export { zodProblems };
