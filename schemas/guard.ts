import type * as z from 'zod/mini';
import * as core from 'zod/v4/core';

/**
 * A yes/no check compiled from a zod schema: true only when `safeParse` would succeed and
 * return a value equal to its input. Validating a finding with zod builds a copy of every
 * object in it; the guard reads the finding and allocates nothing, so a valid finding costs
 * a fraction of a parse (`npm run bench`, figure 1) and stays the very object GuardDuty sent.
 * zod stays the source of truth: the guard is compiled from its definitions, zod's own
 * check functions decide the checks, and any input the guard refuses goes through zod,
 * which names the JSON path at fault (test/unit/schemas/guard.test.ts holds them equal).
 *
 * Compiling throws on a definition the guard cannot mirror exactly (transforms, defaults,
 * stripping objects, ...): a schema change that breaks the guard fails at load, not later.
 */
type Guard = (value: unknown) => boolean;

class GuardCompileError extends Error {
  constructor(kind: string, path: string) {
    super(`cannot compile a guard for zod type '${kind}' at ${path || '(root)'}`);
    this.name = 'GuardCompileError';
  }
}

const compileGuard = (schema: z.ZodMiniType, path = ''): Guard => {
  const def = schema._zod.def as core.$ZodTypeDef & Record<string, unknown>;
  const base = compileType(schema, def, path);
  const checks = (def.checks ?? []) as core.$ZodCheck[];
  if (checks.length === 0) return base;
  // As zod runs them (core `runChecks`), stopping at the first issue: a `when` decides whether a check applies.
  return (value) => {
    if (!base(value)) return false;
    const payload = { value, issues: [] } as unknown as core.ParsePayload<never>;
    for (const check of checks) {
      if (check._zod.def.when !== undefined && !check._zod.def.when(payload)) continue;
      if (check._zod.check(payload) instanceof Promise) throw new GuardCompileError(`${def.type} with an asynchronous check`, path);
      if (payload.issues.length > 0) return false;
    }
    return true;
  };
};

const compileType = (schema: z.ZodMiniType, def: core.$ZodTypeDef & Record<string, unknown>, path: string): Guard => {
  switch (def.type) {
    case 'unknown':
      return () => true;
    case 'string':
      if (def.coerce) break;
      return (value) => typeof value === 'string';
    case 'number':
      if (def.coerce) break;
      return (value) => typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      if (def.coerce) break;
      return (value) => typeof value === 'boolean';
    case 'enum':
    case 'literal': {
      const values = schema._zod.values!;
      return (value) => values.has(value as core.util.Primitive);
    }
    case 'optional': {
      const inner = compileGuard(def.innerType as z.ZodMiniType, path);
      if ((def.innerType as z.ZodMiniType)._zod.optin === 'defaulted') break;
      return (value) => value === undefined || inner(value);
    }
    case 'nullable': {
      const inner = compileGuard(def.innerType as z.ZodMiniType, path);
      return (value) => value === null || inner(value);
    }
    case 'union': {
      const options = (def.options as z.ZodMiniType[]).map((option, i) => compileGuard(option, `${path}|${i}`));
      return (value) => {
        for (let i = 0; i < options.length; i++) if (options[i]!(value)) return true;
        return false;
      };
    }
    case 'array': {
      const element = compileGuard(def.element as z.ZodMiniType, `${path}[]`);
      return (value) => {
        if (!Array.isArray(value)) return false;
        for (let i = 0; i < value.length; i++) if (!element(value[i])) return false;
        return true;
      };
    }
    case 'record': {
      const keyDef = (def.keyType as z.ZodMiniType)._zod.def;
      if (keyDef.type !== 'string' || (keyDef.checks?.length ?? 0) > 0) break;
      const item = compileGuard(def.valueType as z.ZodMiniType, `${path}{}`);
      return (value) => {
        if (!core.util.isPlainObject(value) || Object.hasOwn(value, '__proto__')) return false;
        for (const key in value) if (!item(value[key])) return false;
        return true;
      };
    }
    case 'object': {
      // Only loose objects: a stripping or strict object's output differs from its input.
      if ((def.catchall as z.ZodMiniType | undefined)?._zod.def.type !== 'unknown') break;
      const entries = Object.entries(def.shape as Record<string, z.ZodMiniType>);
      const keys = entries.map(([key]) => key);
      const fields = entries.map(([key, field]) => compileGuard(field, `${path}.${key}`));
      // An absent key, as zod's object decides it (core handlePropertyResult): refused unless the
      // field is optional-in; accepted when it is optional-out too; else the field's verdict on
      // undefined. A key present with the value undefined is the field's to judge.
      const absentOk = entries.map(([, field], i) =>
        field._zod.optin === undefined ? false : field._zod.optout === 'optional' ? true : fields[i]!(undefined),
      );
      return (value) => {
        // zod never copies an own `__proto__` key; such an input takes zod's path.
        if (!core.util.isObject(value) || Object.hasOwn(value, '__proto__')) return false;
        const record = value as Record<string, unknown>;
        for (let i = 0; i < keys.length; i++) {
          const item = record[keys[i]!];
          if (item === undefined && !(keys[i]! in record)) {
            if (!absentOk[i]) return false;
          } else if (!fields[i]!(item)) {
            return false;
          }
        }
        return true;
      };
    }
  }
  throw new GuardCompileError(def.type, path);
};

export { compileGuard, GuardCompileError };
export type { Guard };
