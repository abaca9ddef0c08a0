import type { Member } from '@aws-sdk/client-guardduty';
import type { AccountInfo } from '../../schemas/enriched.ts';

/**
 * Expected accounts (accounts.yml and/or the organization) against the administrator's
 * GuardDuty members. Status values are the API's CamelCase strings
 * (format.md §4.2); a status this code does not know counts as not monitored, so a new
 * value fails loud rather than silently.
 */
const MONITORED = new Set(['Enabled']);
/** Added or invited, not (yet) accepted: nothing to alert about, something to chase. */
const PENDING = new Set(['Created', 'Invited', 'EmailVerificationInProgress']);
/** The pseudo status of an expected account that is not a member at all. */
const MISSING = 'Missing';

type Category = 'monitored' | 'pending' | 'notMonitored' | 'missing' | 'unexpected';

interface ExpectedAccount {
  id: string;
  name?: string;
  email?: string;
  /** Where the expectation comes from. */
  from: ('accounts' | 'organizations')[];
}

interface DiffEntry {
  accountId: string;
  name?: string;
  email?: string;
  /** The member's relationship status, or `Missing`. */
  status: string;
  category: Category;
  invitedAt?: string;
  updatedAt?: string;
}

interface MembershipDiff {
  /** Expected accounts compared (the administrator itself left out). */
  expected: number;
  monitored: DiffEntry[];
  pending: DiffEntry[];
  notMonitored: DiffEntry[];
  missing: DiffEntry[];
  /** Members that no expected source lists. */
  unexpected: DiffEntry[];
  /** The administrator account (from the members' administratorId), never expected of itself. */
  administratorId?: string;
}

const categoryOf = (status: string): Exclude<Category, 'missing' | 'unexpected'> =>
  MONITORED.has(status) ? 'monitored' : PENDING.has(status) ? 'pending' : 'notMonitored';

const optional = <K extends string>(key: K, value: string | undefined) => (value === undefined || value === '' ? {} : { [key]: value }) as { [P in K]?: string };

const diffMembership = (
  expected: readonly ExpectedAccount[],
  members: readonly Member[],
  options: { exclude?: ReadonlySet<string> } = {},
): MembershipDiff => {
  const administratorId = members.map((m) => m.AdministratorId ?? m.MasterId).find((id) => id !== undefined && id !== '');
  const exclude = new Set([...(options.exclude ?? []), ...(administratorId ? [administratorId] : [])]);
  const byId = new Map(members.filter((m) => m.AccountId).map((m) => [m.AccountId!, m]));
  const diff: MembershipDiff = { expected: 0, monitored: [], pending: [], notMonitored: [], missing: [], unexpected: [], ...optional('administratorId', administratorId) };
  const expectedIds = new Set<string>();
  for (const account of [...expected].sort((a, b) => a.id.localeCompare(b.id))) {
    if (exclude.has(account.id)) continue;
    expectedIds.add(account.id);
    diff.expected++;
    const member = byId.get(account.id);
    if (member === undefined) {
      diff.missing.push({ accountId: account.id, ...optional('name', account.name), ...optional('email', account.email), status: MISSING, category: 'missing' });
      continue;
    }
    const status = member.RelationshipStatus ?? 'Unknown';
    const category = categoryOf(status);
    diff[category].push({
      accountId: account.id,
      ...optional('name', account.name),
      ...optional('email', member.Email ?? account.email),
      status,
      category,
      ...optional('invitedAt', member.InvitedAt),
      ...optional('updatedAt', member.UpdatedAt),
    });
  }
  for (const member of [...members].sort((a, b) => (a.AccountId ?? '').localeCompare(b.AccountId ?? ''))) {
    if (!member.AccountId || expectedIds.has(member.AccountId) || exclude.has(member.AccountId)) continue;
    diff.unexpected.push({
      accountId: member.AccountId,
      ...optional('email', member.Email),
      status: member.RelationshipStatus ?? 'Unknown',
      category: 'unexpected',
      ...optional('invitedAt', member.InvitedAt),
      ...optional('updatedAt', member.UpdatedAt),
    });
  }
  return diff;
};

/** accounts.yml entries as expected accounts. */
const expectedFromRegistry = (accounts: ReadonlyMap<string, AccountInfo>): ExpectedAccount[] =>
  [...accounts.values()].map((a) => ({ id: a.id, ...optional('name', a.name), ...optional('email', a.email), from: ['accounts'] }));

/** Union by id; accounts.yml names win over the organization's. */
const mergeExpected = (...lists: readonly ExpectedAccount[][]): ExpectedAccount[] => {
  const merged = new Map<string, ExpectedAccount>();
  for (const list of lists) {
    for (const account of list) {
      const seen = merged.get(account.id);
      if (seen === undefined) merged.set(account.id, { ...account, from: [...account.from] });
      else merged.set(account.id, { ...account, ...seen, from: [...new Set([...seen.from, ...account.from])] });
    }
  }
  return [...merged.values()];
};

export { diffMembership, expectedFromRegistry, mergeExpected, MISSING, optional };
export type { DiffEntry, ExpectedAccount, MembershipDiff };
