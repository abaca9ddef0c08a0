import { ConfigError, type ConfigProblem } from '../../errors.ts';
import type { RouterConfig } from '../../config/compile.ts';
import { loadConfig } from '../../config/load.ts';
import { ROUTES_CONFIG } from '../../config/routes-config.ts';

interface RoutesCheck {
  /** Undefined when the file does not even compile. */
  config: RouterConfig | undefined;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

/**
 * What `config check` checks, as one function: `config check` and `config publish` call it on
 * a file, and the route stage reading a published document loads it with the same strict
 * problems (loadConfig's `ssm` origin), so they cannot disagree about a file. Everything the
 * loader checks, plus what only a whole-file look can see (routes shadowed by an earlier
 * catch-all sibling, jurisdiction leaks) as errors; expired suppressions as warnings.
 * `file` names the file in every problem (`file:line:column: message`).
 */
const checkRoutesText = async (text: string, file: string, now = Date.now()): Promise<RoutesCheck> => {
  let config: RouterConfig;
  try {
    config = await loadConfig(ROUTES_CONFIG, { text, file });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { config: undefined, errors: [...error.problems], warnings: [] };
  }
  const warnings: ConfigProblem[] = [...config.warnings];
  for (const s of config.suppressions) {
    if (s.untilMs !== undefined && s.untilMs < now) {
      warnings.push({ file: config.file, ...s.location, message: `suppression '${s.name}' expired on ${new Date(s.untilMs).toISOString()} and no longer applies${s.owner ? ` (owner ${s.owner})` : ''}` });
    }
  }
  return { config, errors: [...ROUTES_CONFIG.strictProblems!(config)], warnings };
};

export { checkRoutesText };
export type { RoutesCheck };
