import type { RouterConfig } from '../config/compile.ts';
import { tokenBucket, type Clock } from '../delivery/rate-limit.ts';
import { targetDefinition } from './registry.ts';
import type { Target, TargetContext } from './types.ts';

/**
 * Instantiates every configured target once (cold start), keyed by name, each behind its
 * token bucket (the target's `rateLimit`, else its definition's documented default).
 */
const createTargets = (config: RouterConfig, context: TargetContext, clock?: Clock): Map<string, Target> => {
  const targets = new Map<string, Target>();
  for (const { name, type, settings, common } of config.targets.values()) {
    const definition = targetDefinition(type);
    if (definition === undefined) throw new Error(`target type '${type}' vanished from the registry`);
    const target = definition.create(name, settings, context);
    const limit = common.rateLimit
      ? { perSecond: common.rateLimit.perSecond, burst: common.rateLimit.burst ?? 1 }
      : definition.rateLimit;
    if (limit === undefined) {
      targets.set(name, target);
      continue;
    }
    targets.set(name, throttled(target, tokenBucket(limit, name, clock)));
  }
  return targets;
};

/** `target` waiting for a token of `bucket` before every send. */
const throttled = (target: Target, bucket: { take: (deadline: number) => Promise<void> }): Target => {
  // One return per kind of target, so that each keeps its own send signature.
  if (target.renderDigest === undefined) {
    return {
      ...target,
      send: async (job) => {
        await bucket.take(job.deadline);
        return target.send(job);
      },
    };
  }
  return {
    ...target,
    send: async (job) => {
      await bucket.take(job.deadline);
      return target.send(job);
    },
  };
};

export { createTargets };
