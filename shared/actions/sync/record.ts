import * as z from 'zod/mini';
import { DeliveryError } from '../../errors.ts';
import { ledgerKey, type Ledger } from '../../targets/ledger.ts';
import type { RenderedPayload, Target } from '../../targets/types.ts';
import type { FindingRef } from '../model.ts';
import type { SyncBackConfig, SyncPlatform } from './config.ts';
import { rememberRemoteRecord } from './refs.ts';

/**
 * Wraps a pagerduty, opsgenie or jira target so that, once a delivery succeeded, the remote
 * record it created is remembered against the finding (refs.ts). The targets stay as they are:
 * the finding is read back from the payload they rendered, and for PagerDuty and Opsgenie kept
 * only when it hashes to the dedup key / alias that was sent. Other targets, and platforms not
 * listed under `actions.syncBack`, are returned unchanged.
 */
const parse = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
};

const PagerDutyTriggerSchema = z.object({
  event_action: z.literal('trigger'),
  dedup_key: z.string(),
  payload: z.object({
    custom_details: z.object({ finding_id: z.string(), account_id: z.string(), region: z.string(), finding_type: z.optional(z.string()) }),
  }),
});

const OpsgenieCreateSchema = z.object({
  alias: z.string(),
  message: z.string(),
  details: z.object({ findingId: z.string(), accountId: z.string(), region: z.string(), findingType: z.optional(z.string()) }),
});

const JiraCreateSchema = z.object({
  properties: z.array(z.object({ key: z.string(), value: z.unknown() })),
});
const JiraPropertySchema = z.object({ id: z.string(), accountId: z.string(), region: z.string(), type: z.optional(z.string()) });
/** The jira target's ledger value: `{ key, … }`, or the bare issue key an older version wrote. */
const ISSUE_KEY = /^[A-Z][A-Z0-9_]*-\d+$/;

const ref = (id: string, accountId: string, region: string, type: string | undefined): FindingRef => ({ id, accountId, region, ...(type ? { type } : {}) });

/** The remote id and finding a successful delivery of `payload` stands for, if it created or updated a record. */
const remoteRecordOf = async (type: SyncPlatform, targetName: string, payload: RenderedPayload, ledger: Ledger): Promise<{ remoteId: string; finding: FindingRef } | undefined> => {
  const body = parse(payload.body);
  if (type === 'pagerduty') {
    const event = z.safeParse(PagerDutyTriggerSchema, body);
    if (!event.success) return undefined; // resolve events create nothing
    const d = event.data.payload.custom_details;
    return { remoteId: event.data.dedup_key, finding: ref(d.finding_id, d.account_id, d.region, d.finding_type) };
  }
  if (type === 'opsgenie') {
    const alert = z.safeParse(OpsgenieCreateSchema, body);
    if (!alert.success) return undefined; // close requests create nothing
    const d = alert.data.details;
    return { remoteId: alert.data.alias, finding: ref(d.findingId, d.accountId, d.region, d.findingType) };
  }
  if (type === 'jira') {
    const issue = z.safeParse(JiraCreateSchema, body);
    const property = issue.success ? issue.data.properties.find((entry) => entry.key === 'guardduty-finding') : undefined;
    const finding = z.safeParse(JiraPropertySchema, property?.value);
    if (!finding.success) return undefined;
    const f = finding.data;
    // The issue key is known only to the jira target, which keeps it in the ledger under the finding.
    const stored = await ledger.get(ledgerKey(targetName, f));
    if (stored === undefined) return undefined;
    const key = ISSUE_KEY.test(stored) ? stored : z.safeParse(z.object({ key: z.string() }), parse(stored)).data?.key;
    if (key === undefined || !ISSUE_KEY.test(key)) return undefined;
    return { remoteId: key, finding: ref(f.id, f.accountId, f.region, f.type) };
  }
  return undefined;
};

const isSyncPlatform = (type: string): type is SyncPlatform => type === 'pagerduty' || type === 'opsgenie' || type === 'jira';

/** `type` is the target's type as configured (createTargets knows it). */
const recordRemoteRecords = (target: Target, type: string, ledger: Ledger, syncBack: SyncBackConfig | undefined): Target => {
  if (!isSyncPlatform(type) || syncBack?.[type] === undefined) return target;
  const platform = type;
  return {
    ...target,
    send: async (payload, delivery) => {
      await target.send(payload, delivery);
      try {
        const record = await remoteRecordOf(platform, target.name, payload, ledger);
        if (record !== undefined) await rememberRemoteRecord(ledger, platform, record.remoteId, record.finding);
      } catch (error) {
        // The record exists remotely but could not be remembered: redelivering is harmless (all three
        // targets upsert), and without the entry the record could never be synced back.
        throw new DeliveryError(target.name, `could not remember the ${platform} record for sync-back`, { retryable: true }, { cause: error });
      }
    },
  };
};

export { recordRemoteRecords, remoteRecordOf };
