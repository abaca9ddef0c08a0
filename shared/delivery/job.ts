import * as z from 'zod/mini';
import { EnrichedFindingSchema, type EnrichedFinding } from '../../schemas/enriched.ts';
import { composeKey } from '../keys.ts';

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
  digest: z.optional(
    z.object({
      route: z.string(),
      /** The group as people read it, shown in the digest message. */
      key: z.string(),
      windowMs: z.number(),
      /** The values of the route's `group.by` fields, in order: the parts of the group's key (absent in jobs queued by earlier versions). */
      values: z.optional(z.array(z.string())),
    }),
  ),
});
type DeliveryJob = z.infer<typeof DeliveryJobSchema>;

/** Stable per (target, finding id, updatedAt): the same update is never sent twice. */
const idempotencyKey = (target: string, enriched: EnrichedFinding): string =>
  composeKey('job', target, enriched.finding.id, enriched.finding.updatedAt);

const makeJob = (target: string, enriched: EnrichedFinding, routes: readonly string[]): DeliveryJob => ({
  target,
  routes: [...routes],
  idempotencyKey: idempotencyKey(target, enriched),
  enriched,
});

type ParsedJob = { ok: true; job: DeliveryJob } | { ok: false; reason: string };

/**
 * A queued message body as a job, or the reason it is not one (its JSON path first). The
 * one check every queued job passes, held for a digest or not.
 */
const parseJob = (body: string): ParsedJob => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'delivery job invalid: $: not valid JSON' };
  }
  const parsed = z.safeParse(DeliveryJobSchema, value);
  if (parsed.success) return { ok: true, job: parsed.data };
  const issue = parsed.error.issues[0];
  const path = ['$', ...(issue?.path ?? []).map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))].join('');
  return { ok: false, reason: `delivery job invalid: ${path}: ${issue?.message ?? 'unknown'}` };
};

export { DeliveryJobSchema, makeJob, idempotencyKey, parseJob };
export type { DeliveryJob };
