import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeButtonValue } from '../../shared/actions/button-value.ts';
import { slackActionId } from '../../shared/actions/slack-buttons.ts';
import { slackSignature } from '../../shared/actions/slack-verify.ts';
import { startResponseReceiver, type ResponseReceiver } from '../../shared/cli/actions/simulate/response-receiver.ts';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { apiWireFinding, startActionsLoopback, type ActionsLoopback } from '../helpers/guardduty-actions-loopback.ts';
import { lambdaContext } from '../helpers/lambda-context.ts';
import { lambdaEnvironment } from '../helpers/lambda-environment.ts';

/**
 * functions/actions.ts as deployed: its environment (serverless.yml names), the routes file's
 * actions: block, the secret by reference, SQS/DynamoDB/GuardDuty clients built from the
 * environment and pointed at the loopbacks. The URL half and the queue half, one each.
 */
const SECRET = 'lambda-signing-secret-abcdef0123456789';
const detail = JSON.parse(readFileSync(join(import.meta.dirname, '../events/published/ssh-bruteforce.sample.eventbridge.json'), 'utf8')).detail;
const FINDING = { ...detail, accountId: '111111111111', region: 'us-east-1', id: 'b1b2c3d4e5f60718293a4b5c6d7e8f91' };

let aws: AwsLoopback;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let guardduty: ActionsLoopback;
let receiver: ResponseReceiver;
let handler: (event: unknown, context: unknown) => Promise<any>;
let auditDir = '';

beforeAll(async () => {
  aws = await startAwsLoopback({ queues: ['actions'] });
  dynamo = await startDynalite();
  await dynamo.createTable('idempotency', 'id');
  await dynamo.createTable('suppressions', 'id');
  await dynamo.createTable('state', 'findingKey');
  guardduty = await startActionsLoopback({ regions: { 'us-east-1': [apiWireFinding(FINDING)] } });
  receiver = await startResponseReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'actions-lambda-'));
  writeFileSync(join(dir, 'routes.yml'), [
    'targets:',
    `  audit-file: { type: file, path: ${JSON.stringify(join(dir, 'audit.ndjson'))}, audit: true }`,
    'default: { targets: [audit-file] }',
    'actions:',
    '  slack: { signingSecret: { env: TEST_SLACK_SIGNING_SECRET } }',
    '  archive: { slackUsers: [U0PERMIT1] }',
  ].join('\n'));
  writeFileSync(join(dir, 'accounts.yml'), 'accounts: {}\n');
  Object.assign(process.env, lambdaEnvironment(aws, dynamo.endpoint, dir), {
    AWS_LAMBDA_FUNCTION_NAME: 'findings-router-actions',
    ACTIONS_QUEUE_URL: aws.queueUrl('actions'),
    SUPPRESSIONS_TABLE: 'suppressions',
    ACTIONS_DETECTOR_ARNS: `arn:aws:guardduty:us-east-1:999999999999:detector/${guardduty.detectors['us-east-1']}`,
    AWS_ENDPOINT_URL_GUARDDUTY: guardduty.endpoint,
    TEST_SLACK_SIGNING_SECRET: SECRET,
  });
  handler = (await import('../../functions/actions.ts')).handler as never;
  auditDir = dir;
});

afterAll(async () => {
  await guardduty?.close();
  await receiver?.close();
  await dynamo?.close();
  await aws?.close();
});

describe('Lambda: actions', () => {
  it('Function URL: verifies the Slack signature with the secret the reference names, and queues the job on ACTIONS_QUEUE_URL', async () => {
    const payload = {
      type: 'block_actions',
      user: { id: 'U0PERMIT1' },
      actions: [{ action_id: slackActionId('archive'), value: encodeButtonValue({ id: FINDING.id, accountId: FINDING.accountId, region: FINDING.region }) }],
      response_url: 'https://hooks.slack.com/actions/T0/1/abc',
      message: { blocks: [] },
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const answer = await handler(
      { rawPath: '/slack', headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, ts, body) }, body, isBase64Encoded: false, requestContext: { http: { method: 'POST' } } },
      lambdaContext('actions'),
    );
    expect(answer).toMatchObject({ statusCode: 200 });
    const [message] = aws.queue('actions').messages;
    expect(JSON.parse(message!.Body)).toMatchObject({ v: 1, request: { action: 'archive', actor: { platform: 'slack', id: 'U0PERMIT1' } }, reply: { responseUrl: 'https://hooks.slack.com/actions/T0/1/abc' } });
  });

  it('queue: archives in the detector named by ACTIONS_DETECTOR_ARNS (no ListDetectors), updates the message and writes the audit record to the audit target', async () => {
    const job = {
      v: 1,
      request: { action: 'archive', finding: { id: FINDING.id, accountId: FINDING.accountId, region: FINDING.region }, actor: { platform: 'slack', id: 'U0PERMIT1' }, receivedAt: Date.now() },
      reply: { kind: 'slack', responseUrl: receiver.url, blocks: [] },
    };
    const event = { Records: [{ messageId: 'm-1', receiptHandle: 'r', body: JSON.stringify(job), attributes: { ApproximateReceiveCount: '1' }, eventSourceARN: aws.queue('actions').arn }] } as unknown as SQSEvent;
    expect(await handler(event, lambdaContext('actions'))).toEqual({ batchItemFailures: [] });
    expect(guardduty.calls.map((c) => c.operation)).toEqual(['GetFindings', 'ArchiveFindings']);
    expect(receiver.updates.at(-1)?.text).toContain('archive: done');
    const audit = readFileSync(join(auditDir, 'audit.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(audit).toEqual([expect.objectContaining({ kind: 'findings-router.action', action: 'archive', status: 'done', guardDutyCalls: ['GetFindings', 'ArchiveFindings'] })]);
  });
});
