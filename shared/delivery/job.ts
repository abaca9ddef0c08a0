import { hash } from 'node:crypto';
import * as z from 'zod/mini';
import { EnrichedFindingSchema, type EnrichedFinding } from '../../schemas/enriched.ts';

/**
 * One delivery job per (finding, target): a target that fails is retried alone and never
 * causes a second delivery to a target that already succeeded.
 */
const DeliveryJobSchema = z.object({
  target: z.string(),
  routes: z.array(z.string()),
  idempotencyKey: z.string(),
  enriched: EnrichedFindingSchema,
  /** Set when the job waits to be sent as part of a digest (flood control). */
  digest: z.optional(z.object({ route: z.string(), key: z.string(), windowMs: z.number() })),
});
type DeliveryJob = z.infer<typeof DeliveryJobSchema>;

/** Stable per (target, finding id, updatedAt): the same update is never sent twice. */
const idempotencyKey = (target: string, enriched: EnrichedFinding): string =>
  hash('sha256', `${target}\n${enriched.finding.id}\n${String(enriched.finding.updatedAt)}`, 'hex');

const makeJob = (target: string, enriched: EnrichedFinding, routes: readonly string[]): DeliveryJob => ({
  target,
  routes: [...routes],
  idempotencyKey: idempotencyKey(target, enriched),
  enriched,
});

export { DeliveryJobSchema, makeJob, idempotencyKey };
export type { DeliveryJob };
