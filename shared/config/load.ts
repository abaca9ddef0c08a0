import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import { compileRoutesConfig, type CompiledSuppression, type RouterConfig, type TargetConfig } from './compile.ts';
import { parseYamlSource } from './yaml-source.ts';

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
