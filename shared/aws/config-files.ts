import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { compileAccounts, staticAccountDirectory, type AccountDirectory } from '../accounts/directory.ts';
import { compileRoutesConfig, type RouterConfig } from '../config/compile.ts';
import { parseJsonSource, type ConfigSource } from '../config/source.ts';

/**
 * The Lambdas load the routes and accounts files bundled next to them, once per cold
 * start; a bad file fails the init (and so the deploy's smoke test), never one finding.
 * The build validates the YAML files (file:line:column) and bundles them as JSON, which
 * needs no YAML parser at cold start; a `.yml`/`.yaml` file (local runs, tests) still
 * works and loads the YAML parser on demand.
 */
const configPath = (name: string | undefined, fallback: string): string => {
  const file = name ?? fallback;
  return isAbsolute(file) ? file : join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
};

const readConfigSource = async (file: string): Promise<ConfigSource> => {
  const text = await readFile(file, 'utf8');
  if (file.endsWith('.json')) return parseJsonSource(text, file);
  const { parseYamlSource } = await import('../config/yaml-source.ts');
  return parseYamlSource(text, file);
};

const loadBundledRoutes = async (): Promise<RouterConfig> =>
  compileRoutesConfig(await readConfigSource(configPath(process.env.ROUTES_FILE, 'routes.json')));

const loadBundledAccounts = async (): Promise<AccountDirectory> =>
  staticAccountDirectory(compileAccounts(await readConfigSource(configPath(process.env.ACCOUNTS_FILE, 'accounts.json'))));

const requireEnv = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is required`);
  return value;
};

export { configPath, loadBundledRoutes, loadBundledAccounts, readConfigSource, requireEnv };
