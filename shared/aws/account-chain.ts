import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { AccountInfo } from '../../schemas/enriched.ts';
import { loadOnce } from './load-once.ts';
import { createAccountChain, guardDutyMembersSource, organizationsSource, type AccountChain, type AccountSource } from '../accounts/chain.ts';

/**
 * The Lambdas' account directory: the bundled accounts.yml as overrides, then the remote
 * sources named in ACCOUNT_SOURCES (comma-separated: `organizations`, `guardduty`; unset or
 * `none` = accounts.yml only). GUARDDUTY_DETECTOR_ID saves a ListDetectors call;
 * ACCOUNT_CACHE_TTL_SECONDS / ACCOUNT_NEGATIVE_TTL_SECONDS tune the cache.
 * Nothing here touches the network at cold start, and a client this module creates loads its
 * SDK chunk on its first request: findings from accounts in accounts.yml never need it.
 */
const seconds = (name: string): number | undefined => {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`environment variable ${name} must be a number of seconds, got '${value}'`);
  return n * 1000;
};

const accountSources = (env: string | undefined): Set<string> => {
  const names = new Set((env ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'none'));
  for (const name of names) {
    if (name !== 'organizations' && name !== 'guardduty') throw new Error(`ACCOUNT_SOURCES: unknown source '${name}' (expected organizations, guardduty or none)`);
  }
  return names;
};

interface BundledChainOptions {
  registry: ReadonlyMap<string, AccountInfo>;
  organizations?: OrganizationsClient;
  guardDuty?: GuardDutyClient;
  onSourceError?: (event: { source: string; accountId: string; error: string }) => void;
}

/**
 * A client created, with its SDK chunk loaded, on its first request. The account sources only
 * call `send`; a failed load is retried by the next request.
 */
const lazyClient = <C>(create: () => Promise<C>): C => {
  const client = loadOnce(create);
  const send = async (...args: unknown[]): Promise<unknown> =>
    ((await client()) as unknown as { send: (...a: unknown[]) => Promise<unknown> }).send(...args);
  return { send } as unknown as C;
};

/** Clients not passed in are created on first use (see lazyClient). */
const bundledAccountChain = async (options: BundledChainOptions): Promise<AccountChain> => {
  const names = accountSources(process.env.ACCOUNT_SOURCES);
  const sources: AccountSource[] = [];
  // Organizations is a global service; the SDK resolves its endpoint from any region.
  if (names.has('organizations')) {
    const client = options.organizations ?? lazyClient(async () => new (await import('./lazy/organizations.ts')).OrganizationsClient({}));
    sources.push(organizationsSource(client));
  }
  if (names.has('guardduty')) {
    const detectorId = process.env.GUARDDUTY_DETECTOR_ID;
    const client = options.guardDuty ?? lazyClient(async () => new (await import('./lazy/guardduty.ts')).GuardDutyClient({}));
    sources.push(guardDutyMembersSource(client, detectorId ? { detectorId } : {}));
  }
  const ttlMs = seconds('ACCOUNT_CACHE_TTL_SECONDS');
  const negativeTtlMs = seconds('ACCOUNT_NEGATIVE_TTL_SECONDS');
  return createAccountChain({
    overrides: options.registry,
    sources,
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(negativeTtlMs === undefined ? {} : { negativeTtlMs }),
    ...(options.onSourceError ? { onSourceError: options.onSourceError } : {}),
  });
};

export { bundledAccountChain };
