import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FindingsRouterError } from '../errors.ts';

/**
 * A mistake in what the user typed (a flag combination, a path that does not exist, an output
 * that cannot be written): main.ts prints its message as one line and exits 2.
 */
class UsageError extends FindingsRouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

const codeOf = (error: unknown): string => (error as { code?: string }).code ?? String(error);

const statOrUndefined = (path: string) => stat(path).catch(() => undefined);

/** The nearest folder that exists on the way up from `path` (itself included when it is one). */
const nearestExistingFolder = async (path: string): Promise<string> => {
  let current = resolve(path);
  for (;;) {
    const info = await statOrUndefined(current);
    if (info !== undefined) return current;
    const parent = dirname(current);
    if (parent === current) return current;
    current = parent;
  }
};

const writableFolder = async (folder: string): Promise<boolean> =>
  access(folder, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );

/**
 * Checks, before any work starts, that a file can be written where `option` says: not a
 * folder, and its folder exists and is writable. A replay of a million findings must not fail
 * at its very end because `--report` names a folder that does not exist.
 */
const checkOutputFile = async (option: string, file: string): Promise<void> => {
  const info = await statOrUndefined(file);
  if (info?.isDirectory()) throw new UsageError(`${option} ${file}: is a folder; give a file name`);
  if (info !== undefined) {
    if (!(await access(file, constants.W_OK).then(() => true, () => false))) throw new UsageError(`${option} ${file}: not writable (permission denied)`);
    return;
  }
  const folder = dirname(resolve(file));
  const folderInfo = await statOrUndefined(folder);
  if (folderInfo === undefined) throw new UsageError(`${option} ${file}: the folder ${dirname(file)} does not exist`);
  if (!folderInfo.isDirectory()) throw new UsageError(`${option} ${file}: ${dirname(file)} is not a folder`);
  if (!(await writableFolder(folder))) throw new UsageError(`${option} ${file}: cannot write in ${dirname(file)} (permission denied)`);
};

/** Checks that `folder` is a folder, or can be created (its nearest existing ancestor is a writable folder). */
const checkOutputFolder = async (option: string, folder: string): Promise<void> => {
  const info = await statOrUndefined(folder);
  if (info !== undefined && !info.isDirectory()) throw new UsageError(`${option} ${folder}: is a file, not a folder`);
  const existing = await nearestExistingFolder(folder);
  const existingInfo = await statOrUndefined(existing);
  if (!existingInfo?.isDirectory()) throw new UsageError(`${option} ${folder}: ${existing} is a file, not a folder`);
  if (!(await writableFolder(existing))) throw new UsageError(`${option} ${folder}: cannot write in ${existing} (permission denied)`);
};

/** Every input path the user named must exist (`-` is standard input); a typo stops the run before it starts. */
const checkInputPaths = async (paths: readonly string[]): Promise<void> => {
  for (const path of paths) {
    if (path === '-') continue;
    try {
      await stat(path);
    } catch (error) {
      const code = codeOf(error);
      const why = code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'a part of the path is not a folder' : `cannot read (${code})`;
      throw new UsageError(`${path}: ${why}`, { cause: error });
    }
  }
};

export { UsageError, checkOutputFile, checkOutputFolder, checkInputPaths };
