import { readFile } from 'node:fs/promises';
import { RE2JS } from 're2js';
import { ConfigError } from '../errors.ts';
import { useRegexEngine } from '../routing/user-regex.ts';
import { compileRoutesConfig, type CompiledSuppression, type RouterConfig, type TargetConfig } from './compile.ts';
import { parseYamlSource } from './yaml-source.ts';

// The YAML loader (CLI, build, tests) never runs in a Lambda: the regex engine's bytes do not count here.
useRegexEngine(RE2JS);

/** Reading and parsing a routes YAML file; the checks themselves are in compile.ts. */
const loadRoutesFile = async (file: string): Promise<RouterConfig> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ file, line: 1, column: 1, message: `cannot read routes file (${(cause as { code?: string }).code ?? cause})` }], { cause });
  }
  return parseRoutesConfig(text, file);
};

const parseRoutesConfig = (text: string, file: string): RouterConfig => compileRoutesConfig(parseYamlSource(text, file));

export { loadRoutesFile, parseRoutesConfig, compileRoutesConfig };
export type { RouterConfig, TargetConfig, CompiledSuppression };
