import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNTS_CONFIG } from '../../shared/accounts/directory.ts';
import { parseConfig } from '../../shared/cli/config/parse.ts';
import { createAccountChain, guardDutyMembersSource, organizationsSource, type AccountSource } from '../../shared/accounts/chain.ts';
import { ingest } from '../../shared/pipeline.ts';
import { startOrgGuardDutyLoopback, type OrgGuardDutyLoopback } from '../helpers/org-guardduty-loopback.ts';

/**
 * The account provider chain against the real Organizations (JSON 1.1) and GuardDuty
 * (REST-JSON) SDK clients, talking to a loopback that speaks both wire protocols.
 */
const PROD = '111111111111';
const SANDBOX = '444444444444';
const OUTSIDER = '555555555555'; // invited from outside the organization
const STRANGER = '777777777777'; // nobody knows it

let loopback: OrgGuardDutyLoopback;
let organizations: OrganizationsClient;
let guardDuty: GuardDutyClient;

beforeAll(async () => {
  loopback = await startOrgGuardDutyLoopback({
    ous: [
      { id: 'ou-root-workloads', name: 'Workloads', parentId: 'r-examplerootid' },
      { id: 'ou-workloads-prod', name: 'Prod', parentId: 'ou-root-workloads' },
    ],
    accounts: [
      { id: PROD, name: 'payments-prod', email: 'aws+payments-prod@example.com', parentId: 'ou-workloads-prod', tags: { env: 'prod', owner: 'payments', 'cost-center': 'cc-42' } },
      { id: SANDBOX, name: 'sandbox', email: 'aws+sandbox@example.com', parentId: 'r-examplerootid', tags: {} },
    ],
    members: [
      { accountId: PROD, email: 'security@example.com', relationshipStatus: 'Enabled', invitedAt: '2024-02-09T21:33:05.568Z', updatedAt: '2024-02-09T21:33:46.363Z' },
      { accountId: OUTSIDER, email: 'vendor@example.net', relationshipStatus: 'Invited', invitedAt: '2024-03-01T10:00:00.000Z', updatedAt: '2024-03-01T10:00:00.000Z' },
    ],
  });
  organizations = new OrganizationsClient(loopback.clientConfig);
  guardDuty = new GuardDutyClient(loopback.clientConfig);
});

afterAll(async () => {
  organizations?.destroy();
  guardDuty?.destroy();
  await loopback?.close();
});

beforeEach(() => loopback.reset());

const chainWith = (options: { now?: () => number; overrides?: string; timeoutMs?: number; orgClient?: OrganizationsClient } = {}) =>
  createAccountChain({
    sources: [
      organizationsSource(options.orgClient ?? organizations),
      guardDutyMembersSource(guardDuty, { detectorId: loopback.detectorIds[0]! }),
    ],
    ...(options.overrides ? { overrides: parseConfig(ACCOUNTS_CONFIG, options.overrides, 'accounts.yml') } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });

const sshEvent = (accountId: string) => {
  const event = JSON.parse(readFileSync(join(import.meta.dirname, '../events/published/ssh-bruteforce.sample.eventbridge.json'), 'utf8'));
  event.detail.accountId = accountId;
  return event;
};

describe('account chain: Organizations and GuardDuty metadata', () => {
  it('fills name, email, the OU path up to the root, tags and the membership status', async () => {
    // Prepare
    const chain = chainWith();
    // Act
    const account = await chain.lookup(PROD);
    // Assess
    expect(account).toEqual({
      id: PROD,
      known: true,
      name: 'payments-prod',
      email: 'aws+payments-prod@example.com',
      ou: 'Root/Workloads/Prod',
      tags: { env: 'prod', owner: 'payments', 'cost-center': 'cc-42' },
      relationshipStatus: 'Enabled',
      invitedAt: '2024-02-09T21:33:05.568Z',
      enrichment: 'complete',
    });
    const ops = loopback.operations();
    expect(ops.filter((o) => o === 'ListParents')).toHaveLength(3); // account → Prod → Workloads → root
    expect(ops.filter((o) => o === 'DescribeOrganizationalUnit')).toHaveLength(2);
    expect(ops.filter((o) => o === 'ListTagsForResource')).toHaveLength(2); // three tags, pages of two
    expect(ops).toContain('GetMembers');
    for (const call of loopback.calls) {
      expect(call.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDORGLOOPBACK/\\d{8}/us-east-1/${call.service}/aws4_request`));
      expect(call.status).toBe(200);
    }
    const getMembers = loopback.calls.find((c) => c.operation === 'GetMembers')!;
    expect(getMembers).toMatchObject({ method: 'POST', path: `/detector/${loopback.detectorIds[0]}/member/get`, body: { accountIds: [PROD] } });
    expect(loopback.calls.find((c) => c.operation === 'DescribeAccount')!.headers['x-amz-target']).toBe('AWSOrganizationsV20161128.DescribeAccount');
  });

  it('puts an account in the root at Root, and knows an invited account from outside the organization by GuardDuty alone', async () => {
    // Prepare
    const chain = chainWith();
    // Act
    const [sandbox, outsider] = await Promise.all([chain.lookup(SANDBOX), chain.lookup(OUTSIDER)]);
    // Assess
    expect(sandbox).toMatchObject({ known: true, name: 'sandbox', ou: 'Root', tags: {}, enrichment: 'complete' });
    expect(sandbox.relationshipStatus).toBeUndefined();
    expect(outsider).toEqual({ id: OUTSIDER, known: true, email: 'vendor@example.net', tags: {}, relationshipStatus: 'Invited', invitedAt: '2024-03-01T10:00:00.000Z', enrichment: 'complete' });
  });

  it('lets accounts.yml override Organizations field by field and tag by tag', async () => {
    // Prepare
    const chain = chainWith({ overrides: `accounts:\n  "${PROD}": { name: payments-prod-eu, ou: Root/Regulated, tags: { env: production, pager: payments-oncall } }\n` });
    // Act
    const account = await chain.lookup(PROD);
    // Assess
    expect(account).toMatchObject({
      known: true,
      name: 'payments-prod-eu',
      email: 'aws+payments-prod@example.com',
      ou: 'Root/Regulated',
      tags: { env: 'production', owner: 'payments', 'cost-center': 'cc-42', pager: 'payments-oncall' },
      relationshipStatus: 'Enabled',
      enrichment: 'complete',
    });
  });
});

describe('account chain: cache', () => {
  it('does not call again within the TTL, shares one lookup between concurrent callers, and refreshes after it', async () => {
    // Prepare
    let clock = 1_000_000;
    const chain = chainWith({ now: () => clock });
    // Act
    await Promise.all(Array.from({ length: 5 }, () => chain.lookup(PROD)));
    const afterFirst = loopback.calls.length;
    clock += 14 * 60_000;
    await chain.lookup(PROD);
    const withinTtl = loopback.calls.length;
    clock += 2 * 60_000;
    await chain.lookup(PROD);
    // Assess
    expect(loopback.operations().slice(0, afterFirst).filter((o) => o === 'DescribeAccount')).toHaveLength(1);
    expect(withinTtl).toBe(afterFirst);
    expect(loopback.calls.length).toBeGreaterThan(withinTtl);
    expect(chain.stats()).toMatchObject({ misses: 2, hits: 5 });
  });

  it('caches an account nobody knows for the shorter negative TTL', async () => {
    // Prepare
    let clock = 0;
    const chain = chainWith({ now: () => clock });
    // Act
    const first = await chain.lookup(STRANGER);
    await chain.lookup(PROD);
    const calls = loopback.calls.length;
    clock += 3 * 60_000; // past the 2-minute negative TTL, within the 15-minute TTL
    await chain.lookup(STRANGER);
    await chain.lookup(PROD);
    // Assess
    expect(first).toEqual({ id: STRANGER, known: false, tags: {}, enrichment: 'complete' });
    const later = loopback.calls.slice(calls);
    expect(later.map((c) => c.body?.AccountId ?? c.body?.accountIds?.[0])).toEqual(expect.arrayContaining([STRANGER]));
    expect(later.some((c) => c.body?.AccountId === PROD || c.body?.accountIds?.[0] === PROD)).toBe(false);
    expect(loopback.calls.find((c) => c.operation === 'DescribeAccount')!.errorCode).toBe('AccountNotFoundException');
  });
});

describe('account chain: failures never block a finding', () => {
  it('marks the account partial when Organizations throttles, keeps what GuardDuty knows, and the finding is still enriched', async () => {
    // Prepare
    const chain = chainWith();
    loopback.failNext('DescribeAccount', { code: 'TooManyRequestsException', message: 'AWS Organizations can\'t complete your request because another request is already in progress.' });
    // Act
    const result = await ingest(sshEvent(PROD), chain);
    // Assess
    expect(result.kind).toBe('enriched');
    const account = result.kind === 'enriched' ? result.enriched.enrichment.account : undefined;
    expect(account).toEqual({ id: PROD, known: true, email: 'security@example.com', tags: {}, relationshipStatus: 'Enabled', invitedAt: '2024-02-09T21:33:05.568Z', enrichment: 'partial' });
    expect(loopback.calls.find((c) => c.operation === 'DescribeAccount')).toMatchObject({ status: 400, errorCode: 'TooManyRequestsException' });
  });

  it('retries a throttled call with the SDK retry strategy and ends complete', async () => {
    // Prepare
    const retrying = new OrganizationsClient({ ...loopback.clientConfig, maxAttempts: 3 });
    const chain = chainWith({ orgClient: retrying, timeoutMs: 10_000 });
    loopback.failNext('DescribeAccount', { code: 'TooManyRequestsException', message: 'slow down' });
    // Act
    const account = await chain.lookup(PROD);
    // Assess
    expect(account).toMatchObject({ name: 'payments-prod', ou: 'Root/Workloads/Prod', enrichment: 'complete' });
    expect(loopback.operations().filter((o) => o === 'DescribeAccount')).toHaveLength(2);
    retrying.destroy();
  });

  it('marks the account partial on GuardDuty access denied (HTTP 403) and keeps the Organizations data', async () => {
    // Prepare
    const chain = chainWith();
    loopback.failNext('GetMembers', { code: 'AccessDeniedException', message: 'User is not authorized to perform: guardduty:GetMembers' });
    // Act
    const account = await chain.lookup(PROD);
    // Assess
    expect(account).toMatchObject({ known: true, name: 'payments-prod', ou: 'Root/Workloads/Prod', enrichment: 'partial' });
    expect(account.relationshipStatus).toBeUndefined();
    expect(loopback.calls.find((c) => c.operation === 'GetMembers')).toMatchObject({ status: 403, errorCode: 'AccessDeniedException' });
    expect(chain.stats().failures).toEqual({ guardduty: 1 });
  });

  it('marks the account partial on GuardDuty throttling (HTTP 429) and on a denied ListTagsForResource', async () => {
    // Prepare
    const chain = chainWith();
    loopback.failNext('GetMembers', { code: 'TooManyRequestsException', message: 'Rate exceeded' });
    loopback.failNext('ListTagsForResource', { code: 'AccessDeniedException', message: 'You don\'t have permissions to access this resource.' });
    // Act
    const account = await chain.lookup(PROD);
    // Assess
    expect(account).toMatchObject({ name: 'payments-prod', ou: 'Root/Workloads/Prod', tags: {}, enrichment: 'partial' });
    expect(loopback.calls.find((c) => c.operation === 'GetMembers')).toMatchObject({ status: 429 });
  });

  it('falls back to accounts.yml alone when every source fails, and asks again after the short failure TTL', async () => {
    // Prepare
    let clock = 0;
    const errors: string[] = [];
    const chain = createAccountChain({
      overrides: parseConfig(ACCOUNTS_CONFIG, `accounts:\n  "${PROD}": { name: payments-prod, tags: { env: prod } }\n`, 'accounts.yml'),
      sources: [organizationsSource(organizations), guardDutyMembersSource(guardDuty, { detectorId: loopback.detectorIds[0]! })],
      now: () => clock,
      onSourceError: (e) => errors.push(`${e.source}: ${e.error.split(':')[0]}`),
    });
    loopback.failNext('DescribeAccount', { code: 'AccessDeniedException', message: 'not the management account' });
    loopback.failNext('GetMembers', { code: 'AccessDeniedException', message: 'denied' });
    // Act
    const first = await chain.lookup(PROD);
    const cached = await chain.lookup(PROD);
    clock += 31_000;
    const retried = await chain.lookup(PROD);
    // Assess
    expect(first).toEqual({ id: PROD, known: true, name: 'payments-prod', tags: { env: 'prod' }, enrichment: 'partial' });
    expect(cached).toBe(first);
    expect(retried).toMatchObject({ ou: 'Root/Workloads/Prod', enrichment: 'complete' });
    expect(errors.sort()).toEqual(['guardduty: AccessDeniedException (HTTP 403)', 'organizations: AccessDeniedException (HTTP 400)']);
  });

  it('treats a source slower than the timeout as failed', async () => {
    // Prepare
    const slow: AccountSource = { name: 'slow', lookup: () => new Promise(() => undefined) };
    const chain = createAccountChain({ sources: [slow, guardDutyMembersSource(guardDuty, { detectorId: loopback.detectorIds[0]! })], timeoutMs: 50 });
    // Act
    const account = await chain.lookup(PROD);
    // Assess
    expect(account).toMatchObject({ known: true, relationshipStatus: 'Enabled', enrichment: 'partial' });
  });

  it('finds the detector with ListDetectors when none is configured', async () => {
    // Prepare
    const chain = createAccountChain({ sources: [guardDutyMembersSource(guardDuty)] });
    // Act
    await chain.lookup(PROD);
    await chain.lookup(OUTSIDER);
    // Assess
    expect(loopback.operations()).toEqual(['ListDetectors', 'GetMembers', 'GetMembers']);
    expect(loopback.calls[0]).toMatchObject({ method: 'GET', path: '/detector' });
  });
});

describe('account chain: bounded concurrency', () => {
  it('keeps at most four account lookups in flight', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    const counting: AccountSource = {
      name: 'counting',
      lookup: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight--;
        return { status: 'found', facts: { name: 'x' } };
      },
    };
    const chain = createAccountChain({ sources: [counting], maxConcurrency: 4 });
    // Act
    const accounts = await Promise.all(Array.from({ length: 12 }, (_, i) => chain.lookup(String(100000000000 + i))));
    // Assess
    expect(accounts.every((a) => a.known && a.enrichment === 'complete')).toBe(true);
    expect(peak).toBe(4);
  });
});
