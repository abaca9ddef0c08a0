import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layout says which code runs where (issue 15): everything under shared/ outside shared/cli/
 * runs in a Lambda (a function entry reaches it), shared/cli/ is what only the CLI, the build and
 * scripts run, and shared/aws/ is the one folder that loads and calls the AWS SDK. These rules
 * keep it so; a file that breaks one is named with the rule.
 */
const ROOT = join(import.meta.dirname, '../..');
const SKIP = new Set(['node_modules', '.git', 'dist', '.serverless', 'out', 'test-artifacts']);

const walk = (dir: string, out: string[] = []): string[] => {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(path, out);
    else if (/\.(ts|mjs|cjs)$/.test(entry.name)) out.push(path);
  }
  return out;
};

const sources = [...walk('shared'), ...walk('functions'), ...walk('schemas'), ...walk('scripts'), ...walk('bin'), ...walk('deploy')];
const text = new Map(sources.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

/** Relative imports (static, dynamic, re-exports, forked scripts) that name one of our files. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bfork\(\s*join\(\s*import\.meta\.dirname\s*,\s*)(['"])(\.\.?\/[^'"]+)\1/g;
const importsOf = (file: string): string[] =>
  [...(text.get(file) ?? '').matchAll(SPECIFIER)]
    .map((m) => posix.normalize(posix.join(posix.dirname(file), m[2]!)))
    .filter((target) => existsSync(join(ROOT, target)) && statSync(join(ROOT, target)).isFile());

const reach = (starts: readonly string[]): Set<string> => {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    stack.push(...importsOf(file));
  }
  return seen;
};

const functionEntries = sources.filter((f) => /^functions\/[^/]+\.ts$/.test(f));
const toolEntries = sources.filter((f) => f === 'shared/cli/main.ts' || /^(bin|scripts|deploy)\//.test(f));
const shared = sources.filter((f) => f.startsWith('shared/'));
const inCli = (f: string) => f.startsWith('shared/cli/');
const inAws = (f: string) => f.startsWith('shared/aws/');

/**
 * Imports of the AWS SDK that load or call it: `import type` and `import('…').Type` in a type
 * position only name a type, so they are not counted.
 */
const sdkValueImports = (source: string): string[] => {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(import|export)\s+(type\s+)?(\{[^}]*\}|\*\s+as\s+\w+|\w+(?:\s*,\s*\{[^}]*\})?)\s+from\s+['"](@aws-sdk\/[^'"]+)['"]/gm)) {
    if (m[2]) continue;
    const names = m[3]!.startsWith('{') ? m[3]!.slice(1, -1).split(',').map((n) => n.trim()).filter(Boolean) : [m[3]!];
    if (names.every((n) => n.startsWith('type '))) continue;
    found.push(m[4]!);
  }
  for (const m of source.matchAll(/\bimport\s*\(\s*['"](@aws-sdk\/[^'"]+)['"]\s*\)(\s*\.\s*[A-Za-z_])?/g)) {
    if (!m[2]) found.push(m[1]!);
  }
  return found;
};

describe('Layout', () => {
  it('nothing outside shared/cli/ imports from shared/cli/ (the Lambdas never load CLI code)', () => {
    // Prepare / Act
    const offenders = [...shared.filter((f) => !inCli(f)), ...functionEntries].flatMap((file) =>
      importsOf(file).filter(inCli).map((target) => `${file} imports ${target}`),
    );
    // Assess
    expect(offenders).toEqual([]);
  });

  it('only shared/aws/ loads the AWS SDK (type-only imports aside)', () => {
    // Prepare / Act
    const offenders = [...shared.filter((f) => !inAws(f)), ...sources.filter((f) => f.startsWith('schemas/'))].flatMap((file) =>
      sdkValueImports(text.get(file)!).map((pkg) => `${file} imports ${pkg}`),
    );
    // Assess
    expect(offenders).toEqual([]);
  });

  it('has no same-name pairs: no X.ts beside a folder X/, no top-level shared/X.ts named like another file or folder in shared/', () => {
    // Prepare
    const folders = new Set(shared.flatMap((f) => f.split('/').slice(1, -1).map((_, i, parts) => `shared/${parts.slice(0, i + 1).join('/')}`)));
    const baseOf = (path: string) => posix.basename(path).replace(/\.(ts|mjs|cjs)$/, '');
    // Act
    const besideFolder = shared.filter((f) => folders.has(f.replace(/\.(ts|mjs|cjs)$/, '')));
    const topLevel = shared.filter((f) => f.split('/').length === 2);
    const namedTwice = topLevel.filter((f) => [...shared.filter((g) => g !== f), ...folders].some((other) => baseOf(other) === baseOf(f)));
    // Assess
    expect({ besideFolder, namedTwice }).toEqual({ besideFolder: [], namedTwice: [] });
  });

  it('every file under shared/ outside cli/ and aws/ is Lambda code: a function entry reaches it', () => {
    // Prepare
    const lambda = reach(functionEntries);
    // Act
    const unreached = shared.filter((f) => !inCli(f) && !inAws(f) && !lambda.has(f));
    // Assess: CLI-only code belongs under shared/cli/ (code only tests use, under test/)
    expect(unreached).toEqual([]);
  });

  it('every file under shared/aws/ and shared/cli/ is used by a function, the CLI, the build or a script', () => {
    // Prepare
    const used = reach([...functionEntries, ...toolEntries]);
    // Act
    const unused = shared.filter((f) => (inCli(f) || inAws(f)) && !used.has(f));
    // Assess
    expect(unused).toEqual([]);
  });

  it('finds what it looks for (the rules above would pass on an empty list)', () => {
    // Prepare / Act / Assess: the graph and the SDK matcher see real imports
    expect(reach(functionEntries).has('shared/pipeline.ts')).toBe(true);
    expect(sdkValueImports("import { SQSClient } from '@aws-sdk/client-sqs';\nconst m = await import('@aws-sdk/client-ssm');")).toEqual(['@aws-sdk/client-sqs', '@aws-sdk/client-ssm']);
    expect(sdkValueImports("import type { SQSClient } from '@aws-sdk/client-sqs';\nlet c: import('@aws-sdk/client-sqs').SQSClient;\nimport { type Member } from '@aws-sdk/client-guardduty';")).toEqual([]);
  });
});
