import * as z from 'zod/mini';

/**
 * The EventBridge envelope. `detail` is left unknown here; the finding schema narrows it
 * only for `detail-type: GuardDuty Finding` (other GuardDuty detail-types are ignored).
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-guardduty.html
 */
const EventBridgeEnvelopeSchema = z.looseObject({
  version: z.optional(z.string()),
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.optional(z.array(z.string())),
  detail: z.unknown(),
});

const GUARDDUTY_SOURCE = 'aws.guardduty';
const GUARDDUTY_FINDING_DETAIL_TYPE = 'GuardDuty Finding';
const ENRICHED_SOURCE = 'findings-router';
const ENRICHED_DETAIL_TYPE = 'GuardDuty Finding Enriched';

export {
  EventBridgeEnvelopeSchema,
  GUARDDUTY_SOURCE,
  GUARDDUTY_FINDING_DETAIL_TYPE,
  ENRICHED_SOURCE,
  ENRICHED_DETAIL_TYPE,
};
