import type * as z from 'zod/mini';
import { GuardDutyFindingSchema, type GuardDutyFinding } from './finding.ts';
import { compileReader, REFUSED } from './guard.ts';

/**
 * The finding as routing and rendering read it: every optional field GuardDuty sent as
 * `null` is absent, as if the key were missing, so `?.` and `!== undefined` mean the same
 * for both. A finding without such a `null` is returned as is (no copy: the hot path);
 * otherwise only the objects on the way to a `null` are copied (schemas/guard.ts).
 *
 * The view's JSON is the finding as GuardDuty sent it: each copied object's `toJSON` (not
 * enumerable) writes its `null`s back, so the `raw` and `enriched` documents, SIEM copies,
 * the enriched event on the bus and delivery jobs all keep them. A copy made without JSON
 * (structuredClone, spread) keeps only what readers see.
 */
const readFinding = compileReader(GuardDutyFindingSchema);

/** The view of a finding, or undefined when the finding schema refuses it (zod then names the path). */
const findingView = (wire: unknown): GuardDutyFinding | undefined => {
  const read = readFinding(wire);
  return read === REFUSED ? undefined : (read as GuardDutyFinding);
};

/**
 * The view of a finding zod has already accepted. The reader agrees with zod (held equal by
 * test/unit/schemas/guard.test.ts); should it ever not, zod's output is kept as it is rather
 * than the finding lost.
 */
const acceptedFindingView = (parsed: z.infer<typeof GuardDutyFindingSchema>): GuardDutyFinding =>
  findingView(parsed) ?? (parsed as unknown as GuardDutyFinding);

export { findingView, acceptedFindingView };
