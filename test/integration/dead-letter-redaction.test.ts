import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { lambdaEnvironment } from '../helpers/lambda-environment.ts';
import { lambdaContext } from '../helpers/lambda-context.ts';
import { listenLoopback, readBody } from '../helpers/receiver-kit.ts';

/**
 * The deliver Lambda (real middy chain, SQS and DynamoDB loopbacks) against a receiver that
 * rejects each delivery with a body echoing the webhook's secrets across the 300-character
 * snippet cut: the dead letters carry the reason, and no 8-character piece of any secret.
 */
const PUBLISHED = join(import.meta.dirname, '../events/published');
const PASSWORD = 'dlq-hook-p4ss-5c8e2f71';
const PATH_TOKEN = 'dlqTk2Wm7Xn4Rp9Lq3Zs6Vb8';
const BASIC = Buffer.from(`hook-user:${PASSWORD}`, 'utf8').toString('base64');
const SECRETS = [PASSWORD, PATH_TOKEN, BASIC];
const BODIES = SECRETS.flatMap((secret) => [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]).flatMap((form) =>
  [0, 7].map((pad) => `${'x'.repeat(pad)}${`${form} `.repeat(Math.ceil(420 / (form.length + 1)))}`),
);
const pieces = (secret: string): string[] => Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));
const leaks = (text: string): string[] => SECRETS.flatMap(pieces).filter((piece) => text.includes(piece));

let aws: AwsLoopback;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let receiver: { origin: string; close: () => Promise<void> };
let served = 0;
let handlers: { enrich: any; route: any; deliver: any };

beforeAll(async () => {
  aws = await startAwsLoopback({ queues: ['quarantine', 'delivery', 'delivery-dlq', 'digest'] });
  dynamo = await startDynalite();
  await dynamo.createTable('idempotency', 'id');
  await dynamo.createTable('state', 'findingKey');
  receiver = await listenLoopback(
    createServer(async (req, res) => {
      await readBody(req);
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(BODIES[served++ % BODIES.length]);
    }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'dlq-redaction-'));
  const url = `${receiver.origin.replace('http://', `http://hook-user:${PASSWORD}@`)}/hooks/${PATH_TOKEN}`;
  writeFileSync(join(dir, 'routes.yml'), `targets:\n  hook: { type: webhook, url: "${url}", allowPrivateNetwork: true }\ndefault: { targets: [hook] }\nroutes: []\n`);
  writeFileSync(join(dir, 'accounts.yml'), 'accounts:\n  "111111111111": { name: payments-prod }\n');
  Object.assign(process.env, lambdaEnvironment(aws, dynamo.endpoint, dir));
  handlers = {
    enrich: (await import('../../functions/enrich.ts')).handler,
    route: (await import('../../functions/route.ts')).handler,
    deliver: (await import('../../functions/deliver.ts')).handler,
  };
});

afterAll(async () => {
  await aws?.close();
  await receiver?.close();
  await dynamo?.close();
});

const sqsEvent = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, index) => ({
    messageId: `m-${index}`,
    receiptHandle: `rh-${index}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:delivery',
    awsRegion: 'us-east-1',
  })) as SQSRecord[],
});

/** One delivery job per echoed body: distinct findings, enriched and routed by the real handlers. */
const jobs = async (): Promise<string[]> => {
  const event = JSON.parse(readFileSync(join(PUBLISHED, 'ssh-bruteforce.sample.eventbridge.json'), 'utf8'));
  event.detail.accountId = '111111111111';
  event.detail.severity = 8;
  for (let i = 0; i < BODIES.length; i++) {
    await handlers.enrich({ ...event, detail: { ...event.detail, id: `${event.detail.id.slice(0, 24)}${String(i).padStart(8, '0')}` } }, lambdaContext('enrich'));
  }
  for (const published of aws.events) {
    await handlers.route({ id: 'e', 'detail-type': published.DetailType, source: published.Source, detail: published.detail }, lambdaContext('route'));
  }
  return aws.queue('delivery').messages.map((m) => m.Body);
};

describe('Lambda: deliver dead letters', () => {
  it('a permanent rejection echoing the secrets across the cut: dead-lettered with the reason, no piece of a secret', async () => {
    // Prepare
    const bodies = await jobs();
    aws.reset();

    // Act
    const response = await handlers.deliver(sqsEvent(bodies), lambdaContext('deliver'));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const letters = aws.queue('delivery-dlq').messages.map((m) => m.Body);
    expect(letters).toHaveLength(BODIES.length);
    for (const letter of letters) expect((JSON.parse(letter) as { reason: string }).reason).toContain('HTTP 400 rejected');
    expect(leaks(letters.join('\n'))).toEqual([]);
  });
});
