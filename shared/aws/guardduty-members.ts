import {
  CreateMembersCommand,
  InviteMembersCommand,
  ListDetectorsCommand,
  ListMembersCommand,
  type GuardDutyClient,
  type Member,
} from '@aws-sdk/client-guardduty';
import { FindingsRouterError } from '../errors.ts';

/**
 * The GuardDuty member-management calls of the administrator account, within the API
 * limits of the model (botocore guardduty 2017-11-28): `AccountDetails` and `AccountIds`
 * hold 1..50 items, ListMembers/ListDetectors pages hold at most 50.
 */
const MAX_ACCOUNTS_PER_CALL = 50;
const MAX_RESULTS = 50;

class DetectorError extends FindingsRouterError {
  constructor(message: string) {
    super(message);
    this.name = 'DetectorError';
  }
}

/** The one detector of this account and region (ListDetectors), unless given. */
const resolveDetectorId = async (client: GuardDutyClient, given?: string): Promise<string> => {
  if (given) return given;
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListDetectorsCommand({ MaxResults: MAX_RESULTS, ...(token ? { NextToken: token } : {}) }));
    ids.push(...(page.DetectorIds ?? []));
    token = page.NextToken;
  } while (token);
  if (ids.length === 0) throw new DetectorError('no GuardDuty detector in this account and region (enable GuardDuty, or pass --detector-id)');
  if (ids.length > 1) throw new DetectorError(`${ids.length} detectors found (${ids.join(', ')}); pass --detector-id`);
  return ids[0]!;
};

/** Every member, associated or not (`onlyAssociated=false`), following nextToken. */
const listAllMembers = async (client: GuardDutyClient, detectorId: string): Promise<Member[]> => {
  const members: Member[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListMembersCommand({ DetectorId: detectorId, MaxResults: MAX_RESULTS, OnlyAssociated: 'false', ...(token ? { NextToken: token } : {}) }),
    );
    members.push(...(page.Members ?? []));
    token = page.NextToken;
  } while (token);
  return members;
};

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

interface Unprocessed {
  accountId: string;
  result: string;
  operation: 'CreateMembers' | 'InviteMembers';
}

interface ImportOutcome {
  created: string[];
  invited: string[];
  unprocessed: Unprocessed[];
  calls: { operation: 'CreateMembers' | 'InviteMembers'; accounts: number }[];
}

interface ImportOptions {
  message?: string;
  disableEmailNotification?: boolean;
  /** Called after each batch (progress output). */
  onBatch?: (operation: 'CreateMembers' | 'InviteMembers', batch: number, of: number, accounts: number) => void;
}

/**
 * CreateMembers for every account, then InviteMembers for those CreateMembers accepted,
 * each in batches of at most 50. `unprocessedAccounts` of either call are collected, not thrown.
 */
const createAndInviteMembers = async (
  client: GuardDutyClient,
  detectorId: string,
  accounts: readonly { accountId: string; email: string }[],
  options: ImportOptions = {},
): Promise<ImportOutcome> => {
  const outcome: ImportOutcome = { created: [], invited: [], unprocessed: [], calls: [] };
  const createBatches = chunk(accounts, MAX_ACCOUNTS_PER_CALL);
  for (const [index, batch] of createBatches.entries()) {
    const response = await client.send(
      new CreateMembersCommand({ DetectorId: detectorId, AccountDetails: batch.map((a) => ({ AccountId: a.accountId, Email: a.email })) }),
    );
    outcome.calls.push({ operation: 'CreateMembers', accounts: batch.length });
    const rejected = new Set<string>();
    for (const u of response.UnprocessedAccounts ?? []) {
      rejected.add(u.AccountId ?? '');
      outcome.unprocessed.push({ accountId: u.AccountId ?? '?', result: u.Result ?? 'no reason given', operation: 'CreateMembers' });
    }
    outcome.created.push(...batch.map((a) => a.accountId).filter((id) => !rejected.has(id)));
    options.onBatch?.('CreateMembers', index + 1, createBatches.length, batch.length);
  }
  const inviteBatches = chunk(outcome.created, MAX_ACCOUNTS_PER_CALL);
  for (const [index, batch] of inviteBatches.entries()) {
    const response = await client.send(
      new InviteMembersCommand({
        DetectorId: detectorId,
        AccountIds: batch,
        ...(options.message !== undefined ? { Message: options.message } : {}),
        ...(options.disableEmailNotification ? { DisableEmailNotification: true } : {}),
      }),
    );
    outcome.calls.push({ operation: 'InviteMembers', accounts: batch.length });
    const rejected = new Set<string>();
    for (const u of response.UnprocessedAccounts ?? []) {
      rejected.add(u.AccountId ?? '');
      outcome.unprocessed.push({ accountId: u.AccountId ?? '?', result: u.Result ?? 'no reason given', operation: 'InviteMembers' });
    }
    outcome.invited.push(...batch.filter((id) => !rejected.has(id)));
    options.onBatch?.('InviteMembers', index + 1, inviteBatches.length, batch.length);
  }
  return outcome;
};

export { resolveDetectorId, listAllMembers, createAndInviteMembers, chunk, MAX_ACCOUNTS_PER_CALL };
