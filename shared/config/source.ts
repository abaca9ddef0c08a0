import { ConfigError, type ConfigProblem } from '../errors.ts';

/** A parsed configuration file whose problems point at `file:line:column`. */
interface ConfigSource {
  file: string;
  value: unknown;
  locate(path: readonly PropertyKey[], options?: { key?: string }): { line: number; column: number };
  problem(path: readonly PropertyKey[], message: string, options?: { key?: string }): ConfigProblem;
}

/**
 * The JSON the build writes next to each Lambda bundle from a YAML file it has already
 * validated with line and column (scripts/build.mjs). Parsing it needs no YAML parser; a
 * problem found here can only name the JSON path, so it is reported at line 1 with the path.
 */
const parseJsonSource = (text: string, file: string): ConfigSource => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ file, line: 1, column: 1, message: `not valid JSON: ${(error as Error).message}` }]);
  }
  return {
    file,
    value,
    locate: () => ({ line: 1, column: 1 }),
    problem: (path, message, options) => ({
      file,
      line: 1,
      column: 1,
      message: `${[...path, ...(options?.key === undefined ? [] : [options.key])].map(String).join('.') || '$'}: ${message}`,
    }),
  };
};

export { parseJsonSource };
export type { ConfigSource };
