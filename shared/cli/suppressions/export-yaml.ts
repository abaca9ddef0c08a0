import { stringify } from 'yaml';
import { actorLabel, type RuntimeSuppression } from '../../suppressions/model.ts';

/**
 * Runtime suppressions as `suppress:` entries to paste into routes.yml: a suppression that
 * should outlive its expiry, or be reviewed like the rest of the routes. The match keeps the
 * runtime one's exact meaning: its values go into glob matchers (`type`, `accountId`,
 * `resourceType`, `resourceId`) with every glob character escaped, so a `*` or `[` in a bucket
 * or user name stays a character. The YAML library quotes what needs quoting (a 12-digit
 * account id, a reason with `: ` or `#`, a newline); `until` is the expiry instant.
 */
const escapeGlob = (text: string): string => text.replace(/[*?[\]]/g, (char) => `[${char}]`);

const suppressEntry = (suppression: RuntimeSuppression) => ({
  name: `runtime-${suppression.id}`,
  match: {
    type: escapeGlob(suppression.conditions.type),
    accountId: escapeGlob(suppression.conditions.accountId),
    resourceType: escapeGlob(suppression.conditions.resourceType),
    resourceId: escapeGlob(suppression.conditions.resourceId),
  },
  reason: suppression.reason,
  owner: actorLabel(suppression.createdBy),
  until: suppression.expiresAt,
});

const suppressionsYaml = (suppressions: readonly RuntimeSuppression[]): string =>
  stringify({ suppress: suppressions.map(suppressEntry) }, { lineWidth: 0 });

export { suppressionsYaml };
