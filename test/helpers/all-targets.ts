import { Writable } from 'node:stream';
import * as z from 'zod/mini';
import { localSecretResolver } from '../../shared/secrets.ts';
import { createHttpClient } from '../../shared/targets/http.ts';
import { memoryLedger } from '../../shared/targets/ledger.ts';
import { TARGET_DEFINITIONS } from '../../shared/targets/registry.ts';
import type { AnyTargetDefinition, Target, TargetContext } from '../../shared/targets/types.ts';

/**
 * One instance of every registered target type, for render-only tests (fuzzing, hostile
 * input), each built from its definition's `example` checked by its own configSchema: a new
 * target is covered here without a line of its own. Nothing here sends; the examples' secrets
 * are env references that are never resolved.
 */

/** A target with the definition it was made from (and its type, for test names). */
type RenderableTarget = Target & { readonly type: string; readonly definition: AnyTargetDefinition };

const nullStream = (): NodeJS.WritableStream => new Writable({ write: (_chunk, _encoding, done) => done() });

const targetContext = (): TargetContext => ({
  secrets: localSecretResolver({}),
  http: createHttpClient(),
  stdout: nullStream(),
  ledger: memoryLedger(),
});

/** Every registered type built from its example; a type whose example its own schema refuses is named in `skipped`. */
const renderableTargets = (): { targets: RenderableTarget[]; configs: Map<string, Record<string, unknown>>; skipped: string[] } => {
  const targets: RenderableTarget[] = [];
  const configs = new Map<string, Record<string, unknown>>();
  const skipped: string[] = [];
  for (const definition of TARGET_DEFINITIONS) {
    const parsed = z.safeParse(definition.configSchema as z.ZodMiniType<unknown>, definition.example);
    if (!parsed.success) {
      skipped.push(definition.type);
      continue;
    }
    const target = definition.create(`fuzz-${definition.type}`, parsed.data, targetContext());
    targets.push({ ...target, type: definition.type, definition });
    configs.set(definition.type, definition.example as Record<string, unknown>);
  }
  return { targets, configs, skipped };
};

/** A routes file (YAML flow = JSON) sending every finding to one target of every configurable type. */
const routesForAllTargets = (configs: ReadonlyMap<string, Record<string, unknown>>): string => {
  const targets = Object.fromEntries([...configs].map(([type, config]) => [`all-${type}`, config]));
  return [`targets: ${JSON.stringify(targets)}`, `default: { targets: ${JSON.stringify(Object.keys(targets))} }`, 'routes: []'].join('\n');
};

export { renderableTargets, routesForAllTargets, targetContext };
