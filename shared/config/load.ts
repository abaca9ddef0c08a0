import { open } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import { parseJsonSource, type ConfigSource } from './source.ts';
import type { RoutesDocument } from './ssm-document.ts';

/**
 * A kind of configuration file (routes, accounts): what it is called in errors, where the
 * build bundles it next to each Lambda, and how a parsed source becomes the value. Each kind
 * is declared beside its compiler (config/routes-config.ts, accounts/directory.ts), so a
 * Lambda that loads only the accounts never bundles the routes compiler.
 */
interface ConfigKind<T> {
  /** `routes`, `accounts`: "cannot read routes file". */
  name: string;
  /** The JSON the build writes next to each bundle, and the variable that names another file. */
  bundled: { env: string; file: string };
  /** Loads what compiling this source needs (the routes' linear-time regex engine, for a typeRegex). */
  prepare?(value: unknown): Promise<void>;
  compile(source: ConfigSource): T;
  /** What `config check` also counts as errors; applied to what SSM holds, which no build has checked. */
  strictProblems?(value: T): readonly ConfigProblem[];
}

/**
 * Where a configuration comes from:
 * - `file`: a path a command was given (YAML; `.json` is read as the build's JSON);
 * - `text`: the contents already read, named `file` in errors;
 * - `bundled`: the copy the build put next to the Lambda (`ROUTES_FILE`, `ACCOUNTS_FILE`, or
 *   `routes.json`/`accounts.json` under LAMBDA_TASK_ROOT);
 * - `ssm`: a routes document `config publish` stored at `path`, already decoded
 *   (decodeRoutesDocument); its problems read `ssm:<path>:line:column`.
 */
type ConfigOrigin = { file: string } | { text: string; file: string } | { bundled: true } | { ssm: RoutesDocument; path: string };

/** Far above any real routes or accounts file; a larger one is a wrong path (a log, a disk image), not config. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/**
 * The one way every command and Lambda loads a routes or accounts file. Every problem (an
 * unreadable file, bad YAML or JSON, a schema error) is a ConfigError whose lines read
 * `file:line:column: message`, whoever calls.
 */
const loadConfig = async <T>(kind: ConfigKind<T>, origin: ConfigOrigin): Promise<T> => {
  if ('ssm' in origin) {
    const file = `ssm:${origin.path}`;
    const value = await compile(kind, await parseSource(origin.ssm.yaml, file));
    const problems = kind.strictProblems?.(value) ?? [];
    if (problems.length > 0) throw new ConfigError(problems);
    return value;
  }
  const file = 'bundled' in origin ? configPath(process.env[kind.bundled.env], kind.bundled.file) : origin.file;
  const text = 'text' in origin ? origin.text : await readConfigText(kind.name, file);
  return compile(kind, await parseSource(text, file));
};

const compile = async <T>(kind: ConfigKind<T>, source: ConfigSource): Promise<T> => {
  await kind.prepare?.(source.value);
  return kind.compile(source);
};

/** The build's JSON needs no YAML parser: a Lambda's cold start never loads it. */
const parseSource = async (text: string, file: string): Promise<ConfigSource> => {
  if (file.endsWith('.json')) return parseJsonSource(text, file);
  const { parseYamlSource } = await import('./yaml-source.ts');
  return parseYamlSource(text, file);
};

/** A bundled file named relative to the function's folder (LAMBDA_TASK_ROOT), or the current one locally. */
const configPath = (name: string | undefined, fallback: string): string => {
  const file = name || fallback;
  return isAbsolute(file) ? file : join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
};

/** Reads at most MAX_CONFIG_BYTES; a file that cannot be read is a located problem, not a stack trace. */
const readConfigText = async (what: string, file: string): Promise<string> => {
  const refuse = (message: string, cause?: unknown): never => {
    throw new ConfigError([{ file, line: 1, column: 1, message }], cause === undefined ? undefined : { cause });
  };
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    return refuse(`cannot read ${what} file (${(cause as { code?: string }).code ?? cause})`, cause);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return refuse(`cannot read ${what} file (${stat.isDirectory() ? 'EISDIR' : 'not a regular file'})`);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > MAX_CONFIG_BYTES) return refuse(`${what} file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB: not a ${what} file`);
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    return refuse(`cannot read ${what} file (${(cause as { code?: string }).code ?? cause})`, cause);
  } finally {
    await handle.close();
  }
};

export { configPath, loadConfig, readConfigText };
export type { ConfigKind };
