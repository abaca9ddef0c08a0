import { compileAccounts, staticAccountDirectory, type AccountDirectory } from '../accounts/directory.ts';
import { compileRoutesConfig, type RouterConfig } from '../config/compile.ts';
import { loadRegexEngineFor } from '../routing/user-regex.ts';
import { configPath, readConfigSource, requireEnv } from './config-source.ts';

/**
 * The Lambdas load the routes and accounts files bundled next to them, once per cold
 * start; a bad file fails the init (and so the deploy's smoke test), never one finding.
 * The build validates the YAML files (file:line:column) and bundles them as JSON, which
 * needs no YAML parser at cold start; a `.yml`/`.yaml` file (local runs, tests) still
 * works and loads the YAML parser on demand. Functions that need no routes import
 * config-source.ts instead (this module pulls in every target's config schema).
 */
const loadBundledRoutes = async (): Promise<RouterConfig> => {
  const source = await readConfigSource(configPath(process.env.ROUTES_FILE, 'routes.json'));
  // The linear-time regex engine is a lazily loaded chunk: only files with a typeRegex pay for it.
  await loadRegexEngineFor(source.value);
  return compileRoutesConfig(source);
};

const loadBundledAccounts = async (): Promise<AccountDirectory> =>
  staticAccountDirectory(compileAccounts(await readConfigSource(configPath(process.env.ACCOUNTS_FILE, 'accounts.json'))));

export { configPath, loadBundledRoutes, loadBundledAccounts, readConfigSource, requireEnv };
