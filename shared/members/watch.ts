import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { AccountInfo, EnrichedFinding } from '../../schemas/enriched.ts';
import type { AccountDirectory } from '../accounts/directory.ts';
import { ingest } from '../pipeline.ts';
import { listOrganizationAccounts } from '../aws/organizations-accounts.ts';
import { diffMembership, expectedFromRegistry, mergeExpected, MISSING, type DiffEntry, type ExpectedAccount } from './diff.ts';
import { listAllMembers, resolveDetectorId } from '../aws/guardduty-members.ts';

/**
 * The membership watcher: the `members diff` of the administrator, turned into one router
 * event per expected account that GuardDuty does not monitor (Resigned, Removed, Disabled,
 * EmailVerificationFailed, any status this code does not know, or not a member at all).
 *
 * It fires once per change of state: the last status seen per account lives in the
 * FindingStateTable under `membership#<accountId>`. An alert is claimed with a conditional
 * write (so two overlapping runs cannot both fire), published, then confirmed; a publish
 * that fails leaves the claim unconfirmed and the next run fires again. An account seen
 * Enabled again re-arms (its record goes back to `Enabled`).
 */
const MEMBERSHIP_FINDING_TYPE = 'FindingsRouter:Membership/MemberNotMonitored';
interface MembershipState {
  status: string;
  /** True once the event for `status` was published. */
  alerted: boolean;
  claimedAtMs?: number;
}

interface MembershipStateStore {
  get(accountId: string): Promise<MembershipState | undefined>;
  /** Claims the alert for (account, status); false when another run has it or it was sent. */
  claim(accountId: string, status: string, previous: string | undefined, nowMs: number): Promise<boolean>;
  confirm(accountId: string, status: string, nowMs: number): Promise<void>;
  /** Records a monitored status: the next unmonitored status fires again. */
  rearm(accountId: string, status: string, nowMs: number): Promise<void>;
}

// ── The synthetic finding ─────────────────────────────────────────────────────
const WHY: Record<string, string> = {
  Resigned: 'the member account disassociated itself from the administrator (DisassociateFromAdministratorAccount)',
  Removed: 'the administrator disassociated the member account (DisassociateMembers)',
  Disabled: 'monitoring of the member account was stopped (StopMonitoringMembers)',
  EmailVerificationFailed: 'the invitation failed: the account id and email address did not verify',
  [MISSING]: 'the account is expected (accounts.yml or AWS Organizations) but is not a GuardDuty member of this administrator',
};

interface MembershipFindingInput {
  entry: DiffEntry;
  previousStatus?: string;
  region: string;
  partition: string;
  detectorId: string;
  /** The administrator account (ARN owner); the member account when unknown. */
  administratorId?: string;
  severity: number;
  nowMs: number;
}

/** A finding-shaped event (schemas/finding.ts) for one unmonitored account. */
const membershipFinding = (input: MembershipFindingInput): Record<string, unknown> => {
  const { entry, region, partition, detectorId, severity, nowMs } = input;
  const at = new Date(nowMs).toISOString();
  const id = `membership-${entry.accountId}-${entry.status.toLowerCase()}-${nowMs}`;
  const owner = input.administratorId ?? entry.accountId;
  const who = entry.name ? `${entry.name} (${entry.accountId})` : entry.accountId;
  const why = WHY[entry.status] ?? `the member's relationship status is '${entry.status}'`;
  const stateText = entry.status === MISSING ? 'is not a member' : `is ${entry.status}`;
  return {
    schemaVersion: '2.0',
    accountId: entry.accountId,
    region,
    partition,
    id,
    arn: `arn:${partition}:guardduty:${region}:${owner}:detector/${detectorId}/finding/${id}`,
    type: MEMBERSHIP_FINDING_TYPE,
    resource: { resourceType: 'Account' },
    service: {
      serviceName: 'findings-router',
      detectorId,
      archived: false,
      count: 1,
      eventFirstSeen: at,
      eventLastSeen: at,
      resourceRole: 'TARGET',
      additionalInfo: {
        membership: {
          status: entry.status,
          ...(input.previousStatus ? { previousStatus: input.previousStatus } : {}),
          ...(entry.email ? { email: entry.email } : {}),
          ...(entry.invitedAt ? { invitedAt: entry.invitedAt } : {}),
          ...(entry.updatedAt ? { updatedAt: entry.updatedAt } : {}),
          ...(input.administratorId ? { administratorId: input.administratorId } : {}),
        },
      },
    },
    severity,
    createdAt: at,
    updatedAt: at,
    title: `GuardDuty does not monitor account ${who}: it ${stateText}`,
    description:
      `GuardDuty in ${region} no longer sends findings of account ${who} to the administrator: ${why}` +
      `${input.previousStatus ? ` (status was ${input.previousStatus})` : ''}. Until it is Enabled again, threats in this account go unseen here. ` +
      'Re-invite it (findings-router members import) or let Organizations auto-enable add it.',
  };
};

const partitionOf = (region: string): string => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');
const CONSOLE_HOSTS: Record<string, string> = { aws: 'console.aws.amazon.com', 'aws-us-gov': 'console.amazonaws-us-gov.com', 'aws-cn': 'console.amazonaws.cn' };

// ── One run ───────────────────────────────────────────────────────────────────
type ExpectedFrom = 'accounts' | 'organizations' | 'both';

interface WatchDeps {
  guardDuty: GuardDutyClient;
  organizations?: OrganizationsClient;
  registry: ReadonlyMap<string, AccountInfo>;
  expectedFrom: ExpectedFrom;
  detectorId?: string;
  state: MembershipStateStore;
  /** Enrichment of the synthetic finding (the same chain as the enrich Lambda). */
  accounts: AccountDirectory;
  publish: (enriched: EnrichedFinding) => Promise<void>;
  region: string;
  partition?: string;
  severity: number;
  now?: () => number;
}

interface WatchResult {
  detectorId: string;
  expected: number;
  monitored: number;
  pending: number;
  /** Events published this run. */
  fired: { accountId: string; status: string; previousStatus?: string; findingId: string }[];
  /** Unmonitored accounts already alerted for this status. */
  quiet: { accountId: string; status: string }[];
  rearmed: { accountId: string; status: string }[];
}

const runMembershipWatch = async (deps: WatchDeps): Promise<WatchResult> => {
  const now = deps.now ?? Date.now;
  const partition = deps.partition ?? partitionOf(deps.region);
  const detectorId = await resolveDetectorId(deps.guardDuty, deps.detectorId);
  const fromRegistry = deps.expectedFrom === 'organizations' ? [] : expectedFromRegistry(deps.registry);
  let fromOrg: ExpectedAccount[] = [];
  if (deps.expectedFrom !== 'accounts') {
    if (!deps.organizations) throw new Error(`expected accounts from '${deps.expectedFrom}' need an Organizations client`);
    fromOrg = await listOrganizationAccounts(deps.organizations);
  }
  const expected = mergeExpected(fromRegistry, fromOrg);
  const diff = diffMembership(expected, await listAllMembers(deps.guardDuty, detectorId));
  const result: WatchResult = { detectorId, expected: diff.expected, monitored: diff.monitored.length, pending: diff.pending.length, fired: [], quiet: [], rearmed: [] };

  // One account's failure (a rejected PutEvents) does not hold back the others' alerts;
  // the run still fails at the end, and the unconfirmed claims fire again on a later run.
  const failures: string[] = [];
  for (const entry of [...diff.missing, ...diff.notMonitored]) {
    try {
      await alertOne(entry);
    } catch (error) {
      failures.push(`${entry.accountId} (${entry.status}): ${(error as Error).message}`);
    }
  }
  async function alertOne(entry: DiffEntry): Promise<void> {
    const previous = await deps.state.get(entry.accountId);
    if (previous?.status === entry.status && previous.alerted) {
      result.quiet.push({ accountId: entry.accountId, status: entry.status });
      return;
    }
    const nowMs = now();
    const previousStatus = previous?.status;
    if (!(await deps.state.claim(entry.accountId, entry.status, previousStatus, nowMs))) {
      result.quiet.push({ accountId: entry.accountId, status: entry.status });
      return;
    }
    const finding = membershipFinding({
      entry,
      ...(previousStatus !== undefined && previousStatus !== entry.status ? { previousStatus } : {}),
      region: deps.region,
      partition,
      detectorId,
      ...(diff.administratorId ? { administratorId: diff.administratorId } : {}),
      severity: deps.severity,
      nowMs,
    });
    const ingested = await ingest(finding, deps.accounts);
    if (ingested.kind !== 'enriched') throw new Error(`membership event for ${entry.accountId} is not a valid finding: ${ingested.reason}`);
    // The console page that lists members (the finding itself exists only in the router).
    ingested.enriched.enrichment.consoleUrl = `https://${CONSOLE_HOSTS[partition] ?? CONSOLE_HOSTS.aws}/guardduty/home?region=${deps.region}#/accounts`;
    await deps.publish(ingested.enriched);
    await deps.state.confirm(entry.accountId, entry.status, now());
    result.fired.push({ accountId: entry.accountId, status: entry.status, ...(previousStatus ? { previousStatus } : {}), findingId: String(finding.id) });
  }
  for (const entry of diff.monitored) {
    const previous = await deps.state.get(entry.accountId);
    // No record means armed already; a record of another status is re-armed.
    if (previous !== undefined && previous.status !== entry.status) {
      await deps.state.rearm(entry.accountId, entry.status, now());
      result.rearmed.push({ accountId: entry.accountId, status: entry.status });
    }
  }
  if (failures.length > 0) {
    throw new Error(`membership alerts not published for ${failures.length} account(s), retried on a later run: ${failures.join('; ')}`);
  }
  return result;
};

const parseSeverity = (value: string | undefined): number => {
  if (value === undefined || value === '') return 5;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 10) throw new Error(`MEMBERSHIP_SEVERITY must be a number from 0 to 10, got '${value}'`);
  return n;
};

const parseExpectedFrom = (value: string | undefined): ExpectedFrom => {
  if (value === undefined || value === '') return 'accounts';
  if (value === 'accounts' || value === 'organizations' || value === 'both') return value;
  throw new Error(`EXPECTED_ACCOUNTS must be accounts, organizations or both, got '${value}'`);
};

export { runMembershipWatch, parseSeverity, parseExpectedFrom, MEMBERSHIP_FINDING_TYPE };
export type { MembershipStateStore, WatchDeps };
