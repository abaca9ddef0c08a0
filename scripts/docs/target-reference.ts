/**
 * The target reference, rendered from the target definitions: the README's table and example
 * block, and docs/targets.md. Pure: the same definitions and notes give the same bytes, which
 * is what `npm run docs -- --check` compares.
 */
import { Writable } from 'node:stream';
import { Document, isMap } from 'yaml';
import * as z from 'zod/mini';
import type { RateLimit } from '../../shared/delivery/rate-limit.ts';
import { localSecretResolver } from '../../shared/secrets.ts';
import { createHttpClient } from '../../shared/targets/http.ts';
import { memoryLedger } from '../../shared/targets/ledger.ts';
import type { TargetContext } from '../../shared/targets/types.ts';
import type { TargetNote } from './target-notes.ts';

/** What the docs read from a definition (shared/targets/types.ts); optional where older definitions lack it. */
interface DocumentedTarget {
  type: string;
  summary: string;
  configSchema: z.ZodMiniType<unknown>;
  category?: string;
  updates?: 'notify-policy' | 'every-update';
  digest?: boolean;
  local?: boolean;
  upserts?: true;
  rateLimit?: RateLimit;
  limits?: { payloadBytes: number; source: string };
  statusExceptions?: Partial<Record<number, string>>;
  example?: unknown;
  create?(name: string, config: never, context: TargetContext): { renderDigest?: unknown };
}

interface JsonSchema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  required?: string[];
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  default?: unknown;
  description?: string;
}

interface SettingDoc {
  name: string;
  required: boolean;
  value: string;
  default?: string;
  description?: string;
}

class TargetDocsError extends Error {
  override name = 'TargetDocsError';
}

const SECRET_REF_KEYS = new Set(['env', 'ssm', 'secretsManager', 'value']);

const isSecretRef = (schema: JsonSchema): boolean =>
  schema.anyOf !== undefined &&
  schema.anyOf.length > 0 &&
  schema.anyOf.every((option) => option.type === 'object' && option.required?.length === 1 && SECRET_REF_KEYS.has(option.required[0]!));

const code = (value: unknown): string => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

/** A short reading of what a setting takes, from its JSON Schema. */
const valueShape = (schema: JsonSchema): string => {
  if (isSecretRef(schema)) return 'secret reference';
  if (schema.const !== undefined) return code(schema.const);
  if (schema.enum) return schema.enum.map(code).join(', ');
  if (schema.anyOf) return [...new Set(schema.anyOf.map(valueShape))].join(' or ');
  switch (schema.type) {
    case 'string':
      return schema.format === 'uri' ? 'URL' : 'string';
    case 'integer':
    case 'number': {
      const { minimum: min, maximum: max } = schema;
      const bounded = max !== undefined && max < Number.MAX_SAFE_INTEGER;
      if (min !== undefined && bounded) return `${schema.type} ${min}–${max}`;
      if (min !== undefined) return `${schema.type} ≥ ${min}`;
      return schema.type;
    }
    case 'array':
      return `list of ${schema.items ? valueShape(schema.items) : 'any'}${schema.maxItems !== undefined ? ` (≤ ${schema.maxItems})` : ''}`;
    case 'object': {
      const keys = Object.keys(schema.properties ?? {});
      if (keys.length > 0) return code(`{ ${keys.join(', ')} }`);
      return typeof schema.additionalProperties === 'object' ? `map of ${valueShape(schema.additionalProperties)}` : 'object';
    }
    default:
      return schema.type ?? 'any';
  }
};

/** A table cell: one line, and a `|` that would end the cell written as `\|` (GitHub reads it so inside code spans too). */
const cell = (text: string): string => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

const settingsOf = (definition: DocumentedTarget): SettingDoc[] => {
  const schema = z.toJSONSchema(definition.configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .filter(([name]) => name !== 'type')
    .map(([name, setting]) => ({
      name,
      required: required.has(name),
      value: valueShape(setting),
      ...(setting.default !== undefined ? { default: code(setting.default) } : {}),
      ...(setting.description !== undefined ? { description: setting.description } : {}),
    }));
};

const settingNames = (definition: DocumentedTarget): string[] => settingsOf(definition).map((setting) => setting.name);

const rateLimitText = (limit: RateLimit | undefined): string => (limit ? `${limit.perSecond}/s, burst ${limit.burst}` : 'none');

const receivesText = (definition: DocumentedTarget): string =>
  definition.updates === 'every-update' ? 'every update' : definition.updates === 'notify-policy' ? 'per `notify` policy' : '–';

/** The examples as YAML, one flow line per target, as people write them in routes.yml. */
const examplesYaml = (examples: readonly [string, unknown][]): string => {
  const document = new Document({ targets: Object.fromEntries(examples) });
  const targets = document.get('targets');
  if (isMap(targets)) {
    for (const pair of targets.items) if (isMap(pair.value)) pair.value.flow = true;
  }
  return document.toString({ lineWidth: 0 }).trimEnd();
};

const checkedExample = (definition: DocumentedTarget): unknown => {
  if (definition.example === undefined) return undefined;
  const parsed = z.safeParse(definition.configSchema, definition.example);
  if (!parsed.success) {
    throw new TargetDocsError(`target '${definition.type}': its example does not pass its own schema (${parsed.error.issues[0]?.message ?? 'invalid'})`, { cause: parsed.error });
  }
  return definition.example;
};

/** Whether the target built from its example summarises a group in one message (nothing is resolved or sent). */
const rendersDigest = (definition: DocumentedTarget): boolean | undefined => {
  const example = checkedExample(definition);
  if (example === undefined || definition.create === undefined) return undefined;
  const context: TargetContext = {
    secrets: localSecretResolver({}),
    http: createHttpClient(),
    stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
    ledger: memoryLedger(),
  };
  return typeof definition.create('docs', example as never, context).renderDigest === 'function';
};

const digestText = (d: DocumentedTarget): string => {
  if (!d.digest) return 'never held for a digest';
  const held = 'a grouping route holds its findings for the window (Critical at once)';
  const renders = rendersDigest(d);
  if (renders === undefined) return held;
  return `${held}, then sends ${renders ? 'them as one digest message' : 'them one by one'}`;
};

const digestCell = (d: DocumentedTarget): string => {
  if (!d.digest) return 'no';
  const renders = rendersDigest(d);
  return renders === undefined ? 'yes' : renders ? 'one message' : 'one by one';
};

const GENERATED_NOTE = 'Generated by `npm run docs` from the target definitions (`shared/targets/`, a spec and a definition entry each in `shared/targets/registry.ts`) and `scripts/docs/target-notes.md`; edit those, not this.';

/** The README's block: every type at a glance, then one example line per type. */
const readmeBlock = (definitions: readonly DocumentedTarget[]): string => {
  const rows = definitions.map((d) =>
    `| [\`${d.type}\`](docs/targets.md#${d.type}) | ${d.category ?? '–'} | ${receivesText(d)} | ${digestCell(d)} | ${rateLimitText(d.rateLimit)} | ${cell(d.summary)} |`,
  );
  const examples = definitions.flatMap((d) => {
    const example = checkedExample(d);
    return example === undefined ? [] : [[d.type, example] as [string, unknown]];
  });
  return [
    `<!-- ${GENERATED_NOTE} -->`,
    '',
    '| type | category | receives | digest | default rate limit | sends |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(examples.length > 0
      ? ['One example per type (each checked against its schema; secrets are references):', '', '```yaml', examplesYaml(examples), '```', '']
      : []),
    'Settings, defaults, limits and what each message looks like: [docs/targets.md](docs/targets.md). `findings-router targets` lists the same settings.',
  ].join('\n');
};

const settingsTable = (settings: readonly SettingDoc[], note: TargetNote | undefined): string[] => {
  if (settings.length === 0) return ['No settings of its own.'];
  return [
    '| Setting | Required | Default | Value | Description |',
    '|---|---|---|---|---|',
    ...settings.map((setting) => {
      const noted = note?.settings.get(setting.name);
      const fallback = setting.default ?? noted?.default ?? '–';
      const description = setting.description ?? noted?.description ?? '';
      return `| \`${setting.name}\` | ${setting.required ? 'yes' : 'no'} | ${cell(fallback)} | ${cell(setting.value)} | ${cell(description)} |`;
    }),
  ];
};

const policyLines = (d: DocumentedTarget): string[] => {
  const exceptions = Object.entries(d.statusExceptions ?? {}).map(([status, outcome]) => `HTTP ${status} → ${outcome}`);
  return [
    `- **Category**: ${d.category ?? '–'} (${d.local ? 'writes on the machine it runs on: replay delivers to it by default' : 'remote: replay renders it and sends only with `--send`'}).`,
    `- **Receives**: ${d.updates === 'every-update' ? 'every update of a finding' : d.updates === 'notify-policy' ? "the updates the route's `notify` policy lets through" : '–'}${d.upserts ? '; keeps one record per finding, updated in place (a finding\'s updates reach it one at a time, in order)' : ''}.`,
    `- **Digest**: ${digestText(d)}.`,
    `- **Default rate limit**: ${rateLimitText(d.rateLimit)}${d.rateLimit ? ' (a target\'s `rateLimit` overrides it)' : ''}.`,
    ...(d.limits ? [`- **Size limit**: ${d.limits.payloadBytes.toLocaleString('en-US')} bytes a delivery (${d.limits.source}).`] : []),
    ...(exceptions.length > 0 ? [`- **Answers classified differently**: ${exceptions.join(', ')}.`] : []),
  ];
};

/** docs/targets.md: one section per type. */
const targetsMarkdown = (definitions: readonly DocumentedTarget[], notes: ReadonlyMap<string, TargetNote>): string => {
  const sections = definitions.map((d) => {
    const note = notes.get(d.type);
    const example = checkedExample(d);
    return [
      `## ${d.type}`,
      '',
      d.summary,
      '',
      ...policyLines(d),
      '',
      ...settingsTable(settingsOf(d), note),
      '',
      ...(example !== undefined ? ['```yaml', examplesYaml([[d.type, example]]), '```', ''] : []),
      ...(note?.prose ? [note.prose, ''] : []),
    ].join('\n');
  });
  return [
    '# Target reference',
    '',
    `<!-- ${GENERATED_NOTE} -->`,
    '',
    'Every target also accepts `rateLimit: { perSecond, burst }`, `audit: true` and `jurisdiction: NAME`',
    '(see [Settings every target accepts](../README.md#settings-every-target-accepts)). Types:',
    definitions.map((d) => `[\`${d.type}\`](#${d.type})`).join(' · ') + '.',
    '',
    ...sections,
  ].join('\n').trimEnd() + '\n';
};

export { readmeBlock, targetsMarkdown, settingNames, TargetDocsError };
export type { DocumentedTarget };
