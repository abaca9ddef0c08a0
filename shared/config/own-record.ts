import * as z from 'zod/mini';
import { dataRecord } from '../data-record.ts';

/**
 * A record keyed by user data (target names, jurisdictions, tag keys) that treats every key
 * as an ordinary name. zod's z.record skips a `__proto__` key without a word (a target named
 * `__proto__` vanished), and a plain `{}` answers `constructor` or `toString` from its
 * prototype; this parses with z.record for every other key, parses a `__proto__` entry on its
 * own, and returns a null-prototype object in the input's key order.
 *
 * For the JSON Schema (`config schema`), the result describes itself as the z.record it wraps.
 */
const ownRecord = <V>(keySchema: z.ZodMiniType<string, string>, valueSchema: z.ZodMiniType<V>): z.ZodMiniType<Record<string, V>> => {
  const record = z.record(keySchema, valueSchema);
  const schema = z.pipe(
    z.unknown(),
    z.transform((input, ctx): Record<string, V> => {
      const parsed = z.safeParse(record, input);
      const proto = isObject(input) && Object.hasOwn(input, '__proto__') ? parseProtoEntry(keySchema, valueSchema, input) : undefined;
      const issues = [...(parsed.success ? [] : parsed.error.issues), ...(proto?.success === false ? proto.issues : [])];
      if (issues.length > 0 || !parsed.success) {
        for (const issue of issues) ctx.issues.push({ ...issue, input } as never);
        return z.NEVER;
      }
      const entries: [string, V][] = [];
      for (const key of Object.keys(input as object)) {
        if (key === '__proto__') {
          if (proto?.success) entries.push([key, proto.value]);
        } else if (Object.hasOwn(parsed.data, key)) {
          entries.push([key, parsed.data[key] as V]);
        }
      }
      return dataRecord(entries);
    }),
  );
  // Described lazily through the generator's own record processor: no JSON Schema code runs (or
  // is bundled into the Lambdas) unless `config schema` asks for one.
  schema._zod.processJSONSchema = (ctx, json, params) => ctx.processors['record']!(record as never, ctx, json, params);
  return schema as unknown as z.ZodMiniType<Record<string, V>>;
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const parseProtoEntry = <V>(
  keySchema: z.ZodMiniType<string, string>,
  valueSchema: z.ZodMiniType<V>,
  input: Record<string, unknown>,
): { success: true; value: V } | { success: false; issues: z.core.$ZodIssue[] } => {
  const key = z.safeParse(keySchema, '__proto__');
  if (!key.success) {
    return { success: false, issues: [{ code: 'invalid_key', origin: 'record', issues: key.error.issues, path: ['__proto__'], message: 'Invalid key in record' } as z.core.$ZodIssue] };
  }
  const value = z.safeParse(valueSchema, input['__proto__']);
  if (!value.success) return { success: false, issues: value.error.issues.map((issue) => ({ ...issue, path: ['__proto__', ...issue.path] })) };
  return { success: true, value: value.data };
};

export { ownRecord };
