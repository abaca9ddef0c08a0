import * as z from 'zod/mini';
import { composeKey } from '../../keys.ts';
import type { Ledger } from '../../targets/ledger.ts';
import { findingDedupKey } from '../../targets/pagerduty.ts';
import type { FindingRef } from '../model.ts';
import type { SyncPlatform } from './config.ts';

/**
 * The reverse of the target ledger: remote record (PagerDuty dedup key, Opsgenie alias, Jira
 * issue key) → the finding it was created for. Only the router writes it, after a delivery
 * succeeded, so an entry is proof that the record is ours. Nothing a webhook says about a
 * finding is believed: what the services send back is the dedup key or alias (a one-way hash
 * of account, region and finding id) and the issue key, and the finding is read from here.
 */
const FindingRefSchema = z.strictObject({
  id: z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,300}$/, 'expected a GuardDuty finding id')),
  accountId: z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit account id')),
  region: z.string().check(z.regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'expected an AWS region such as us-east-1')),
  type: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
});

/** A remote id is a key of the service's own making; bounded before it reaches the store. */
const REMOTE_ID = /^[\x21-\x7e]{1,255}$/;

const syncRefKey = (platform: SyncPlatform, remoteId: string): string => composeKey('sync-ref', platform, remoteId);

/**
 * For PagerDuty and Opsgenie the remote id is derived from the finding: an entry must hash back
 * to the key it is stored under (a damaged or misplaced entry then archives nothing).
 */
const bindsTo = (platform: SyncPlatform, remoteId: string, ref: FindingRef): boolean =>
  platform === 'jira' || findingDedupKey(ref) === remoteId;

/** Records that `remoteId` on `platform` was created by the router for `finding`. */
const rememberRemoteRecord = async (ledger: Ledger, platform: SyncPlatform, remoteId: string, finding: FindingRef): Promise<boolean> => {
  const ref = z.safeParse(FindingRefSchema, { id: finding.id, accountId: finding.accountId, region: finding.region, ...(finding.type ? { type: finding.type } : {}) });
  if (!REMOTE_ID.test(remoteId) || !ref.success || !bindsTo(platform, remoteId, ref.data)) return false;
  await ledger.set(syncRefKey(platform, remoteId), JSON.stringify(ref.data));
  return true;
};

/** The finding the router created `remoteId` for, or undefined when the router created no such record. */
const findingForRemote = async (ledger: Ledger, platform: SyncPlatform, remoteId: string): Promise<FindingRef | undefined> => {
  if (!REMOTE_ID.test(remoteId)) return undefined;
  const stored = await ledger.get(syncRefKey(platform, remoteId));
  if (stored === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return undefined;
  }
  const ref = z.safeParse(FindingRefSchema, parsed);
  if (!ref.success || !bindsTo(platform, remoteId, ref.data)) return undefined;
  return ref.data;
};

export { rememberRemoteRecord, findingForRemote, syncRefKey };
