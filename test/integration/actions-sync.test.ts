import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncBackConfig } from '../../shared/actions/sync/config.ts';
import { MAX_SYNC_BODY_BYTES } from '../../shared/actions/sync/handle.ts';
import { handleSyncHttp } from '../../shared/actions/sync/http.ts';
import type { ActionJob } from '../../shared/actions/job.ts';
import { DeliveryError } from '../../shared/errors.ts';
import { compileActionsPolicy } from '../../shared/actions/config.ts';
import { ActionRetryableError, createActionEngine } from '../../shared/actions/engine.ts';
import { dynamoActionStore } from '../../shared/aws/action-store.ts';
import type { ActionAuditRecord } from '../../shared/actions/audit.ts';
import { sdkGuardDutyAdmin } from '../../shared/aws/guardduty-actions.ts';
import { apiWireFinding, startActionsLoopback } from '../helpers/guardduty-actions-loopback.ts';
import { recordRemoteRecords } from '../../shared/actions/sync/record.ts';
import type { ActionRequest } from '../../shared/actions/model.ts';
import { dynamoLedger } from '../../shared/aws/dynamo-ledger.ts';
import { localSecretResolver } from '../../shared/secrets.ts';
import { jiraTarget } from '../../shared/targets/jira.ts';
import type { Ledger } from '../../shared/targets/ledger.ts';
import { opsgenieTarget } from '../../shared/targets/opsgenie.ts';
import { findingDedupKey, pagerDutyTarget } from '../../shared/targets/pagerduty.ts';
import type { Target } from '../../shared/targets/types.ts';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { startJiraReceiver, type JiraReceiver } from '../helpers/jira-receiver.ts';
import { startOpsgenie, type OpsgenieReceiver } from '../helpers/opsgenie-receiver.ts';
import { startPagerDuty, type PagerDutyReceiver } from '../helpers/pagerduty-receiver.ts';
import { representativeFindings } from '../helpers/representative.ts';
import { sendFinding, targetContext } from '../helpers/target-contract.ts';
import { jiraIssueUpdated, opsgenieClosed, pagerDutyResolved } from '../unit/actions/sync/fixtures.ts';

/**
 * The whole sync-back path over real parts: the pagerduty, opsgenie and jira targets deliver a
 * finding to loopback services (wrapped so the router remembers what it created, in DynamoDB on
 * dynalite); then each service's webhook, built from what that service actually holds (dedup
 * key, alias, issue key) and signed its way, is POSTed to a loopback HTTP endpoint running
 * syncEventToAction, and must come out as an archive request for exactly that finding.
 */
const ROUTING_KEY = 'R0UT1NGKEYSYNCBACK0123456789abcd';
const OPSGENIE_KEY = 'og-api-key-0a1b2c3d';
const JIRA_EMAIL = 'router@example.com';
const JIRA_TOKEN = 'jira-api-token-sync';
const PD_SECRET = 'pd-webhook-signing-secret-e2e';
const OG_SECRET = 'og-webhook-shared-secret-e2e-0123456789';
const JIRA_SECRET = 'jira-webhook-secret-e2e';
const ENV = { ROUTING_KEY, OPSGENIE_KEY, JIRA_EMAIL, JIRA_TOKEN, PD_SECRET, OG_SECRET, JIRA_SECRET };

const SYNC_BACK: SyncBackConfig = {
  pagerduty: { archiveOnResolve: true, signingSecret: { env: 'PD_SECRET' } },
  opsgenie: { archiveOnClose: true, secret: { env: 'OG_SECRET' } },
  jira: { archiveOnDone: true, secret: { env: 'JIRA_SECRET' } },
};

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let ledger: Ledger;
let pagerDuty: PagerDutyReceiver;
let opsgenie: OpsgenieReceiver;
let jira: JiraReceiver;
let endpoint: Server;
let endpointUrl: string;
let delivered: EnrichedFinding;
let neverDelivered: EnrichedFinding;
const jobs: ActionJob[] = [];
const actions: ActionRequest[] = [];
const logged: string[] = [];
const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void logged.push(JSON.stringify({ level, message, ...fields }));

/** The actions Function URL, as far as sync-back goes: raw body in, handleSyncHttp, status and one line out. */
const startEndpoint = async (): Promise<Server> => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_SYNC_BODY_BYTES + 1) chunks.push(chunk);
    });
    req.on('end', async () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]));
      const answer = await handleSyncHttp(
        { method: req.method ?? '', path: req.url ?? '/', headers, body: Buffer.concat(chunks) },
        {
          syncBack: SYNC_BACK,
          secrets: localSecretResolver(ENV),
          ledger,
          queue: { enqueue: async (job) => void (jobs.push(job), actions.push(job.request)) },
          log: { info: log('info'), warn: log('warn'), error: log('error') },
          now: () => Date.now(),
        },
      );
      if (answer === undefined) return res.writeHead(404).end();
      res.writeHead(answer.statusCode, answer.headers).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};

const post = async (path: string, body: unknown, headers: (raw: Buffer) => Record<string, string>) => {
  const raw = Buffer.from(JSON.stringify(body), 'utf8');
  const response = await fetch(`${endpointUrl}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...headers(raw) } });
  return { status: response.status, text: await response.text() };
};
const hmac = (secret: string, raw: Buffer) => createHmac('sha256', secret).update(raw).digest('hex');
const pdSigned = (secret = PD_SECRET) => (raw: Buffer) => ({ 'X-PagerDuty-Signature': `v1=${hmac(secret, raw)}` });
const jiraSigned = (secret = JIRA_SECRET) => (raw: Buffer) => ({ 'X-Hub-Signature': `sha256=${hmac(secret, raw)}` });
const ogHeader = (secret = OG_SECRET) => () => ({ 'X-Findings-Router-Secret': secret });

const wrapped = (target: Target, type: string): Target => recordRemoteRecords(target, type, ledger, SYNC_BACK);

beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createTable('state', 'findingKey');
  ledger = dynamoLedger(dynamo.client, 'state');
  [pagerDuty, opsgenie, jira] = await Promise.all([
    startPagerDuty({ routingKeys: [ROUTING_KEY] }),
    startOpsgenie({ apiKeys: [OPSGENIE_KEY] }),
    startJiraReceiver({ email: JIRA_EMAIL, apiToken: JIRA_TOKEN, project: 'SEC' }),
  ]);
  endpoint = await startEndpoint();
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;

  const findings = await representativeFindings();
  delivered = findings[0]![1];
  neverDelivered = findings[1]![1];
  const context = targetContext({ env: ENV, ledger });
  const targets = [
    wrapped(pagerDutyTarget.create('oncall', { type: 'pagerduty', routingKey: { env: 'ROUTING_KEY' }, url: pagerDuty.url, allowPrivateNetwork: true }, context), 'pagerduty'),
    wrapped(opsgenieTarget.create('alerts', { type: 'opsgenie', apiKey: { env: 'OPSGENIE_KEY' }, url: opsgenie.url, allowPrivateNetwork: true }, context), 'opsgenie'),
    wrapped(
      jiraTarget.create('soc', { type: 'jira', url: jira.url, project: 'SEC', email: { env: 'JIRA_EMAIL' }, apiToken: { env: 'JIRA_TOKEN' }, allowPrivateNetwork: true }, context),
      'jira',
    ),
  ];
  for (const target of targets) await sendFinding(target, delivered);
});

afterAll(async () => {
  await new Promise<void>((resolve) => endpoint?.close(() => resolve()));
  await Promise.all([pagerDuty?.close(), opsgenie?.close(), jira?.close()]);
  await dynamo?.close();
});

const expectedRef = () => ({ id: delivered.finding.id, accountId: delivered.finding.accountId, region: delivered.finding.region, type: delivered.finding.type });

describe('sync-back end to end', () => {
  it('a person resolving the PagerDuty incident asks to archive that finding', async () => {
    const incidentKey = pagerDuty.alerts[0]!.dedupKey; // what PagerDuty holds, not what the test computes
    const answer = await post('/sync/pagerduty', pagerDutyResolved(incidentKey), pdSigned());
    expect(answer.status).toBe(202);
    expect(actions.at(-1)).toMatchObject({ action: 'archive', finding: expectedRef(), actor: { platform: 'pagerduty', id: 'PLH1HKV' } });
  });

  it('closing the Opsgenie alert asks to archive that finding', async () => {
    const alias = opsgenie.alerts[0]!.alias;
    const answer = await post('/sync/opsgenie', opsgenieClosed(alias), ogHeader());
    expect(answer.status).toBe(202);
    expect(actions.at(-1)).toMatchObject({ action: 'archive', finding: expectedRef(), actor: { platform: 'opsgenie' } });
  });

  it('moving the Jira issue to Done asks to archive that finding', async () => {
    const [issue] = [...jira.issues.values()];
    const answer = await post('/sync/jira', jiraIssueUpdated(issue!.key), jiraSigned());
    expect(answer.status).toBe(202);
    expect(actions.at(-1)).toMatchObject({ action: 'archive', finding: expectedRef(), actor: { platform: 'jira', id: '5b10a2844c20165700ede21g' } });
  });

  it('refuses forged and altered webhooks with 401, and asks for nothing', async () => {
    const before = actions.length;
    const incidentKey = pagerDuty.alerts[0]!.dedupKey;
    const [issue] = [...jira.issues.values()];
    const answers = [
      await post('/sync/pagerduty', pagerDutyResolved(incidentKey), pdSigned('a-guessed-secret')),
      await post('/sync/pagerduty', pagerDutyResolved(incidentKey), () => ({})),
      await post('/sync/opsgenie', opsgenieClosed(opsgenie.alerts[0]!.alias), ogHeader(`${OG_SECRET}-`)),
      await post('/sync/jira', jiraIssueUpdated(issue!.key), jiraSigned('a-guessed-secret')),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401]);
    expect(answers.every((answer) => answer.text === 'unauthorized')).toBe(true);
    expect(actions.length).toBe(before);
  });

  it('answers 200 and asks for nothing for records the router never created', async () => {
    const before = actions.length;
    const foreignKey = findingDedupKey(neverDelivered.finding);
    const answers = [
      await post('/sync/pagerduty', pagerDutyResolved(foreignKey), pdSigned()),
      await post('/sync/opsgenie', opsgenieClosed(foreignKey), ogHeader()),
      await post('/sync/jira', jiraIssueUpdated('SEC-4242'), jiraSigned()),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers.every((answer) => answer.text.includes('was not created by the router'))).toBe(true);
    expect(actions.length).toBe(before);
  });

  it('enqueues each accepted request as a job without reply, and logs no secret and no body', () => {
    expect(jobs.length).toBe(3);
    expect(jobs.every((job) => job.v === 1 && job.reply === undefined)).toBe(true);
    const all = logged.join('\n');
    for (const secret of [PD_SECRET, OG_SECRET, JIRA_SECRET, ROUTING_KEY, OPSGENIE_KEY, JIRA_TOKEN]) expect(all).not.toContain(secret);
    expect(all).not.toContain('Ana Oncall'); // the body's words stay out; the actor id is enough
    expect(logged.filter((line) => line.includes('"status":401')).length).toBe(4);
  });

  it('refuses a malformed Jira signature (401) and anything but POST (405)', async () => {
    const response = await fetch(`${endpointUrl}/sync/jira`, { method: 'POST', body: '{}', headers: { 'X-Hub-Signature': 'sha256=00' } });
    expect(response.status).toBe(401);
    const get = await fetch(`${endpointUrl}/sync/jira`);
    expect(get.status).toBe(405);
  });

  it('fails the delivery as retryable when the record cannot be remembered (it would never sync back)', async () => {
    const failing: Ledger = { get: ledger.get, putIfAbsent: ledger.putIfAbsent, set: async () => Promise.reject(new Error('throttled')) };
    const target = recordRemoteRecords(
      pagerDutyTarget.create('oncall-2', { type: 'pagerduty', routingKey: { env: 'ROUTING_KEY' }, url: pagerDuty.url, allowPrivateNetwork: true }, targetContext({ env: ENV, ledger: failing })),
      'pagerduty',
      failing,
      SYNC_BACK,
    );
    const sent = pagerDuty.requests.length;
    const error = await sendFinding(target, neverDelivered).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(true);
    expect(pagerDuty.requests.length).toBe(sent + 1);
  });

  it('leaves targets of platforms not under syncBack unwrapped (off by default)', () => {
    const target = pagerDutyTarget.create('quiet', { type: 'pagerduty', routingKey: { env: 'ROUTING_KEY' } }, targetContext({ env: ENV, ledger }));
    expect(recordRemoteRecords(target, 'pagerduty', ledger, { jira: SYNC_BACK.jira! })).toBe(target);
    expect(recordRemoteRecords(target, 'pagerduty', ledger, undefined)).toBe(target);
  });
});

/** A fresh actions table per test: done-once keys of one test must not answer another's. */
let tables = 0;
const freshTable = async (): Promise<string> => {
  const name = `actions-${++tables}`;
  await dynamo.createTable(name, 'id');
  return name;
};

describe('the queued request through the action engine', () => {
  it('archives the finding in its administrator detector, once, audited with the person who resolved it', async () => {
    const { finding } = delivered;
    const guardduty = await startActionsLoopback({ regions: { [finding.region]: [apiWireFinding(finding as unknown as Record<string, unknown>)] } });
    try {
      const audits: ActionAuditRecord[] = [];
      const engine = createActionEngine({
        policy: compileActionsPolicy({ syncBack: SYNC_BACK }),
        store: dynamoActionStore(dynamo.client, await freshTable()),
        guardduty: sdkGuardDutyAdmin({ clientConfig: { endpoint: guardduty.endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } } }),
        audit: { record: async (record) => void audits.push(record) },
        now: Date.now,
        sleep: async () => undefined,
      });
      const fromPagerDuty = jobs.find((job) => job.request.actor.platform === 'pagerduty')!;
      const first = await engine.run(fromPagerDuty.request);
      const again = await engine.run(fromPagerDuty.request); // the same webhook delivered twice
      expect(first.outcome.status).toBe('done');
      expect(again.outcome.status).toBe('done');
      expect(guardduty.calls.filter((call) => call.operation === 'ArchiveFindings').map((call) => call.body)).toEqual([{ findingIds: [finding.id] }]);
      expect((guardduty.finding(finding.region, finding.id)!.service as { archived?: boolean }).archived).toBe(true);
      expect(audits[0]).toMatchObject({ action: 'archive', status: 'done', actor: { platform: 'pagerduty', id: 'PLH1HKV' } });
    } finally {
      await guardduty.close();
    }
  });

  it('refuses the same request when routes.yml has the switch off (nothing reaches GuardDuty)', async () => {
    const { finding } = delivered;
    const guardduty = await startActionsLoopback({ regions: { [finding.region]: [apiWireFinding(finding as unknown as Record<string, unknown>)] } });
    try {
      const engine = createActionEngine({
        policy: compileActionsPolicy({ syncBack: { pagerduty: { archiveOnResolve: false, signingSecret: { env: 'PD_SECRET' } } } }),
        store: dynamoActionStore(dynamo.client, await freshTable()),
        guardduty: sdkGuardDutyAdmin({ clientConfig: { endpoint: guardduty.endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } } }),
        audit: { record: async () => undefined },
        now: Date.now,
        sleep: async () => undefined,
      });
      const result = await engine.run(jobs.find((job) => job.request.actor.platform === 'pagerduty')!.request);
      expect(result.outcome.status).toBe('refused');
      expect(guardduty.calls).toEqual([]);
    } finally {
      await guardduty.close();
    }
  });

  it('holds a service past the per-actor rate limit for a retry (a bulk resolve is not refused), and archives the next minute', async () => {
    const { finding } = delivered;
    const guardduty = await startActionsLoopback({ regions: { [finding.region]: [apiWireFinding(finding as unknown as Record<string, unknown>)] } });
    try {
      let clock = Date.parse('2026-12-05T10:00:00Z');
      const engine = createActionEngine({
        policy: compileActionsPolicy({ rateLimit: { perMinute: 1 }, acknowledge: {}, syncBack: SYNC_BACK }),
        store: dynamoActionStore(dynamo.client, await freshTable(), () => clock),
        guardduty: sdkGuardDutyAdmin({ clientConfig: { endpoint: guardduty.endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } } }),
        audit: { record: async () => undefined },
        now: () => clock,
        sleep: async () => undefined,
      });
      const request = jobs.find((job) => job.request.actor.platform === 'pagerduty')!.request;
      await engine.run({ ...request, action: 'acknowledge' }); // the minute's one action, by the same service
      await expect(engine.run(request)).rejects.toBeInstanceOf(ActionRetryableError);
      expect(guardduty.calls).toEqual([]);
      clock += 60_000; // the queue hands the job back after the minute
      expect((await engine.run(request)).outcome.status).toBe('done');
      expect(guardduty.calls.map((call) => call.operation)).toContain('ArchiveFindings');
    } finally {
      await guardduty.close();
    }
  });
});
