import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { CommonTargetSettingsSchema } from '../config/schema.ts';
import { TARGET_DEFINITIONS } from '../targets/registry.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

interface TargetDoc {
  type: string;
  category: string;
  summary: string;
  updates: 'notify-policy' | 'every-update';
  digest: boolean;
  /** A complete configuration (the definition's example, secrets as references). */
  example: unknown;
  settings: { name: string; required: boolean; schema: unknown }[];
}

/** Every target type with its settings, read from the same schemas the loader enforces. */
const targetDocs = (): TargetDoc[] =>
  TARGET_DEFINITIONS.map((definition) => {
    const schema = z.toJSONSchema(z.extend(definition.configSchema as never, CommonTargetSettingsSchema.def.shape), {
      unrepresentable: 'any',
      io: 'input',
    }) as { properties?: Record<string, unknown>; required?: string[] };
    const required = new Set(schema.required ?? []);
    return {
      type: definition.type,
      category: definition.category,
      summary: definition.summary,
      updates: definition.updates,
      digest: definition.digest,
      example: definition.example,
      settings: Object.entries(schema.properties ?? {})
        .filter(([name]) => name !== 'type')
        .map(([name, setting]) => ({ name, required: required.has(name), schema: setting })),
    };
  });

const describeSetting = (schema: unknown): string => {
  const s = schema as { type?: string; enum?: unknown[]; anyOf?: unknown[]; const?: unknown; items?: unknown };
  if (s.enum) return s.enum.map(String).join('|');
  if (s.anyOf) return s.anyOf.map(describeSetting).join(' or ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'object') {
    const keys = Object.keys((schema as { properties?: object }).properties ?? {});
    return keys.length > 0 ? `{ ${keys.join(', ')} }` : 'object';
  }
  if (s.type === 'array') return `list of ${describeSetting(s.items)}`;
  return s.type ?? 'any';
};

const runTargets = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    io.stdout.write('Usage: findings-router targets [--json]\n\nEvery target type with its settings (* required), read from the schemas the loader enforces.\n');
    return 0;
  }
  const docs = targetDocs();
  if (values.json) {
    io.stdout.write(`${JSON.stringify(docs, null, 2)}\n`);
    return 0;
  }
  for (const doc of docs) {
    io.stdout.write(`${doc.type} (${doc.category}): ${doc.summary}\n`);
    io.stdout.write(`  updates: ${doc.updates === 'every-update' ? 'every update' : 'per the route\'s notify policy'}${doc.digest ? '; held for digests on grouping routes' : ''}\n`);
    io.stdout.write(`  example: ${JSON.stringify(doc.example)}\n`);
    for (const setting of doc.settings) {
      io.stdout.write(`  ${setting.required ? '*' : ' '} ${setting.name.padEnd(22)} ${describeSetting(setting.schema)}\n`);
    }
    io.stdout.write('\n');
  }
  io.stdout.write('* required. Every target also accepts rateLimit, audit and jurisdiction.\n');
  return 0;
};

export { runTargets, targetDocs };
