import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parseJsonSource, type ConfigSource } from '../config/source.ts';

/**
 * Where the Lambdas find the files bundled next to them, how they read them, and their
 * required environment. Kept apart from config-files.ts: that module compiles the routes,
 * which pulls in every target's config schema, and the enrich and watch-members bundles,
 * which only read the accounts file, must not build those schemas at every cold start.
 */
const configPath = (name: string | undefined, fallback: string): string => {
  const file = name ?? fallback;
  return isAbsolute(file) ? file : join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
};

/** JSON (what the build writes) without a YAML parser; `.yml`/`.yaml` (local runs, tests) loads it on demand. */
const readConfigSource = async (file: string): Promise<ConfigSource> => {
  const text = await readFile(file, 'utf8');
  if (file.endsWith('.json')) return parseJsonSource(text, file);
  const { parseYamlSource } = await import('../config/yaml-source.ts');
  return parseYamlSource(text, file);
};

const requireEnv = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is required`);
  return value;
};

export { configPath, readConfigSource, requireEnv };
