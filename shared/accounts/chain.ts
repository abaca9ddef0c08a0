import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { AccountInfo } from '../../schemas/enriched.ts';
import type { AccountDirectory } from './directory.ts';
import { dataRecord } from '../data-record.ts';

/**
 * The account metadata provider chain: `accounts.yml` overrides → AWS Organizations
 * (name, email, OU path, tags) → GuardDuty GetMembers (relationship status, invitedAt).
 *
 * - Every source is asked (overrides win field by field, tags key by key).
 * - Results are cached in memory across warm invocations: a found account for `ttlMs`,
 *   an account no source knows for `negativeTtlMs`, a result with a failed source for
 *   `failureTtlMs` (so a throttled API is not hammered, and is asked again soon).
 * - At most `maxConcurrency` account lookups are in flight; concurrent lookups of one
 *   account share one promise.
 * - `lookup` never throws: a failed or slow source leaves the fields it would have set
 *   out and marks the account `enrichment: 'partial'`; the finding still flows.
 */

/** What one source knows about one account. */
interface AccountFacts {
  name?: string;
  email?: string;
  ou?: string;
  tags?: Record<string, string>;
  relationshipStatus?: string;
  invitedAt?: string;
}

type SourceResult =
  /** The source knows the account. */
  | { status: 'found'; facts: AccountFacts }
  /** The source answered: it does not know the account (a complete, negative answer). */
  | { status: 'absent' }
  /** The source failed (throttled, denied, timed out); `facts` holds what it got before failing. */
  | { status: 'failed'; error: string; facts?: AccountFacts };

interface AccountSource {
  readonly name: string;
  lookup(accountId: string, signal: AbortSignal): Promise<SourceResult>;
}

interface ChainOptions {
  /** `accounts.yml` entries; they win over every source. */
  overrides?: ReadonlyMap<string, AccountInfo>;
  sources: readonly AccountSource[];
  /** Cache lifetime of an account some source found (default 15 min). */
  ttlMs?: number;
  /** Cache lifetime of an account no source knows (default 2 min). */
  negativeTtlMs?: number;
  /** Cache lifetime of a result with a failed source (default 30 s). */
  failureTtlMs?: number;
  /** Account lookups in flight at once (default 4). */
  maxConcurrency?: number;
  /** Per source and account; a slower source counts as failed (default 2.5 s). */
  timeoutMs?: number;
  now?: () => number;
  /** Called once per failed source lookup (for logging); must not throw. */
  onSourceError?: (event: { source: string; accountId: string; error: string }) => void;
}

interface ChainStats {
  hits: number;
  misses: number;
  sourceCalls: Record<string, number>;
  failures: Record<string, number>;
}

interface AccountChain extends AccountDirectory {
  stats(): ChainStats;
  /** Forgets every cached account. */
  clear(): void;
}

const MINUTE = 60_000;

const createAccountChain = (options: ChainOptions): AccountChain => {
  const ttlMs = options.ttlMs ?? 15 * MINUTE;
  const negativeTtlMs = options.negativeTtlMs ?? 2 * MINUTE;
  const failureTtlMs = options.failureTtlMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 2_500;
  const now = options.now ?? Date.now;
  const overrides = options.overrides ?? new Map<string, AccountInfo>();
  const limit = semaphore(Math.max(1, options.maxConcurrency ?? 4));
  const cache = new Map<string, { info: AccountInfo; expiresAt: number }>();
  const inFlight = new Map<string, Promise<AccountInfo>>();
  const stats: ChainStats = { hits: 0, misses: 0, sourceCalls: {}, failures: {} };

  const ask = async (source: AccountSource, accountId: string): Promise<SourceResult> => {
    stats.sourceCalls[source.name] = (stats.sourceCalls[source.name] ?? 0) + 1;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<SourceResult>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ status: 'failed', error: `timed out after ${timeoutMs} ms` });
      }, timeoutMs);
    });
    try {
      return await Promise.race([
        source.lookup(accountId, controller.signal).catch((error: unknown): SourceResult => ({ status: 'failed', error: describeError(error) })),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const resolve = async (accountId: string): Promise<AccountInfo> => {
    const override = overrides.get(accountId);
    const results = await limit(() => Promise.all(options.sources.map((source) => ask(source, accountId))));
    let partial = false;
    let found = false;
    const merged: AccountFacts = {};
    // Tag keys are data: a null prototype keeps `constructor` and `__proto__` ordinary keys.
    const tags: Record<string, string> = Object.create(null);
    results.forEach((result, index) => {
      const source = options.sources[index]!.name;
      if (result.status === 'failed') {
        partial = true;
        stats.failures[source] = (stats.failures[source] ?? 0) + 1;
        try {
          options.onSourceError?.({ source, accountId, error: result.error });
        } catch {
          // a logging hook never blocks a finding
        }
      }
      const facts = result.status === 'absent' ? undefined : result.facts;
      if (facts === undefined) return;
      if (result.status === 'found') found = true;
      // Earlier sources win over later ones (Organizations' email over the invitation email).
      for (const key of ['name', 'email', 'ou', 'relationshipStatus', 'invitedAt'] as const) {
        if (merged[key] === undefined && facts[key] !== undefined) merged[key] = facts[key];
      }
      for (const [k, v] of Object.entries(facts.tags ?? {})) if (!Object.hasOwn(tags, k)) tags[k] = v;
    });
    const info: AccountInfo = {
      id: accountId,
      known: override !== undefined || found,
      ...pick('name', override?.name ?? merged.name),
      ...pick('email', override?.email ?? merged.email),
      ...pick('ou', override?.ou ?? merged.ou),
      tags: dataRecord([...Object.entries(tags), ...Object.entries(override?.tags ?? {})]),
      ...pick('relationshipStatus', merged.relationshipStatus),
      ...pick('invitedAt', merged.invitedAt),
      enrichment: partial ? 'partial' : 'complete',
    };
    const ttl = partial ? failureTtlMs : found ? ttlMs : negativeTtlMs;
    cache.set(accountId, { info, expiresAt: now() + ttl });
    return info;
  };

  return {
    lookup: async (accountId) => {
      const cached = cache.get(accountId);
      if (cached && cached.expiresAt > now()) {
        stats.hits++;
        return cached.info;
      }
      const pending = inFlight.get(accountId);
      if (pending) {
        stats.hits++;
        return pending;
      }
      stats.misses++;
      const promise = resolve(accountId)
        .catch((error: unknown): AccountInfo => {
          // Defensive: resolve() handles source failures itself; never block a finding.
          options.onSourceError?.({ source: 'chain', accountId, error: describeError(error) });
          const override = overrides.get(accountId);
          return { ...(override ?? { id: accountId, known: false, tags: {} }), enrichment: 'partial' };
        })
        .finally(() => inFlight.delete(accountId));
      inFlight.set(accountId, promise);
      return promise;
    },
    stats: () => structuredClone(stats),
    clear: () => cache.clear(),
  };
};

const pick = <K extends string>(key: K, value: string | undefined): { [P in K]?: string } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };

/** A counting semaphore: `limit(task)` runs at most `max` tasks at once, the rest in arrival order. */
const semaphore = (max: number) => {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
};

const describeError = (error: unknown): string => {
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
  }
  return String(error);
};

const errorName = (error: unknown): string => (error as { name?: string } | undefined)?.name ?? '';

// ── Sources ───────────────────────────────────────────────────────────────────

interface OrganizationsSourceOptions {
  /** Cache lifetime of OU names and parents, shared by every account (default 1 h). */
  ouTtlMs?: number;
  now?: () => number;
}

// The SDK command classes load on first lookup (lazily loaded chunks in the Lambda bundles:
// most deployments use accounts.yml only and never load these clients).
let organizationsSdk: Promise<typeof import('../aws/lazy/organizations.ts')> | undefined;
const organizationsCommands = () => (organizationsSdk ??= import('../aws/lazy/organizations.ts'));
let guardDutySdk: Promise<typeof import('../aws/lazy/guardduty.ts')> | undefined;
const guardDutyCommands = () => (guardDutySdk ??= import('../aws/lazy/guardduty.ts'));

/**
 * AWS Organizations: DescribeAccount (name, email), ListParents up to the root with
 * DescribeOrganizationalUnit for each OU (`Root/Workloads/Prod`), ListTagsForResource.
 * An account outside the organization (or no organization) is `absent`.
 */
const organizationsSource = (client: OrganizationsClient, options: OrganizationsSourceOptions = {}): AccountSource => {
  const ouTtlMs = options.ouTtlMs ?? 60 * MINUTE;
  const now = options.now ?? Date.now;
  const ous = new Map<string, { name: string; parentId: string; parentType: string; expiresAt: number }>();

  const parentOf = async (childId: string, signal: AbortSignal): Promise<{ id: string; type: string }> => {
    const { ListParentsCommand } = await organizationsCommands();
    const { Parents } = await client.send(new ListParentsCommand({ ChildId: childId }), { abortSignal: signal });
    const parent = Parents?.[0];
    if (parent?.Id === undefined) throw new Error(`ListParents returned no parent for ${childId}`);
    return { id: parent.Id, type: parent.Type ?? 'ROOT' };
  };

  const ouPath = async (accountId: string, signal: AbortSignal): Promise<string> => {
    const names: string[] = [];
    let parent = await parentOf(accountId, signal);
    // Organizations nests OUs at most five deep under the root.
    for (let depth = 0; parent.type === 'ORGANIZATIONAL_UNIT' && depth < 8; depth++) {
      let ou = ous.get(parent.id);
      if (ou === undefined || ou.expiresAt <= now()) {
        const { DescribeOrganizationalUnitCommand } = await organizationsCommands();
        const [described, grandParent] = await Promise.all([
          client.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: parent.id }), { abortSignal: signal }),
          parentOf(parent.id, signal),
        ]);
        ou = { name: described.OrganizationalUnit?.Name ?? parent.id, parentId: grandParent.id, parentType: grandParent.type, expiresAt: now() + ouTtlMs };
        ous.set(parent.id, ou);
      }
      names.unshift(ou.name);
      parent = { id: ou.parentId, type: ou.parentType };
    }
    return ['Root', ...names].join('/');
  };

  const tagsOf = async (accountId: string, signal: AbortSignal): Promise<Record<string, string>> => {
    const tags: Record<string, string> = Object.create(null);
    let token: string | undefined;
    const { ListTagsForResourceCommand } = await organizationsCommands();
    do {
      const page = await client.send(new ListTagsForResourceCommand({ ResourceId: accountId, ...(token ? { NextToken: token } : {}) }), { abortSignal: signal });
      for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
      token = page.NextToken;
    } while (token);
    return tags;
  };

  return {
    name: 'organizations',
    lookup: async (accountId, signal) => {
      let account;
      const { DescribeAccountCommand } = await organizationsCommands();
      try {
        ({ Account: account } = await client.send(new DescribeAccountCommand({ AccountId: accountId }), { abortSignal: signal }));
      } catch (error) {
        if (['AccountNotFoundException', 'AWSOrganizationsNotInUseException'].includes(errorName(error))) return { status: 'absent' };
        throw error;
      }
      const facts: AccountFacts = {
        ...pick('name', account?.Name),
        ...pick('email', account?.Email),
      };
      const [ou, tags] = await Promise.allSettled([ouPath(accountId, signal), tagsOf(accountId, signal)]);
      if (ou.status === 'fulfilled') facts.ou = ou.value;
      if (tags.status === 'fulfilled') facts.tags = tags.value;
      const failed = [ou, tags].find((r) => r.status === 'rejected');
      return failed ? { status: 'failed', error: describeError(failed.reason), facts } : { status: 'found', facts };
    },
  };
};

interface GuardDutySourceOptions {
  /** The administrator's detector; ListDetectors finds it when not given. */
  detectorId?: string;
}

/** GuardDuty GetMembers on the administrator's detector: relationship status and invitedAt. */
const guardDutyMembersSource = (client: GuardDutyClient, options: GuardDutySourceOptions = {}): AccountSource => {
  let detector: Promise<string> | undefined;
  const detectorId = (): Promise<string> => {
    if (options.detectorId) return Promise.resolve(options.detectorId);
    detector ??= import('../aws/guardduty-members.ts').then(({ resolveDetectorId }) => resolveDetectorId(client)).catch((error: unknown) => {
      detector = undefined; // ask again next time
      throw error;
    });
    return detector;
  };
  return {
    name: 'guardduty',
    lookup: async (accountId, signal) => {
      const { GetMembersCommand } = await guardDutyCommands();
      const response = await client.send(new GetMembersCommand({ DetectorId: await detectorId(), AccountIds: [accountId] }), { abortSignal: signal });
      const member = response.Members?.find((m) => m.AccountId === accountId);
      if (member === undefined) return { status: 'absent' };
      return {
        status: 'found',
        facts: {
          ...pick('relationshipStatus', member.RelationshipStatus),
          ...pick('invitedAt', member.InvitedAt),
          ...pick('email', member.Email),
        },
      };
    },
  };
};

export { createAccountChain, organizationsSource, guardDutyMembersSource, describeError };
export type { AccountChain, AccountSource };
