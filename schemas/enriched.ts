import * as z from 'zod/mini';
import { GuardDutyFindingSchema } from './finding.ts';

/**
 * What enrichment adds next to the untouched finding. The enriched event on the project
 * bus is `{ finding, enrichment }`: the finding stays exactly as GuardDuty sent it.
 */
const AccountInfoSchema = z.object({
  id: z.string(),
  known: z.boolean(),
  name: z.optional(z.string()),
  email: z.optional(z.string()),
  ou: z.optional(z.string()),
  tags: z.record(z.string(), z.string()),
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
  resourceTags: z.record(z.string(), z.string()),
  sample: z.boolean(),
  archived: z.boolean(),
  count: z.number(),
  consoleUrl: z.string(),
});

const EnrichedFindingSchema = z.object({
  finding: GuardDutyFindingSchema,
  enrichment: EnrichmentSchema,
});

type AccountInfo = z.infer<typeof AccountInfoSchema>;
type Enrichment = z.infer<typeof EnrichmentSchema>;
type EnrichedFinding = z.infer<typeof EnrichedFindingSchema>;

export { AccountInfoSchema, EnrichmentSchema, EnrichedFindingSchema };
export type { AccountInfo, Enrichment, EnrichedFinding };
