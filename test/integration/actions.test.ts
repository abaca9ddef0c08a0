import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { ActionAuditRecord } from '../../shared/actions/audit.ts';
import { encodeButtonValue } from '../../shared/actions/button-value.ts';
import { actionsChain } from '../../shared/actions/chain.ts';
import { composeActions } from '../../shared/actions/compose.ts';
import type { GroupDirectory } from '../../shared/actions/engine.ts';
import { teamsPath } from '../../shared/actions/http-teams.ts';
import { ActionsConfigSchema, compileActionsPolicy } from '../../shared/actions/config.ts';
import type { ActionName, ActionRequest } from '../../shared/actions/model.ts';
import { slackActionId } from '../../shared/actions/slack-buttons.ts';
import { slackSignature } from '../../shared/actions/slack-verify.ts';
import { startResponseReceiver, type ResponseReceiver } from '../../shared/cli/actions/simulate/response-receiver.ts';
import { dynamoActionStore } from '../../shared/aws/action-store.ts';
import { sqsActionQueue } from '../../shared/aws/action-queue.ts';
import { dynamoSuppressionStore } from '../../shared/aws/dynamo-suppressions.ts';
import { sdkGuardDutyAdmin } from '../../shared/aws/guardduty-actions.ts';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { apiWireFinding, startActionsLoopback, type ActionsLoopback } from '../helpers/guardduty-actions-loopback.ts';
import { lambdaContext } from '../helpers/lambda-context.ts';

/**
 * Issue 19: a Slack button press end to end through the actions function's middy chain: the
 * signed request to the Function URL half, the job through SQS (loopback), the worker against
 * GuardDuty (REST-JSON loopback, real SDK client), DynamoDB (dynalite) for the replay guard,
 * idempotency, rate limit and suppressions, and a loopback response_url that checks updates.
 */
const SECRET = 'test-signing-secret-0123456789abcdef';
const REGION = 'us-east-1';
const ACCOUNT = '111111111111';
const PERMITTED = 'U0PERMIT1';
const OTHER = 'U0OTHER22';

const detail = JSON.parse(readFileSync(join(import.meta.dirname, '../events/published/ssh-bruteforce.sample.eventbridge.json'), 'utf8')).detail;
const FINDING = { ...detail, accountId: ACCOUNT, region: REGION, id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' };

let aws: AwsLoopback;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let guardduty: ActionsLoopback;
let receiver: ResponseReceiver;
let audits: ActionAuditRecord[];
let logs: string[];
let clock: number;
/** A fresh table per test: the done-once keys of one test must not answer another's. */
let table = '';
let tables = 0;

const TEAMS_USER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
/** What the Teams verifier (teams-verify.ts, tested on its own) hands over for a good token, or its refusal. */
let teamsVerdict: ActionRequest | { status: 401; reason: string };

const chain = (config: object = { archive: { slackUsers: [PERMITTED], teamsUsers: [TEAMS_USER] }, 'false-positive': { slackUsers: [PERMITTED] }, suppress: { slackUsers: [PERMITTED], maxDays: 10 } }, groups?: GroupDirectory) => {
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return actionsChain(
    composeActions({
      policy: compileActionsPolicy(z.parse(ActionsConfigSchema, config)),
      store: dynamoActionStore(dynamo.client, table, () => clock),
      guardduty: sdkGuardDutyAdmin({ clientConfig: { endpoint: guardduty.endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } } }),
      suppressions: dynamoSuppressionStore(dynamo.client, 'suppressions'),
      audit: { record: async (r) => void audits.push(r) },
      queue: sqsActionQueue(new SQSClient(aws.clientConfig), aws.queueUrl('actions')),
      slackSecret: async () => SECRET,
      log: { info: record('info'), warn: record('warn'), error: record('error') },
      now: () => clock,
      sleep: async () => undefined,
      ...(groups ? { groups } : {}),
      allowedResponseUrl: (url) => url === receiver.url,
      paths: (engine) => [teamsPath({ verify: async () => teamsVerdict, engine, queue: { enqueue: async () => undefined }, log: { info: record('info'), warn: record('warn'), error: record('error') }, now: () => clock })],
    }),
  );
};

const slackBody = (action: ActionName, user: string, findingId = FINDING.id): string => {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: 'analyst' },
    actions: [{ action_id: slackActionId(action), value: encodeButtonValue({ id: findingId, accountId: ACCOUNT, region: REGION, type: FINDING.type }) }],
    response_url: receiver.url,
    message: { blocks: [{ type: 'section', block_id: 'finding', text: { type: 'mrkdwn', text: 'SSH brute force' } }] },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
};

const urlEvent = (body: string, headers: Record<string, string>) => ({
  rawPath: '/slack',
  headers,
  body: Buffer.from(body).toString('base64'),
  isBase64Encoded: true,
  requestContext: { http: { method: 'POST' } },
});

const signed = (body: string, timestamp = Math.floor(clock / 1000)) =>
  urlEvent(body, { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': slackSignature(SECRET, String(timestamp), body), 'content-type': 'application/x-www-form-urlencoded' });

/** The queued jobs as the event source mapping would hand them over (first receive). */
const takeJobs = (receiveCount = 1): SQSEvent => {
  const queue = aws.queue('actions');
  const records = queue.messages.splice(0).map((m, index) => ({
    messageId: `m-${index}`,
    receiptHandle: `rh-${index}`,
    body: m.Body,
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: REGION,
  }));
  return { Records: records } as SQSEvent;
};

/** Press a button: the Function URL answer, then the worker run on what it queued. */
const press = async (handler: ReturnType<typeof chain>, action: ActionName, user: string, findingId?: string) => {
  const answer = await handler(signed(slackBody(action, user, findingId)), lambdaContext('actions'));
  const work = await handler(takeJobs(), lambdaContext('actions'));
  return { answer, work };
};

const lastUpdateText = (): string => JSON.stringify(receiver.updates.at(-1)?.blocks ?? []);
const guardDutyOps = () => guardduty.calls.map((c) => c.operation);

beforeAll(async () => {
  aws = await startAwsLoopback({ queues: ['actions'] });
  dynamo = await startDynalite();
  await dynamo.createTable('suppressions', 'id');
  receiver = await startResponseReceiver();
});

afterAll(async () => {
  await guardduty?.close();
  await receiver?.close();
  await dynamo?.close();
  await aws?.close();
});

beforeEach(async () => {
  await guardduty?.close();
  guardduty = await startActionsLoopback({ regions: { [REGION]: [apiWireFinding(FINDING)] } });
  aws.reset();
  aws.queue('actions').messages.length = 0;
  receiver.updates.length = 0;
  audits = [];
  logs = [];
  table = `idempotency-${++tables}`;
  await dynamo.createTable(table, 'id');
  clock = Date.UTC(2026, 0, 1, 12);
});

describe('Actions endpoint: Slack button → GuardDuty', () => {
  it('archives for a permitted analyst in the administrator detector of the finding region, and updates the message', async () => {
    // Act
    const { answer, work } = await press(chain(), 'archive', PERMITTED);
    // Assess
    expect(answer).toMatchObject({ statusCode: 200, body: '' });
    expect(work).toEqual({ batchItemFailures: [] });
    expect(guardDutyOps()).toEqual(['ListDetectors', 'GetFindings', 'ArchiveFindings']);
    const archive = guardduty.calls.find((c) => c.operation === 'ArchiveFindings')!;
    expect(archive.region).toBe(REGION);
    expect(archive.detectorId).toBe(guardduty.detectors[REGION]);
    expect(archive.body).toEqual({ findingIds: [FINDING.id] });
    expect((guardduty.finding(REGION, FINDING.id)!.service as { archived?: boolean }).archived).toBe(true);
    // pending first, then the outcome, both replacing the original with its blocks kept
    expect(receiver.updates).toHaveLength(2);
    expect(JSON.stringify(receiver.updates[0])).toContain('pending');
    expect(lastUpdateText()).toContain('Archived in GuardDuty by <@U0PERMIT1>');
    expect(lastUpdateText()).toContain('SSH brute force');
    expect(audits).toEqual([expect.objectContaining({ action: 'archive', status: 'done', actor: { platform: 'slack', id: PERMITTED, name: 'analyst' }, guardDutyCalls: ['GetFindings', 'ArchiveFindings'] })]);
  });

  it('refuses an analyst not on the allow-list: the message says so and GuardDuty is never called', async () => {
    const { answer, work } = await press(chain(), 'archive', OTHER);
    expect(answer).toMatchObject({ statusCode: 200 });
    expect(work).toEqual({ batchItemFailures: [] });
    expect(guardduty.calls).toEqual([]);
    expect(lastUpdateText()).toContain('not permitted');
    expect(audits[0]).toMatchObject({ status: 'refused', guardDutyCalls: [] });
  });

  it('refuses a replayed request with 401 and queues nothing the second time', async () => {
    const handler = chain();
    const request = signed(slackBody('archive', PERMITTED));
    expect(await handler(request, lambdaContext('actions'))).toMatchObject({ statusCode: 200 });
    expect(await handler(request, lambdaContext('actions'))).toMatchObject({ statusCode: 401 });
    expect(aws.queue('actions').messages).toHaveLength(1);
    expect(logs.some((l) => l.includes('"reason":"replayed"'))).toBe(true);
  });

  it.each([
    ['unsigned', (body: string) => urlEvent(body, {})],
    ['signed with another secret', (body: string) => {
      const ts = String(Math.floor(clock / 1000));
      return urlEvent(body, { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature('not-the-secret', ts, body) });
    }],
    ['six minutes old', (body: string) => signed(body, Math.floor(clock / 1000) - 360)],
  ])('answers 401 to a request %s, does nothing, and logs neither the secret nor the body', async (_label, build) => {
    const body = slackBody('archive', PERMITTED);
    const answer = await chain()(build(body), lambdaContext('actions'));
    expect(answer).toMatchObject({ statusCode: 401 });
    expect(aws.queue('actions').messages).toHaveLength(0);
    expect(logs.join('\n')).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain('block_actions');
    expect(logs.join('\n')).not.toContain(FINDING.id);
  });

  it('retries GuardDuty throttling with backoff and then archives', async () => {
    guardduty.failNext('ArchiveFindings', 'TooManyRequestsException', 2);
    const { work } = await press(chain(), 'archive', PERMITTED);
    expect(work).toEqual({ batchItemFailures: [] });
    expect(guardDutyOps()).toEqual(['ListDetectors', 'GetFindings', 'ArchiveFindings', 'ArchiveFindings', 'ArchiveFindings']);
    expect(lastUpdateText()).toContain('Archived in GuardDuty');
  });

  it('gives a throttled job back to the queue with the message still pending, and archives on the next receive', async () => {
    const handler = chain();
    guardduty.failNext('ArchiveFindings', 'TooManyRequestsException', 4);
    await handler(signed(slackBody('archive', PERMITTED)), lambdaContext('actions'));
    const event = takeJobs();
    expect(await handler(event, lambdaContext('actions'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(receiver.updates).toHaveLength(1);
    expect(JSON.stringify(receiver.updates[0])).toContain('pending');
    // Second receive of the same message: the claim was released, so the action runs.
    const again = { Records: event.Records.map((r) => ({ ...r, attributes: { ...r.attributes, ApproximateReceiveCount: '2' } })) };
    expect(await handler(again, lambdaContext('actions'))).toEqual({ batchItemFailures: [] });
    expect(lastUpdateText()).toContain('Archived in GuardDuty');
  });

  it('says clearly that a finding no longer in the detector cannot be archived, without a retry', async () => {
    const { work } = await press(chain(), 'archive', PERMITTED, 'ffffffffffffffffffffffffffffffff');
    expect(work).toEqual({ batchItemFailures: [] });
    expect(guardDutyOps()).toEqual(['ListDetectors', 'GetFindings']);
    expect(lastUpdateText()).toContain("is not in the administrator's detector");
    expect(audits[0]).toMatchObject({ status: 'failed' });
  });

  it('does an action once per analyst and finding: a second press answers "already"', async () => {
    const handler = chain();
    await press(handler, 'archive', PERMITTED);
    clock += 1000;
    await press(handler, 'archive', PERMITTED);
    expect(guardDutyOps().filter((op) => op === 'ArchiveFindings')).toHaveLength(1);
    expect(lastUpdateText()).toContain('already archived in GuardDuty by you');
  });

  it('sends "not useful" feedback for a false positive', async () => {
    await press(chain(), 'false-positive', PERMITTED);
    const feedback = guardduty.calls.find((c) => c.operation === 'UpdateFindingsFeedback');
    expect(feedback?.body).toMatchObject({ findingIds: [FINDING.id], feedback: 'NOT_USEFUL' });
    expect(lastUpdateText()).toContain('Marked as a false positive');
  });

  it('creates a runtime suppression in DynamoDB for "suppress similar", capped at maxDays', async () => {
    await press(chain(), 'suppress', PERMITTED);
    const listing = await dynamoSuppressionStore(dynamo.client, 'suppressions').list();
    const made = listing.suppressions.find((s) => s.sourceFindingId === FINDING.id);
    expect(made).toMatchObject({ conditions: { type: FINDING.type, accountId: ACCOUNT }, createdBy: { platform: 'slack', id: PERMITTED } });
    // The button asks for 7 days; maxDays 10 lets it through unchanged.
    expect(Date.parse(made!.expiresAt) - Date.parse(made!.createdAt)).toBe(7 * 86_400_000);
    expect(audits[0]).toMatchObject({ status: 'done', suppressionId: made!.id });
  });

  it('permits a member of an allow-listed Slack user group, and denies when membership cannot be read', async () => {
    const config = { archive: { slackUserGroups: ['S0SOC'] } };
    await press(chain(config, { members: async (group) => new Set(group === 'S0SOC' ? [OTHER] : []) }), 'archive', OTHER);
    expect(lastUpdateText()).toContain('Archived in GuardDuty');
    guardduty.calls.length = 0;
    await press(chain({ acknowledge: { slackUserGroups: ['S0SOC'] } }, { members: async () => { throw new Error('slack down'); } }), 'acknowledge', OTHER);
    expect(lastUpdateText()).toContain('could not check Slack user group membership');
    expect(guardduty.calls).toEqual([]);
  });

  it('refuses past the per-actor rate limit without calling GuardDuty', async () => {
    const handler = chain({ rateLimit: { perMinute: 1 }, acknowledge: { slackUsers: [PERMITTED] }, archive: { slackUsers: [PERMITTED] } });
    await press(handler, 'acknowledge', PERMITTED);
    await press(handler, 'archive', PERMITTED);
    expect(guardduty.calls).toEqual([]);
    expect(lastUpdateText()).toContain('rate limit');
  });
});

describe('Actions endpoint: Teams Action.Execute → GuardDuty', () => {
  const teamsEvent = () => ({ rawPath: '/teams', headers: { authorization: 'Bearer x.y.z' }, body: '{}', isBase64Encoded: false, requestContext: { http: { method: 'POST' } } });

  it('archives at once for a permitted Teams user and answers with the refreshed card', async () => {
    teamsVerdict = { action: 'archive', finding: { id: FINDING.id, accountId: ACCOUNT, region: REGION }, actor: { platform: 'teams', id: TEAMS_USER }, receivedAt: clock };
    const answer = (await chain()(teamsEvent(), lambdaContext('actions'))) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    expect(guardDutyOps()).toEqual(['ListDetectors', 'GetFindings', 'ArchiveFindings']);
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(answer.body).toContain('Archived in GuardDuty');
  });

  it('answers the verifier refusal with its status and does nothing', async () => {
    teamsVerdict = { status: 401, reason: 'no Bot Framework bearer token' };
    const answer = (await chain()(teamsEvent(), lambdaContext('actions'))) as { statusCode: number };
    expect(answer.statusCode).toBe(401);
    expect(guardduty.calls).toEqual([]);
    expect(audits).toEqual([]);
  });
});
