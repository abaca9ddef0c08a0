import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';

/**
 * The files a list of input paths names: files as given, folders walked (sorted, symlinks
 * followed once, loops reported). Only regular files are ever returned: a FIFO would block
 * the run on open, a device (`/dev/zero`) never ends, a socket cannot be read; each is
 * refused with a reason. A path that cannot be read is a problem on its own: the others go on.
 */
type InputFile = { path: string; name: string; format: InputFormat };
type InputProblem = { source: string; error: string };
type InputFormat = { gzip: boolean; lines: boolean };
/** Told of each file a folder walk leaves out (not an input extension), or a file found to be binary. */
type OnSkipped = (name: string, why: string) => void;

/** Extensions a folder walk picks up; a file given by name is read whatever its name. */
const FOLDER_EXTENSIONS = ['.json', '.jsonl', '.ndjson', '.json.gz', '.jsonl.gz', '.ndjson.gz'];

const formatOf = (path: string): InputFormat => {
  const gzip = path.endsWith('.gz');
  const inner = gzip ? path.slice(0, -'.gz'.length) : path;
  return { gzip, lines: inner.endsWith('.jsonl') || inner.endsWith('.ndjson') };
};

const picked = (name: string): boolean => FOLDER_EXTENSIONS.some((extension) => name.endsWith(extension));

async function* inputFiles(paths: readonly string[], cwd = process.cwd(), onSkipped?: OnSkipped): AsyncGenerator<InputFile | InputProblem> {
  const seen = new Set<string>(); // files read by a folder walk (dev:ino): a file and a link to it are read once
  for (const path of paths) {
    const name = displayName(cwd, path);
    const info = await statOrProblem(path, name);
    if ('error' in info) yield info;
    else if (info.isDirectory()) yield* await walkFolder(path, info, cwd, seen, onSkipped);
    else if (info.isFile()) yield { path, name, format: formatOf(path) };
    else yield { source: name, error: refusal(name, info) };
  }
}

/** A folder's files and problems, in path order (as one sorted listing would give them). */
const walkFolder = async (root: string, rootInfo: Stats, cwd: string, seen: Set<string>, onSkipped?: OnSkipped): Promise<(InputFile | InputProblem)[]> => {
  const found: { path: string; item: InputFile | InputProblem }[] = [];
  const add = (path: string, item: InputFile | InputProblem) => found.push({ path, item });
  const nameOf = (path: string) => displayName(cwd, path);
  const visited = new Set<string>([identity(rootInfo)]);

  const walk = async (dir: string, ancestors: readonly string[]): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      add(dir, { source: nameOf(dir), error: `${nameOf(dir)}: cannot list this folder (${codeOf(error)})` });
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const info = await stat(path).catch(() => undefined);
        if (info === undefined || visited.has(identity(info))) continue;
        visited.add(identity(info));
        await walk(path, [...ancestors, identity(info)]);
      } else if (entry.isFile()) {
        if (!picked(entry.name)) {
          onSkipped?.(nameOf(path), `not ${FOLDER_EXTENSIONS.join(', ')}`);
          continue;
        }
        const info = await stat(path).catch(() => undefined);
        if (info !== undefined && !firstTime(seen, info)) continue;
        add(path, { path, name: nameOf(path), format: formatOf(path) });
      } else if (entry.isSymbolicLink()) {
        const info = await statOrProblem(path, nameOf(path));
        if ('error' in info) {
          // A loop may be a folder's link: always worth saying. A dangling link only when it names an input file.
          if (info.error.includes('symlink loop') || picked(entry.name)) add(path, info);
        } else if (info.isDirectory()) {
          const id = identity(info);
          if (ancestors.includes(id)) add(path, { source: nameOf(path), error: `${nameOf(path)}: symlink loop (links back to a folder that contains it): not followed` });
          else if (!visited.has(id)) {
            visited.add(id);
            await walk(path, [...ancestors, id]);
          }
        } else if (picked(entry.name)) {
          if (!info.isFile()) add(path, { source: nameOf(path), error: refusal(nameOf(path), info) });
          else if (firstTime(seen, info)) add(path, { path, name: nameOf(path), format: formatOf(path) });
        }
      } else if (picked(entry.name)) {
        const info = await statOrProblem(path, nameOf(path));
        add(path, { source: nameOf(path), error: 'error' in info ? info.error : refusal(nameOf(path), info) });
      }
    }
  };
  await walk(root, [identity(rootInfo)]);
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => f.item);
};

/**
 * A path as the user will recognise it: relative to the working folder when inside it, else as
 * given. Control characters in a file name are escaped: the name goes into terminal output.
 */
const displayName = (cwd: string, path: string): string => {
  const inside = relative(cwd, path);
  const shown = inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside) ? path : inside;
  return shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
};

const identity = (info: Stats): string => `${info.dev}:${info.ino}`;

const firstTime = (seen: Set<string>, info: Stats): boolean => {
  const id = identity(info);
  if (seen.has(id)) return false;
  seen.add(id);
  return true;
};

const statOrProblem = async (path: string, name: string): Promise<Stats | InputProblem> => {
  try {
    return await stat(path);
  } catch (error) {
    return { source: name, error: `${name}: ${statProblem(error)}` };
  }
};

const statProblem = (error: unknown): string => {
  switch (codeOf(error)) {
    case 'ELOOP':
      return 'symlink loop (too many levels of symbolic links): not read';
    case 'ENOENT':
      return 'no such file or folder (or a symlink whose target does not exist)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'no such file (a part of the path is not a folder)';
    case 'ENAMETOOLONG':
      return 'file name too long';
    default:
      return `cannot read (${codeOf(error)})`;
  }
};

/** Why a path that is not a regular file is not opened. */
const refusal = (name: string, info: Stats): string => {
  if (info.isFIFO()) return `${name}: refused: a FIFO (named pipe), not a file: opening it would wait for a writer`;
  if (info.isSocket()) return `${name}: refused: a socket, not a file`;
  if (info.isCharacterDevice() || info.isBlockDevice()) return `${name}: refused: a device, not a file (it may never end)`;
  return `${name}: refused: not a regular file`;
};

const codeOf = (error: unknown): string => (error as { code?: string }).code ?? String(error);

export { inputFiles, refusal, codeOf };
export type { InputFile, InputProblem, OnSkipped };
