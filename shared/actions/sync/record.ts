import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { DeliveryError } from '../../errors.ts';
import { ledgerKey, type Ledger } from '../../targets/ledger.ts';
import { findingDedupKey } from '../../targets/pagerduty.ts';
import type { Target } from '../../targets/types.ts';
import type { SyncBackConfig, SyncPlatform } from './config.ts';
import { rememberRemoteRecord } from './refs.ts';

/**
 * Wraps a pagerduty, opsgenie or jira target so that, once a finding's delivery succeeded, the
 * remote record it stands for is remembered against the finding (refs.ts). The targets stay as
 * they are: the dedup key / alias is derived from the finding exactly as those targets derive it,
 * and the Jira issue key is read from the jira target's own ledger entry. Other targets, and
 * platforms not listed under `actions.syncBack`, are returned unchanged (sync-back off costs
 * nothing).
 */

/** The jira target's ledger value: `{ key, … }`, or the bare issue key an older version wrote. */
const ISSUE_KEY = /^[A-Z][A-Z0-9_]*-\d+$/;
const IssueRecordSchema = z.object({ key: z.string().check(z.regex(ISSUE_KEY)) });

const jiraIssueKey = async (ledger: Ledger, targetName: string, finding: EnrichedFinding['finding']): Promise<string | undefined> => {
  const stored = await ledger.get(ledgerKey(targetName, finding));
  if (stored === undefined) return undefined;
  if (ISSUE_KEY.test(stored)) return stored;
  try {
    return z.safeParse(IssueRecordSchema, JSON.parse(stored)).data?.key;
  } catch {
    return undefined;
  }
};

/** Remembers the record a successful delivery of `enriched` to this target created or updated. */
const rememberDelivery = async (platform: SyncPlatform, targetName: string, enriched: EnrichedFinding, ledger: Ledger): Promise<void> => {
  // An archived finding has nothing left to archive; its delivery (often a resolve or close) is not recorded.
  if (enriched.enrichment.archived) return;
  const { finding } = enriched;
  const remoteId = platform === 'jira' ? await jiraIssueKey(ledger, targetName, finding) : findingDedupKey(finding);
  if (remoteId === undefined) return;
  await rememberRemoteRecord(ledger, platform, remoteId, { id: finding.id, accountId: finding.accountId, region: finding.region, type: finding.type });
};

const isSyncPlatform = (type: string): type is SyncPlatform => type === 'pagerduty' || type === 'opsgenie' || type === 'jira';

/** `type` is the target's type as configured (createTargets knows it). */
const recordRemoteRecords = <T extends Target>(target: T, type: string, ledger: Ledger, syncBack: SyncBackConfig | undefined): T => {
  if (!isSyncPlatform(type) || syncBack?.[type] === undefined) return target;
  const platform = type;
  const send = target.send.bind(target) as (job: Parameters<T['send']>[0]) => Promise<void>;
  return {
    ...target,
    send: async (job: Parameters<T['send']>[0]) => {
      await send(job);
      if (job.finding === undefined) return; // digests create no record of their own
      try {
        await rememberDelivery(platform, target.name, job.finding, ledger);
      } catch (error) {
        // The record exists remotely but could not be remembered: redelivering is harmless (all three
        // targets upsert), and without the entry the record could never be synced back.
        throw new DeliveryError(target.name, `could not remember the ${platform} record for sync-back`, { retryable: true }, { cause: error });
      }
    },
  };
};

export { recordRemoteRecords, rememberDelivery };
