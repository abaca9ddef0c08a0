import type { RouterConfig } from '../config/load.ts';
import { targetDefinition } from './registry.ts';
import type { Target, TargetContext } from './types.ts';

/** Instantiates every configured target once (cold start), keyed by name. */
const createTargets = (config: RouterConfig, context: TargetContext): Map<string, Target> => {
  const targets = new Map<string, Target>();
  for (const { name, type, settings } of config.targets.values()) {
    const definition = targetDefinition(type);
    if (definition === undefined) throw new Error(`target type '${type}' vanished from the registry`);
    targets.set(name, definition.create(name, settings, context));
  }
  return targets;
};

export { createTargets };
