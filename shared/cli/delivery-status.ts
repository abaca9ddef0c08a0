/**
 * What became of one finding's delivery to one target in a replay run, as the summary, the
 * `--json` record and the report count it: `sent` (the target has it), `rendered` (built but
 * not sent: a network target without --send, or anything under --dry-run), `failed`, `held`
 * (waiting in a digest group; the digest's own fate is counted with the digests) or
 * `duplicate` (the same idempotency key was delivered earlier in the run).
 */
type DeliveryStatus = 'sent' | 'rendered' | 'failed' | 'held' | 'duplicate';

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['sent', 'rendered', 'failed', 'held', 'duplicate'];

/** Statuses per target, in job order; `outcomes[i]` is job i's settled outcome (`undefined`: held). */
const deliveryStatuses = (
  jobs: readonly { target: string }[],
  outcomes: readonly ({ duplicate: boolean } | { error: unknown } | undefined)[],
  sends: (target: string) => boolean,
  refused: readonly { target: string }[] = [],
): Record<string, DeliveryStatus> => {
  const statuses: Record<string, DeliveryStatus> = Object.create(null);
  jobs.forEach((job, index) => {
    const outcome = outcomes[index];
    statuses[job.target] =
      outcome === undefined ? 'held' : 'error' in outcome ? 'failed' : outcome.duplicate ? 'duplicate' : sends(job.target) ? 'sent' : 'rendered';
  });
  for (const r of refused) statuses[r.target] = 'failed';
  return { ...statuses };
};

export { deliveryStatuses, DELIVERY_STATUSES };
export type { DeliveryStatus };
