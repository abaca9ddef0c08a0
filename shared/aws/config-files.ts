import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { loadAccounts, staticAccountDirectory, type AccountDirectory } from '../accounts.ts';
import { parseRoutesConfig, type RouterConfig } from '../config/load.ts';

/**
 * The Lambdas load the routes and accounts files bundled next to them, once per cold
 * start; a bad file fails the init (and so the deploy's smoke test), never one finding.
 */
const configPath = (name: string | undefined, fallback: string): string => {
  const file = name ?? fallback;
  return isAbsolute(file) ? file : join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
};

const loadBundledRoutes = async (): Promise<RouterConfig> => {
  const file = configPath(process.env.ROUTES_FILE, 'routes.yml');
  return parseRoutesConfig(await readFile(file, 'utf8'), file);
};

const loadBundledAccounts = async (): Promise<AccountDirectory> => {
  const file = configPath(process.env.ACCOUNTS_FILE, 'accounts.yml');
  return staticAccountDirectory(loadAccounts(await readFile(file, 'utf8'), file));
};

const requireEnv = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is required`);
  return value;
};

export { loadBundledRoutes, loadBundledAccounts, requireEnv };
