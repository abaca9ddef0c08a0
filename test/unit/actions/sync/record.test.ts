import { describe, expect, it } from 'vitest';
import { rememberDelivery } from '../../../../shared/actions/sync/record.ts';
import { findingForRemote, rememberRemoteRecord } from '../../../../shared/actions/sync/refs.ts';
import { ledgerKey, memoryLedger } from '../../../../shared/targets/ledger.ts';
import { findingDedupKey } from '../../../../shared/targets/pagerduty.ts';
import { enrichedFrom } from '../../../helpers/findings.ts';
import { loadSampleFinding } from '../../../helpers/representative.ts';

const TYPE = 'Recon:IAMUser/MaliciousIPCaller';
const sample = () => loadSampleFinding(TYPE);
const refOf = (finding: ReturnType<typeof sample>) => ({ id: finding.id, accountId: finding.accountId, region: finding.region, type: finding.type });

describe('rememberDelivery', () => {
  it.each(['pagerduty', 'opsgenie'] as const)('remembers the %s dedup key / alias the target derived, against the finding', async (platform) => {
    const ledger = memoryLedger();
    const finding = sample();
    await rememberDelivery(platform, 'oncall', await enrichedFrom(finding), ledger);
    expect(await findingForRemote(ledger, platform, findingDedupKey(finding))).toEqual(refOf(finding));
    // Per platform: a PagerDuty entry says nothing about Opsgenie.
    expect(await findingForRemote(ledger, platform === 'pagerduty' ? 'opsgenie' : 'pagerduty', findingDedupKey(finding))).toBeUndefined();
  });

  it('remembers nothing for an archived finding (its delivery resolves or closes, nothing is left to archive)', async () => {
    const ledger = memoryLedger();
    const finding = sample();
    const archived = await enrichedFrom({ ...finding, service: { ...finding.service, archived: true } });
    await rememberDelivery('pagerduty', 'oncall', archived, ledger);
    expect(await findingForRemote(ledger, 'pagerduty', findingDedupKey(finding))).toBeUndefined();
  });

  it('reads the Jira issue key from the jira target ledger entry, in both forms it has written', async () => {
    const finding = sample();
    for (const [stored, key] of [[JSON.stringify({ key: 'SEC-8', severity: 5, count: 1 }), 'SEC-8'], ['SEC-7', 'SEC-7']] as const) {
      const ledger = memoryLedger();
      await ledger.set(ledgerKey('soc', finding), stored);
      await rememberDelivery('jira', 'soc', await enrichedFrom(finding), ledger);
      expect(await findingForRemote(ledger, 'jira', key)).toEqual(refOf(finding));
    }
  });

  it('remembers nothing for Jira without a usable ledger entry of that target', async () => {
    const finding = sample();
    const ledger = memoryLedger();
    await ledger.set(ledgerKey('other-jira', finding), 'SEC-9');
    await ledger.set(ledgerKey('soc', { ...finding, id: 'another' }), 'SEC-10');
    await rememberDelivery('jira', 'soc', await enrichedFrom(finding), ledger);
    await ledger.set(ledgerKey('soc', finding), '{"key":"not an issue key"}');
    await rememberDelivery('jira', 'soc', await enrichedFrom(finding), ledger);
    for (const key of ['SEC-9', 'SEC-10', 'not an issue key']) expect(await findingForRemote(ledger, 'jira', key)).toBeUndefined();
  });
});

describe('rememberRemoteRecord', () => {
  it('refuses an entry that does not hash to the PagerDuty/Opsgenie key, and malformed identities', async () => {
    const ledger = memoryLedger();
    const finding = refOf(sample());
    const other = { ...finding, id: 'ffffffffffffffffffffffffffffffff' };
    expect(await rememberRemoteRecord(ledger, 'pagerduty', findingDedupKey(other), finding)).toBe(false);
    expect(await rememberRemoteRecord(ledger, 'jira', 'SEC-1', { ...finding, accountId: '1234' })).toBe(false);
    expect(await rememberRemoteRecord(ledger, 'jira', 'SEC-1', { ...finding, region: 'us-east-1\n' })).toBe(false);
    expect(await rememberRemoteRecord(ledger, 'jira', 'SEC 1', finding)).toBe(false);
    expect(await findingForRemote(ledger, 'pagerduty', findingDedupKey(other))).toBeUndefined();
    expect(await findingForRemote(ledger, 'jira', 'SEC-1')).toBeUndefined();
  });
});
