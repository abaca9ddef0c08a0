/**
 * A dead letter of the deliver stage (`dlq export`, `replay --dead-letters`) holds one job: one
 * finding update for one target. Replayed, it is that job again — to its target only, not
 * routed anew — so that replaying a file of dead letters sends exactly those deliveries. The
 * finding itself is validated and enriched like any input (validate.ts reads it from the
 * letter); only where it goes comes from here.
 */
interface ResentJob {
  target: string;
  routes: string[];
  /** As the route stage decided it then (a ticket target renders an update differently). */
  occurrence?: 'first' | 'update';
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The job a deliver-stage dead letter carries, or undefined for any other input. */
const resentJobOf = (value: unknown): ResentJob | undefined => {
  if (!isObject(value) || value.stage !== 'deliver' || typeof value.reason !== 'string' || typeof value.deadLetteredAt !== 'string') return undefined;
  const job = value.payload;
  if (!isObject(job) || typeof job.target !== 'string' || typeof job.idempotencyKey !== 'string' || !isObject(job.enriched)) return undefined;
  const routes = Array.isArray(job.routes) ? job.routes.filter((route): route is string => typeof route === 'string') : [];
  const enrichment = isObject(job.enriched.enrichment) ? job.enriched.enrichment : {};
  const occurrence = enrichment.occurrence === 'first' || enrichment.occurrence === 'update' ? enrichment.occurrence : undefined;
  return { target: job.target, routes, ...(occurrence ? { occurrence } : {}) };
};

export { resentJobOf };
export type { ResentJob };
