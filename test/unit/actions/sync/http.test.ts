import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ActionJob } from '../../../../shared/actions/job.ts';
import type { SyncBackConfig } from '../../../../shared/actions/sync/config.ts';
import { handleSyncHttp, type SyncHttpDeps } from '../../../../shared/actions/sync/http.ts';
import { rememberRemoteRecord } from '../../../../shared/actions/sync/refs.ts';
import { localSecretResolver } from '../../../../shared/secrets.ts';
import { memoryLedger } from '../../../../shared/targets/ledger.ts';
import { jiraIssueUpdated } from './fixtures.ts';

const SECRET = 'jira-secret-for-http-tests';
const FINDING = { id: '5ec8a7e3b0a1f2d4c6e8a0b2c4d6e8f0', accountId: '111122223333', region: 'eu-west-1' };

const deps = async (syncBack: SyncBackConfig) => {
  const ledger = memoryLedger();
  await rememberRemoteRecord(ledger, 'jira', 'SEC-12', FINDING);
  const jobs: ActionJob[] = [];
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const value: SyncHttpDeps = {
    syncBack,
    secrets: localSecretResolver({ JIRA_SECRET: SECRET }),
    ledger,
    queue: { enqueue: async (job) => void jobs.push(job) },
    log: { info: at('info'), warn: at('warn'), error: at('error') },
    now: () => 1_733_385_302_117,
  };
  return { value, jobs, lines };
};

const signed = (body: Buffer) => ({ 'x-hub-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` });
const BODY = Buffer.from(JSON.stringify(jiraIssueUpdated('SEC-12')));

describe('handleSyncHttp', () => {
  it('leaves every other path to the rest of the endpoint', async () => {
    const { value } = await deps({ jira: { archiveOnDone: true, secret: { env: 'JIRA_SECRET' } } });
    for (const path of ['/slack', '/sync', '/sync/servicenow', '/sync/jira/extra', '/SYNC/jira']) {
      expect(await handleSyncHttp({ method: 'POST', path, headers: signed(BODY), body: BODY }, value)).toBeUndefined();
    }
  });

  it('enqueues the archive request as a job and answers 202 at once', async () => {
    const { value, jobs } = await deps({ jira: { archiveOnDone: true, secret: { env: 'JIRA_SECRET' } } });
    const answer = await handleSyncHttp({ method: 'POST', path: '/sync/jira', headers: signed(BODY), body: BODY }, value);
    expect(answer).toMatchObject({ statusCode: 202, body: 'accepted' });
    expect(jobs).toEqual([{ v: 1, request: { action: 'archive', finding: FINDING, actor: { platform: 'jira', id: '5b10a2844c20165700ede21g', name: 'Ana Analyst' }, receivedAt: 1_733_385_302_117 } }]);
  });

  it('405 for anything but POST, and nothing enqueued', async () => {
    const { value, jobs } = await deps({ jira: { archiveOnDone: true, secret: { env: 'JIRA_SECRET' } } });
    expect((await handleSyncHttp({ method: 'GET', path: '/sync/jira', headers: signed(BODY), body: BODY }, value))?.statusCode).toBe(405);
    expect(jobs).toEqual([]);
  });

  it('503 tells the caller nothing about our configuration; the log names the reference', async () => {
    const { value, lines } = await deps({ jira: { archiveOnDone: true, secret: { ssm: '/router/jira-webhook' } } });
    const answer = await handleSyncHttp({ method: 'POST', path: '/sync/jira', headers: signed(BODY), body: BODY }, value);
    expect(answer).toMatchObject({ statusCode: 503, body: 'temporarily unavailable' });
    expect(lines).toEqual([expect.objectContaining({ level: 'error', fields: expect.objectContaining({ reason: expect.stringContaining('ssm:/router/jira-webhook') }) })]);
  });

  it('a refusal is logged as a warning with its reason and size only', async () => {
    const { value, lines } = await deps({ jira: { archiveOnDone: true, secret: { env: 'JIRA_SECRET' } } });
    await handleSyncHttp({ method: 'POST', path: '/sync/jira', headers: { 'x-hub-signature': 'sha256=00' }, body: BODY }, value);
    expect(lines).toEqual([{ level: 'warn', message: 'sync-back request refused', fields: { platform: 'jira', status: 401, reason: 'unauthorized', bytes: BODY.length } }]);
  });
});
