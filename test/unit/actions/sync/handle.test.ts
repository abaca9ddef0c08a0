import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SyncBackConfig } from '../../../../shared/actions/sync/config.ts';
import { MAX_SYNC_BODY_BYTES, syncEventToAction, type SyncDeps, type SyncResult } from '../../../../shared/actions/sync/handle.ts';
import { rememberRemoteRecord, syncRefKey } from '../../../../shared/actions/sync/refs.ts';
import { localSecretResolver, type SecretResolver } from '../../../../shared/secrets.ts';
import { memoryLedger, type Ledger } from '../../../../shared/targets/ledger.ts';
import { findingDedupKey } from '../../../../shared/targets/pagerduty.ts';
import { jiraIssueUpdated, opsgenieClosed, pagerDutyResolved } from './fixtures.ts';

const PD_SECRET = 'pd-signing-secret-Zq81mW0cR3xY';
const OG_SECRET = 'og-shared-secret-4f9a2c7e1b8d3a6f0e5c';
const JIRA_SECRET = 'jira-secret-Hn2Kd81Lm0Qx';
const ENV = { PD_WEBHOOK: PD_SECRET, OG_WEBHOOK: OG_SECRET, JIRA_WEBHOOK: JIRA_SECRET, OG_SHORT: 'too-short' };

const CONFIG: SyncBackConfig = {
  pagerduty: { archiveOnResolve: true, signingSecret: { env: 'PD_WEBHOOK' } },
  opsgenie: { archiveOnClose: true, secret: { env: 'OG_WEBHOOK' } },
  jira: { archiveOnDone: true, secret: { env: 'JIRA_WEBHOOK' } },
};

const FINDING = { id: '5ec8a7e3b0a1f2d4c6e8a0b2c4d6e8f0', accountId: '111122223333', region: 'eu-west-1', type: 'Recon:IAMUser/MaliciousIPCaller' };
const OTHER = { id: 'aa00bb11cc22dd33ee44ff5566778899', accountId: '444455556666', region: 'us-east-1' };
const DEDUP = findingDedupKey(FINDING);
const RECEIVED_AT = 1_733_385_302_117;

const sign = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

/** A ledger that counts reads, to show that a refused request never reaches it. */
const countingLedger = (inner: Ledger = memoryLedger()) => {
  const counts = { get: 0 };
  const ledger: Ledger = { ...inner, get: (key) => ((counts.get += 1), inner.get(key)) };
  return { ledger, counts };
};
const countingSecrets = (env: NodeJS.ProcessEnv = ENV) => {
  const inner = localSecretResolver(env);
  const counts = { resolve: 0 };
  const secrets: SecretResolver = { resolve: (ref) => ((counts.resolve += 1), inner.resolve(ref)) };
  return { secrets, counts };
};

/** `null`: no `actions.syncBack` at all. */
const setup = async (syncBack: SyncBackConfig | null = CONFIG) => {
  const { ledger, counts } = countingLedger();
  await rememberRemoteRecord(ledger, 'pagerduty', DEDUP, FINDING);
  await rememberRemoteRecord(ledger, 'opsgenie', DEDUP, FINDING);
  await rememberRemoteRecord(ledger, 'jira', 'SEC-12', FINDING);
  counts.get = 0;
  const resolver = countingSecrets();
  const deps: SyncDeps = { syncBack: syncBack ?? undefined, secrets: resolver.secrets, ledger };
  return { deps, ledger, ledgerReads: counts, secretReads: resolver.counts };
};

const pagerDuty = (body: Buffer, header: string | undefined, headerName = 'x-pagerduty-signature') => ({
  headers: header === undefined ? {} : { [headerName]: header },
  body,
  receivedAt: RECEIVED_AT,
});

const ARCHIVE = { action: 'archive', finding: FINDING, receivedAt: RECEIVED_AT };

describe('syncEventToAction: PagerDuty', () => {
  it('turns a signed incident.resolved for our incident into an archive request by the person who resolved it', async () => {
    const { deps } = await setup();
    const body = bytes(pagerDutyResolved(DEDUP));
    const result = await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps);
    expect(result.statusCode).toBe(202);
    expect(result.action).toEqual({ ...ARCHIVE, actor: { platform: 'pagerduty', id: 'PLH1HKV', name: 'Ana Oncall' } });
  });

  it('accepts the header in any case and a rotation list', async () => {
    const { deps } = await setup();
    const body = bytes(pagerDutyResolved(DEDUP));
    const header = `v1=${sign('the-retiring-secret', body)},v1=${sign(PD_SECRET, body)}`;
    expect((await syncEventToAction('pagerduty', pagerDuty(body, header, 'X-PagerDuty-Signature'), deps)).statusCode).toBe(202);
  });

  it.each([
    ['the wrong secret', (body: Buffer) => ({ body, header: `v1=${sign(`${PD_SECRET}x`, body)}` })],
    ['a body changed by one byte', (body: Buffer) => ({ body: Buffer.concat([body.subarray(0, -1), Buffer.from(' ')]), header: `v1=${sign(PD_SECRET, body)}` })],
    ['no signature header', (body: Buffer) => ({ body, header: undefined })],
    ['only the retired secret during a rotation', (body: Buffer) => ({ body, header: `v1=${sign('the-retiring-secret', body)}` })],
  ])('401 with %s, and nothing is read or done', async (_label, tamper) => {
    const { deps, ledgerReads } = await setup();
    const { body, header } = tamper(bytes(pagerDutyResolved(DEDUP)));
    const result = await syncEventToAction('pagerduty', pagerDuty(body, header), deps);
    expect(result).toEqual({ statusCode: 401, reason: 'unauthorized' });
    expect(ledgerReads.get).toBe(0);
  });

  it('200 ignored for an incident the router did not create (no retry storm)', async () => {
    const { deps } = await setup();
    const body = bytes(pagerDutyResolved(findingDedupKey(OTHER)));
    const result = await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps);
    expect(result).toEqual({ statusCode: 200, reason: 'ignored: the pagerduty record was not created by the router' });
  });

  it('200 ignored when the stored entry does not hash to the incident key (a misplaced entry archives nothing)', async () => {
    const { deps, ledger } = await setup();
    const key = findingDedupKey(OTHER);
    await ledger.set(syncRefKey('pagerduty', key), JSON.stringify(FINDING));
    const body = bytes(pagerDutyResolved(key));
    const result = await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps);
    expect(result.statusCode).toBe(200);
    expect(result.action).toBeUndefined();
  });

  it('200 ignored for another event type and for a resolve by an integration', async () => {
    const { deps } = await setup();
    for (const fixture of [pagerDutyResolved(DEDUP, { eventType: 'incident.acknowledged' }), pagerDutyResolved(DEDUP, { agent: { id: 'PX', type: 'service_reference' } })]) {
      const body = bytes(fixture);
      const result = await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps);
      expect(result.statusCode).toBe(200);
      expect(result.action).toBeUndefined();
    }
  });

  it('verifies but acts on nothing while archiveOnResolve is false', async () => {
    const { deps } = await setup({ pagerduty: { archiveOnResolve: false, signingSecret: { env: 'PD_WEBHOOK' } } });
    const body = bytes(pagerDutyResolved(DEDUP));
    expect(await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps)).toEqual({
      statusCode: 200,
      reason: 'ignored: archiving from pagerduty is switched off',
    });
    expect((await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign('guess', body)}`), deps)).statusCode).toBe(401);
  });

  it('404 when the platform is not configured (off by default), without resolving any secret', async () => {
    const { deps, secretReads } = await setup(null);
    const body = bytes(pagerDutyResolved(DEDUP));
    expect((await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps)).statusCode).toBe(404);
    const onlyJira = await setup({ jira: CONFIG.jira! });
    expect((await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), onlyJira.deps)).statusCode).toBe(404);
    expect(secretReads.resolve).toBe(0);
  });

  it('413 for a body over the bound, before the secret is even resolved', async () => {
    const { deps, secretReads } = await setup();
    const body = Buffer.alloc(MAX_SYNC_BODY_BYTES + 1, 0x20);
    const result = await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps);
    expect(result.statusCode).toBe(413);
    expect(secretReads.resolve).toBe(0);
  });

  it('400 for a signed body that is not JSON', async () => {
    const { deps } = await setup();
    const body = Buffer.from('event=incident.resolved', 'utf8');
    expect((await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps)).statusCode).toBe(400);
  });

  it('503 naming the reference (never a value) when the secret cannot be resolved, and when the ledger fails', async () => {
    const { deps } = await setup({ pagerduty: { archiveOnResolve: true, signingSecret: { env: 'NOT_SET' } } });
    const body = bytes(pagerDutyResolved(DEDUP));
    expect(await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), deps)).toEqual({
      statusCode: 503,
      reason: 'the pagerduty webhook secret (env:NOT_SET) could not be resolved',
    });
    const failing: Ledger = { ...memoryLedger(), get: async () => Promise.reject(new Error(`ledger down ${PD_SECRET}`)) };
    const result = await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(PD_SECRET, body)}`), { ...(await setup()).deps, ledger: failing });
    expect(result).toEqual({ statusCode: 503, reason: 'the ledger could not be read' });
  });
});

describe('syncEventToAction: Opsgenie (shared secret header)', () => {
  const opsgenie = (body: Buffer, headers: Record<string, string>) => ({ headers, body, receivedAt: RECEIVED_AT });

  it('turns a Close with the right header into an archive request', async () => {
    const { deps } = await setup();
    const result = await syncEventToAction('opsgenie', opsgenie(bytes(opsgenieClosed(DEDUP)), { 'x-findings-router-secret': OG_SECRET }), deps);
    expect(result.statusCode).toBe(202);
    expect(result.action).toEqual({ ...ARCHIVE, actor: { platform: 'opsgenie', id: '8c4e2f1a-3b5d-4e6f-9a0b-1c2d3e4f5a6b', name: 'ana.oncall@example.com' } });
  });

  it('401 for a wrong or missing header, and the configured header name is the one read', async () => {
    const { deps, ledgerReads } = await setup();
    const body = bytes(opsgenieClosed(DEDUP));
    expect((await syncEventToAction('opsgenie', opsgenie(body, { 'x-findings-router-secret': `${OG_SECRET}0` }), deps)).statusCode).toBe(401);
    expect((await syncEventToAction('opsgenie', opsgenie(body, {}), deps)).statusCode).toBe(401);
    const custom = await setup({ opsgenie: { archiveOnClose: true, secret: { env: 'OG_WEBHOOK' }, header: 'X-Sync-Token' } });
    expect((await syncEventToAction('opsgenie', opsgenie(body, { 'x-findings-router-secret': OG_SECRET }), custom.deps)).statusCode).toBe(401);
    expect((await syncEventToAction('opsgenie', opsgenie(body, { 'x-sync-token': OG_SECRET }), custom.deps)).statusCode).toBe(202);
    expect(ledgerReads.get).toBe(0);
  });

  it('503 when the configured secret is too short to rely on', async () => {
    const { deps } = await setup({ opsgenie: { archiveOnClose: true, secret: { env: 'OG_SHORT' } } });
    const result = await syncEventToAction('opsgenie', opsgenie(bytes(opsgenieClosed(DEDUP)), { 'x-findings-router-secret': 'too-short' }), deps);
    expect(result.statusCode).toBe(503);
    expect(result.reason).toContain('env:OG_SHORT');
    expect(result.reason).not.toContain('too-short');
  });

  it('200 ignored for an alert the router did not create', async () => {
    const { deps } = await setup();
    const result = await syncEventToAction('opsgenie', opsgenie(bytes(opsgenieClosed(findingDedupKey(OTHER))), { 'x-findings-router-secret': OG_SECRET }), deps);
    expect(result).toEqual({ statusCode: 200, reason: 'ignored: the opsgenie record was not created by the router' });
  });
});

describe('syncEventToAction: Jira', () => {
  const jira = (body: Buffer, header: string | undefined) => ({ headers: header === undefined ? {} : { 'X-Hub-Signature': header }, body, receivedAt: RECEIVED_AT });

  it('turns a signed transition to Done of our issue into an archive request', async () => {
    const { deps } = await setup();
    const body = bytes(jiraIssueUpdated('SEC-12'));
    const result = await syncEventToAction('jira', jira(body, `sha256=${sign(JIRA_SECRET, body)}`), deps);
    expect(result.statusCode).toBe(202);
    expect(result.action).toEqual({ ...ARCHIVE, actor: { platform: 'jira', id: '5b10a2844c20165700ede21g', name: 'Ana Analyst' } });
  });

  it('401 unsigned (a webhook registered without a secret), mis-signed or altered', async () => {
    const { deps } = await setup();
    const body = bytes(jiraIssueUpdated('SEC-12'));
    expect((await syncEventToAction('jira', jira(body, undefined), deps)).statusCode).toBe(401);
    expect((await syncEventToAction('jira', jira(body, `sha256=${sign('other', body)}`), deps)).statusCode).toBe(401);
    const altered = bytes(jiraIssueUpdated('SEC-13'));
    expect((await syncEventToAction('jira', jira(altered, `sha256=${sign(JIRA_SECRET, body)}`), deps)).statusCode).toBe(401);
  });

  it('200 ignored for an issue the router did not create, and for a transition not into Done', async () => {
    const { deps } = await setup();
    for (const fixture of [jiraIssueUpdated('SEC-999'), jiraIssueUpdated('SEC-12', { categoryKey: 'indeterminate' })]) {
      const body = bytes(fixture);
      const result = await syncEventToAction('jira', jira(body, `sha256=${sign(JIRA_SECRET, body)}`), deps);
      expect(result.statusCode).toBe(200);
      expect(result.action).toBeUndefined();
    }
  });
});

describe('syncEventToAction: what it says', () => {
  it('never repeats a secret or the body in its answer', async () => {
    const { deps } = await setup();
    const marker = 'BODY-MARKER-7c1e';
    const results: SyncResult[] = [];
    for (const secret of [PD_SECRET, 'wrong']) {
      const body = bytes({ ...pagerDutyResolved(DEDUP), marker });
      results.push(await syncEventToAction('pagerduty', pagerDuty(body, `v1=${sign(secret, body)}`), deps));
    }
    results.push(await syncEventToAction('jira', { headers: {}, body: bytes({ marker }), receivedAt: RECEIVED_AT }, deps));
    results.push(await syncEventToAction('opsgenie', { headers: { 'x-findings-router-secret': OG_SECRET }, body: Buffer.from(marker), receivedAt: RECEIVED_AT }, deps));
    const said = JSON.stringify(results.map(({ statusCode, reason }) => ({ statusCode, reason })));
    for (const secret of [PD_SECRET, OG_SECRET, JIRA_SECRET, marker]) expect(said).not.toContain(secret);
  });
});
