import type * as z from 'zod/mini';
import * as core from 'zod/v4/core';

/**
 * A reader compiled from a zod schema: for any input it returns what the router reads,
 * `REFUSED` exactly when `safeParse` would fail, and otherwise the input itself, allocating
 * nothing, unless an optional field holds `null`. Validating a finding with zod builds a
 * copy of every object in it; the reader walks the finding once, so a valid finding costs a
 * fraction of a parse (`npm run bench`, figure 1) and stays the very object GuardDuty sent.
 *
 * The one rule it adds to zod's verdict: **an optional field that may be `null` reads `null`
 * as absent.** GuardDuty writes `null` for optional members it has no value for
 * (schemas/finding.ts declares every optional field with `absent()`, which accepts both);
 * the reader returns a copy of only the objects on the way to such a key, without the key,
 * whose JSON still writes the `null` (copyWith). zod itself keeps the `null`: its output
 * equals its input, and the reader's verdict is zod's.
 *
 * zod stays the source of truth: the reader is compiled from its definitions, zod's own
 * check functions decide the checks, and any input the reader refuses goes through zod,
 * which names the JSON path at fault (test/unit/schemas/guard.test.ts holds them equal).
 * Compiling throws on a definition the reader cannot mirror exactly (transforms, defaults,
 * stripping objects, ...): a schema change that breaks it fails at load, not later.
 */
const REFUSED: unique symbol = Symbol('refused by the schema');
type Reader = (value: unknown) => unknown;
/** True exactly when zod's `safeParse` succeeds. */
type Guard = (value: unknown) => boolean;

class GuardCompileError extends Error {
  constructor(kind: string, path: string) {
    super(`cannot compile a guard for zod type '${kind}' at ${path || '(root)'}`);
    this.name = 'GuardCompileError';
  }
}

const compileReader = (schema: z.ZodMiniType, path = ''): Reader => {
  const def = schema._zod.def as core.$ZodTypeDef & Record<string, unknown>;
  const base = compileType(schema, def, path);
  const checks = (def.checks ?? []) as core.$ZodCheck[];
  if (checks.length === 0) return base;
  // As zod runs them (core `runChecks`), stopping at the first issue: a `when` decides whether a check applies.
  return (value) => {
    const read = base(value);
    if (read === REFUSED) return REFUSED;
    const payload = { value: read, issues: [] } as unknown as core.ParsePayload<never>;
    for (const check of checks) {
      if (check._zod.def.when !== undefined && !check._zod.def.when(payload)) continue;
      if (check._zod.check(payload) instanceof Promise) throw new GuardCompileError(`${def.type} with an asynchronous check`, path);
      if (payload.issues.length > 0) return REFUSED;
    }
    return read;
  };
};

const compileGuard = (schema: z.ZodMiniType): Guard => {
  const read = compileReader(schema);
  return (value) => read(value) !== REFUSED;
};

const compileType = (schema: z.ZodMiniType, def: core.$ZodTypeDef & Record<string, unknown>, path: string): Reader => {
  switch (def.type) {
    case 'unknown':
      return (value) => value;
    case 'string':
      if (def.coerce) break;
      return (value) => (typeof value === 'string' ? value : REFUSED);
    case 'number':
      if (def.coerce) break;
      return (value) => (typeof value === 'number' && Number.isFinite(value) ? value : REFUSED);
    case 'boolean':
      if (def.coerce) break;
      return (value) => (typeof value === 'boolean' ? value : REFUSED);
    case 'enum':
    case 'literal': {
      const values = schema._zod.values!;
      return (value) => (values.has(value as core.util.Primitive) ? value : REFUSED);
    }
    case 'optional': {
      const innerType = def.innerType as z.ZodMiniType;
      if (innerType._zod.optin === 'defaulted') break;
      // The rule: optional and nullable, so `null` reads as absent (undefined: the object drops the key).
      const nullable = innerType._zod.def as core.$ZodTypeDef & Record<string, unknown>;
      if (nullable.type === 'nullable' && (nullable.checks?.length ?? 0) === 0) {
        const present = compileReader(nullable.innerType as z.ZodMiniType, path);
        return (value) => (value === undefined || value === null ? undefined : present(value));
      }
      const inner = compileReader(innerType, path);
      return (value) => (value === undefined ? undefined : inner(value));
    }
    case 'nullable': {
      const inner = compileReader(def.innerType as z.ZodMiniType, path);
      return (value) => (value === null ? null : inner(value));
    }
    case 'union': {
      // zod returns the first option that succeeds.
      const options = (def.options as z.ZodMiniType[]).map((option, i) => compileReader(option, `${path}|${i}`));
      return (value) => {
        for (let i = 0; i < options.length; i++) {
          const read = options[i]!(value);
          if (read !== REFUSED) return read;
        }
        return REFUSED;
      };
    }
    case 'array': {
      const element = compileReader(def.element as z.ZodMiniType, `${path}[]`);
      return (value) => {
        if (!Array.isArray(value)) return REFUSED;
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const read = element(value[i]);
          if (read === REFUSED) return REFUSED;
          if (read !== value[i]) (copy ??= value.slice())[i] = read;
        }
        return copy ?? value;
      };
    }
    case 'record': {
      const keyDef = (def.keyType as z.ZodMiniType)._zod.def;
      if (keyDef.type !== 'string' || (keyDef.checks?.length ?? 0) > 0) break;
      const item = compileReader(def.valueType as z.ZodMiniType, `${path}{}`);
      return (value) => {
        if (!core.util.isPlainObject(value) || Object.hasOwn(value, '__proto__')) return REFUSED;
        let copy: Record<string, unknown> | undefined;
        for (const key in value) {
          const read = item(value[key]);
          if (read === REFUSED) return REFUSED;
          if (read !== value[key]) (copy ??= { ...value })[key] = read;
        }
        return copy ?? value;
      };
    }
    case 'object': {
      // Only loose objects: a stripping or strict object's output differs from its input.
      if ((def.catchall as z.ZodMiniType | undefined)?._zod.def.type !== 'unknown') break;
      const entries = Object.entries(def.shape as Record<string, z.ZodMiniType>);
      const keys = entries.map(([key]) => key);
      const fields = entries.map(([key, field]) => compileReader(field, `${path}.${key}`));
      // An absent key, as zod's object decides it (core handlePropertyResult): refused unless the
      // field is optional-in; accepted when it is optional-out too; else the field's verdict on
      // undefined. A key present with the value undefined is the field's to judge.
      const absentOk = entries.map(([, field], i) =>
        field._zod.optin === undefined ? false : field._zod.optout === 'optional' ? true : fields[i]!(undefined) !== REFUSED,
      );
      return (value) => {
        // zod never copies an own `__proto__` key; such an input takes zod's path.
        if (!core.util.isObject(value) || Object.hasOwn(value, '__proto__')) return REFUSED;
        const record = value as Record<string, unknown>;
        let changed: Map<string, unknown> | undefined;
        for (let i = 0; i < keys.length; i++) {
          const item = record[keys[i]!];
          if (item === undefined && !(keys[i]! in record)) {
            if (!absentOk[i]) return REFUSED;
            continue;
          }
          const read = fields[i]!(item);
          if (read === REFUSED) return REFUSED;
          if (read !== item) (changed ??= new Map()).set(keys[i]!, read);
        }
        return changed === undefined ? value : copyWith(record, changed);
      };
    }
  }
  throw new GuardCompileError(def.type, path);
};

/**
 * `record` with the changed fields, in the same key order. A field read as absent (a `null`
 * the rule drops) is left out, and the copy's `toJSON` (not enumerable) writes it back as
 * `null` in its place: readers see the key missing, serialisers see what was sent.
 */
const copyWith = (record: Record<string, unknown>, changed: ReadonlyMap<string, unknown>): Record<string, unknown> => {
  const copy: Record<string, unknown> = {};
  const order = Object.keys(record);
  let dropped: string[] | undefined;
  for (const key of order) {
    if (!changed.has(key)) copy[key] = record[key];
    else if (changed.get(key) !== undefined) copy[key] = changed.get(key);
    else (dropped ??= []).push(key);
  }
  // An input key named toJSON is data and stays; that object's JSON then leaves its nulls out.
  if (dropped !== undefined && !Object.hasOwn(record, 'toJSON')) Object.defineProperty(copy, 'toJSON', { value: withNulls(order, dropped) });
  return copy;
};

/** The JSON form of a copy: the dropped nulls back in their places; fields set since then win, fields added since come last. */
const withNulls = (order: readonly string[], nulls: readonly string[]) =>
  function toJSON(this: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of order) {
      if (Object.hasOwn(this, key)) out[key] = this[key];
      else if (nulls.includes(key)) out[key] = null;
    }
    for (const key of Object.keys(this)) if (!Object.hasOwn(out, key)) out[key] = this[key];
    return out;
  };

export { compileGuard, compileReader, GuardCompileError, REFUSED };
