import * as z from 'zod/mini';
import { ID_PATTERN, REASON_MAX, SuppressionError, suppressionIdOf, type RuntimeSuppression } from './model.ts';


/**
 * A stored suppression as it comes back from a store (a DynamoDB item, a line of a file). Checked
 * field by field: the table is written by the action function, by hand in the console, or by an
 * older version, and one bad row must be reported and skipped, never applied half-read nor allowed
 * to stop the others.
 */
const PLATFORMS = ['slack', 'teams', 'pagerduty', 'opsgenie', 'jira', 'simulate'] as const;
const Text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const IsoInstant = z.iso.datetime({ offset: true });

const RowSchema = z.object({
  id: z.string().check(z.regex(ID_PATTERN, 'id must be 16 lowercase hex digits')),
  conditions: z.strictObject({
    type: Text(100),
    accountId: z.string().check(z.regex(/^\d{12}$/, 'accountId must be 12 digits')),
    resourceType: Text(100),
    resourceId: Text(2048),
  }),
  reason: z.string().check(z.minLength(3), z.maxLength(REASON_MAX)),
  createdBy: z.strictObject({ platform: z.enum(PLATFORMS), id: Text(256), name: z.optional(Text(256)) }),
  createdAt: IsoInstant,
  expiresAt: IsoInstant,
  sourceFindingId: Text(300),
});

/** The row as a RuntimeSuppression, or SuppressionError naming the first fields at fault. Extra attributes (the TTL) are dropped. */
const parseSuppressionRow = (row: unknown): RuntimeSuppression => {
  const parsed = z.safeParse(RowSchema, row);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.message}`);
    throw new SuppressionError(issues.join('; '));
  }
  const { data } = parsed;
  // An id that is not the conditions' own would let two rows claim one suppression (and `remove` the wrong one).
  if (suppressionIdOf(data.conditions) !== data.id) throw new SuppressionError(`id ${data.id} is not the id of its conditions (${suppressionIdOf(data.conditions)})`);
  return {
    id: data.id,
    conditions: data.conditions,
    reason: data.reason,
    createdBy: { platform: data.createdBy.platform, id: data.createdBy.id, ...(data.createdBy.name ? { name: data.createdBy.name } : {}) },
    createdAt: new Date(data.createdAt).toISOString(),
    expiresAt: new Date(data.expiresAt).toISOString(),
    sourceFindingId: data.sourceFindingId,
  };
};

/** Where a bad row is: its id when it has a string one (cut, it is untrusted text), else the fallback. */
const rowWhere = (row: unknown, fallback: string): string => {
  const id = (row as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length > 0 ? `id ${JSON.stringify(id.slice(0, 40))}` : fallback;
};

export { parseSuppressionRow, rowWhere };
