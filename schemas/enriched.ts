import * as z from 'zod/mini';
import { ownRecord } from '../shared/config/own-record.ts';
import { GuardDutyFindingSchema } from './finding.ts';
import { acceptedFindingView } from './finding-view.ts';

/**
 * What enrichment adds next to the untouched finding. The enriched event on the project
 * bus is `{ finding, enrichment }`: the finding's JSON stays exactly as GuardDuty sent it.
 */
const AccountInfoSchema = z.object({
  id: z.string(),
  known: z.boolean(),
  name: z.optional(z.string()),
  email: z.optional(z.string()),
  ou: z.optional(z.string()),
  /** Tag keys are data (`constructor`, `__proto__` included): ownRecord keeps every one. */
  tags: ownRecord(z.string(), z.string()),
  /** Set by the provider chain: `partial` when a metadata source failed (the finding still flows). */
  enrichment: z.optional(z.enum(['complete', 'partial'])),
  /** The account's GuardDuty membership status as the administrator sees it (GetMembers). */
  relationshipStatus: z.optional(z.string()),
  invitedAt: z.optional(z.string()),
});

const EnrichmentSchema = z.object({
  account: AccountInfoSchema,
  severityLabel: z.enum(['low', 'medium', 'high', 'critical']),
  typeParts: z.object({
    threatPurpose: z.string(),
    resourceTypeAffected: z.optional(z.string()),
    threatFamilyName: z.optional(z.string()),
    detectionMechanism: z.optional(z.string()),
    artifact: z.optional(z.string()),
  }),
  resourceType: z.string(),
  resourceSummary: z.string(),
  resourceTags: ownRecord(z.string(), z.string()),
  sample: z.boolean(),
  archived: z.boolean(),
  count: z.number(),
  consoleUrl: z.string(),
  /** The remote party from the action details (IP, country, ASN organisation), when any. */
  remote: z.optional(
    z.object({
      ip: z.optional(z.string()),
      countryCode: z.optional(z.string()),
      countryName: z.optional(z.string()),
      asnOrg: z.optional(z.string()),
    }),
  ),
  /** Set by the route stage from the finding state: a first sighting or an update. */
  occurrence: z.optional(z.enum(['first', 'update'])),
  /** Set by the route stage: an update older than one already seen (SIEM targets only). */
  stale: z.optional(z.boolean()),
});

const EnrichedFindingSchema = z.object({
  /** Parsed as GuardDuty sent it, then read through the view (`null` optional fields absent; its JSON keeps them). */
  finding: z.pipe(GuardDutyFindingSchema, z.transform(acceptedFindingView)),
  enrichment: EnrichmentSchema,
});

type AccountInfo = z.infer<typeof AccountInfoSchema>;
type EnrichedFinding = z.infer<typeof EnrichedFindingSchema>;

export { EnrichedFindingSchema };
export type { AccountInfo, EnrichedFinding };
