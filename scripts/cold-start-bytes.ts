import { statSync } from 'node:fs';
import { resolve } from 'node:path';

interface Metafile {
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

/**
 * Bytes a cold start loads: the entry file and every chunk it imports statically (chunks
 * imported dynamically load on first use, externals are not ours). The build's budget check
 * and the bench's figure 3 both count this way. Paths in the metafile are relative to `root`.
 */
const coldStartBytes = (metafile: Metafile, entryFile: string, root: string): number => {
  const outputs = new Map(Object.entries(metafile.outputs).map(([file, output]) => [resolve(root, file), output]));
  const seen = new Set<string>();
  const visit = (file: string) => {
    const output = outputs.get(file);
    if (seen.has(file) || output === undefined) return;
    seen.add(file);
    for (const i of output.imports) if (i.kind === 'import-statement' && !i.external) visit(resolve(root, i.path));
  };
  visit(resolve(entryFile));
  return [...seen].reduce((sum, file) => sum + statSync(file).size, 0);
};

export { coldStartBytes };
export type { Metafile };
