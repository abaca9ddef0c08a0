import { LineCounter, parseDocument, isMap, isScalar, isSeq, visit, type Alias, type Document, type Node } from 'yaml';
import { ConfigError } from '../errors.ts';
import type { ConfigSource } from './source.ts';

/**
 * A parsed YAML file that can point at the line and column of any JSON path in it,
 * so every configuration error names `file:line:column`.
 */
type YamlSource = ConfigSource;

const parseYamlSource = (text: string, file: string): YamlSource => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxProblems = [...doc.errors, ...doc.warnings].map((error) => {
    const pos = lineCounter.linePos(error.pos[0]);
    return { file, line: pos.line, column: pos.col, message: firstLine(error.message) };
  });
  if (syntaxProblems.length > 0) throw new ConfigError(syntaxProblems);

  const locate = (path: readonly PropertyKey[], options?: { key?: string }) => {
    const offset = offsetOf(doc, path, options?.key);
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  return {
    file,
    value: toPlainValue(doc, (offset, message, cause) => {
      const pos = lineCounter.linePos(offset);
      return new ConfigError([{ file, line: pos.line, column: pos.col, message }], { cause });
    }),
    locate,
    problem: (path, message, options) => ({ file, ...locate(path, options), message }),
  };
};

/** Alias expansions allowed, as yaml counts them: enough for shared blocks, far from a "billion laughs". */
const MAX_ALIAS_COUNT = 100;

/**
 * The document as plain values. yaml refuses an alias bomb (and an alias to an anchor defined
 * after it) by throwing from deep inside its conversion, with no position; each alias node of
 * this document notes itself as it is converted, so the refusal names the alias at fault.
 */
const toPlainValue = (doc: Document, located: (offset: number, message: string, cause: unknown) => ConfigError): unknown => {
  let current: Alias | undefined;
  visit(doc, {
    Alias: (_key, alias) => {
      const convert = alias.toJSON.bind(alias);
      alias.toJSON = (arg, ctx) => {
        current = alias;
        return convert(arg, ctx);
      };
    },
  });
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    const message = firstLine((cause as Error).message ?? String(cause));
    const what = /resource exhaustion/.test(message) ? `alias *${current?.source} expands into too many nodes (over ${MAX_ALIAS_COUNT} alias expansions): refused as a resource exhaustion attack` : message;
    throw located(rangeStart(current) ?? rangeStart(doc.contents) ?? 0, what, cause);
  }
};

/** Offset of the deepest node on `path` that exists (or of `key` inside it when given). */
const offsetOf = (doc: Document, path: readonly PropertyKey[], key: string | undefined): number => {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const segment of path) {
    const next = child(node, segment);
    if (next === undefined) break;
    node = next.value;
    offset = rangeStart(next.value) ?? rangeStart(next.key) ?? offset;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
    offset = rangeStart(pair?.key) ?? offset;
  }
  return offset;
};

const child = (node: unknown, segment: PropertyKey): { key?: unknown; value: unknown } | undefined => {
  if (isMap(node)) {
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
    return pair === undefined ? undefined : { key: pair.key, value: pair.value ?? pair.key };
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
};

const rangeStart = (node: unknown): number | undefined => (node as Node | undefined)?.range?.[0];

const firstLine = (message: string): string => message.split('\n')[0] ?? message;

export { parseYamlSource };
