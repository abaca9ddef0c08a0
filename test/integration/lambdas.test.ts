import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { lambdaEnvironment } from '../helpers/lambda-environment.ts';
import { lambdaContext } from '../helpers/lambda-context.ts';
import { startReceiver } from '../helpers/receiver.ts';

/**
 * The three Lambdas through their real middy chains; the AWS SDK clients talk to a
 * loopback server speaking the EventBridge and SQS wire protocols.
 */
const PUBLISHED = join(import.meta.dirname, '../events/published');
let findingCounter = 0;
const sshEvent = () => {
  const event = JSON.parse(readFileSync(join(PUBLISHED, 'ssh-bruteforce.sample.eventbridge.json'), 'utf8'));
  event.detail.id = `${event.detail.id.slice(0, 24)}${String(++findingCounter).padStart(8, '0')}`;
  event.detail.accountId = '111111111111';
  event.detail.service.additionalInfo = {};
  event.detail.severity = 8;
  return event;
};

let aws: AwsLoopback;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let handlers: { enrich: any; route: any; deliver: any };
const HMAC_SECRET = 'hmac-secret-value-123';

beforeAll(async () => {
  aws = await startAwsLoopback({ queues: ['quarantine', 'delivery', 'delivery-dlq', 'digest'] });
  receiver = await startReceiver();
  dynamo = await startDynalite();
  await dynamo.createTable('idempotency', 'id');
  await dynamo.createTable('state', 'findingKey');
  const dir = mkdtempSync(join(tmpdir(), 'lambda-config-'));
  writeFileSync(join(dir, 'routes.yml'), [
    'targets:',
    `  hook: { type: webhook, url: "${receiver.url}/hook", secret: { env: TEST_HMAC }, allowPrivateNetwork: true }`,
    `  pager: { type: webhook, url: "${receiver.url}/pager", allowPrivateNetwork: true }`,
    `  slack: { type: slack, webhookUrl: { value: "${receiver.url}/slack" }, allowPrivateNetwork: true, rateLimit: { perSecond: 100, burst: 100 } }`,
    'default: { targets: [hook] }',
    'routes:',
    '  - name: high',
    '    match: { severity: { min: 7 } }',
    '    targets: [hook, pager]',
    `  - name: grouped`,
    '    match: { severity: { min: 2.5, max: 3.5 } }',
    '    targets: [slack]',
    '    group: { by: [type], window: 5m }',
    '  - name: drop-low',
    '    match: { severity: { max: 2 } }',
    '    targets: []',
  ].join('\n'));
  writeFileSync(join(dir, 'accounts.yml'), 'accounts:\n  "111111111111": { name: payments-prod, tags: { env: prod } }\n');
  Object.assign(process.env, lambdaEnvironment(aws, dynamo.endpoint, dir), { TEST_HMAC: HMAC_SECRET });
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

beforeEach(() => {
  aws.reset();
  for (const queue of aws.queues.values()) queue.messages.length = 0;
  receiver.requests.length = 0;
  receiver.respondWith(() => ({ status: 200, body: 'ok' }));
});

const sqsEvent = (bodies: string[], receiveCount = 1): SQSEvent => ({
  Records: bodies.map((body, index) => ({
    messageId: `m-${index}`,
    receiptHandle: `rh-${index}`,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:delivery',
    awsRegion: 'us-east-1',
  })) as SQSRecord[],
});

describe('Lambda: enrich', () => {
  it('publishes the enriched finding to the project bus with the finding untouched', async () => {
    // Prepare
    const event = sshEvent();
    // Act
    const result = await handlers.enrich(event, lambdaContext('enrich'));
    // Assess
    expect(result).toEqual({ outcome: 'enriched' });
    expect(aws.events).toHaveLength(1);
    const [published] = aws.events;
    expect(published).toMatchObject({ EventBusName: 'findings-router-bus', Source: 'findings-router', DetailType: 'GuardDuty Finding Enriched' });
    expect(published!.detail.finding).toEqual(event.detail);
    expect(published!.detail.enrichment).toMatchObject({ account: { name: 'payments-prod', known: true }, severityLabel: 'high' });
  });

  it('quarantines an invalid finding with the JSON path and publishes nothing', async () => {
    // Prepare
    const event = sshEvent();
    delete event.detail.id;
    // Act
    const result = await handlers.enrich(event, lambdaContext('enrich'));
    // Assess
    expect(result).toEqual({ outcome: 'rejected' });
    expect(aws.events).toHaveLength(0);
    const [message] = aws.queue('quarantine').messages;
    const letter = JSON.parse(message!.Body);
    expect(letter.reason).toContain('$.detail.id');
    expect(letter.payload).toEqual(event);
    expect(message!.MessageAttributes?.stage?.StringValue).toBe('enrich');
  });

  it('ignores other GuardDuty detail-types', async () => {
    // Prepare
    const event = { ...sshEvent(), 'detail-type': 'GuardDuty Runtime Protection Healthy' };
    // Act
    const result = await handlers.enrich(event, lambdaContext('enrich'));
    // Assess
    expect(result).toEqual({ outcome: 'ignored' });
    expect(aws.calls).toHaveLength(0);
  });

  it('fails the invocation when PutEvents rejects the entry, so EventBridge retries it', async () => {
    // Prepare
    aws.rejectEntries(() => true, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' });
    // Act / Assess
    await expect(handlers.enrich(sshEvent(), lambdaContext('enrich'))).rejects.toThrow(/InternalFailure/);
  });
});

describe('Lambda: route', () => {
  const enrichedEvent = async () => {
    await handlers.enrich(sshEvent(), lambdaContext('enrich'));
    const published = aws.events[0]!;
    aws.reset();
    return { version: '0', id: 'e1', 'detail-type': published.DetailType, source: published.Source, account: '0', time: '', region: 'us-east-1', resources: [], detail: published.detail as any };
  };

  it('queues one delivery job per target', async () => {
    // Prepare
    const event = await enrichedEvent();
    // Act
    const result = await handlers.route(event, lambdaContext('route'));
    // Assess
    expect(result).toEqual({ outcome: 'routed', targets: ['hook', 'pager'] });
    const jobs = aws.queue('delivery').messages.map((m) => JSON.parse(m.Body));
    expect(jobs.map((job) => job.target)).toEqual(['hook', 'pager']);
    expect(new Set(jobs.map((job) => job.idempotencyKey)).size).toBe(2);
    expect(aws.calls.map((c) => c.operation)).toEqual(['SendMessageBatch']);
  });

  it('queues nothing for a deliberate drop', async () => {
    // Prepare
    const event = await enrichedEvent();
    event.detail.finding.severity = 1;
    event.detail.enrichment.severityLabel = 'low';
    // Act
    const result = await handlers.route(event, lambdaContext('route'));
    // Assess
    expect(result).toEqual({ outcome: 'suppressed', targets: [] });
    expect(aws.queue('delivery').messages).toHaveLength(0);
  });
});

describe('Lambda: deliver', () => {
  const jobs = async () => {
    await handlers.enrich(sshEvent(), lambdaContext('enrich'));
    const published = aws.events[0]!;
    await handlers.route({ id: 'e', 'detail-type': published.DetailType, source: published.Source, detail: published.detail }, lambdaContext('route'));
    const bodies = aws.queue('delivery').messages.map((m) => m.Body);
    aws.reset();
    for (const queue of aws.queues.values()) queue.messages.length = 0;
    return bodies;
  };

  it('sends each job to its target, signed, with a stable idempotency key', async () => {
    // Prepare
    const bodies = await jobs();
    // Act
    const response = await handlers.deliver(sqsEvent(bodies), lambdaContext('deliver'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const hook = receiver.requests.find((r) => r.path === '/hook')!;
    expect(hook.headers['x-signature-256']).toBe(`sha256=${createHmac('sha256', HMAC_SECRET).update(hook.body).digest('hex')}`);
    expect(hook.headers['idempotency-key']).toBe(JSON.parse(bodies[0]!).idempotencyKey);
    expect(receiver.requests.find((r) => r.path === '/pager')!.headers['x-signature-256']).toBeUndefined();
  });

  it('reports only the failing target for retry and delays it, leaving the other delivered', async () => {
    // Prepare
    const bodies = await jobs();
    receiver.respondWith((r) => (r.path === '/pager' ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' }));
    // Act
    const response = await handlers.deliver(sqsEvent(bodies), lambdaContext('deliver'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(receiver.requests.filter((r) => r.path === '/hook')).toHaveLength(1);
    expect(aws.calls.map((c) => c.operation)).toContain('ChangeMessageVisibility');
    expect(aws.queue('delivery-dlq').messages).toHaveLength(0);
  });

  it('dead-letters a permanent rejection with its reason and does not retry it', async () => {
    // Prepare
    const bodies = await jobs();
    receiver.respondWith((r) => (r.path === '/pager' ? { status: 400, body: 'bad payload' } : { status: 200, body: 'ok' }));
    // Act
    const response = await handlers.deliver(sqsEvent(bodies), lambdaContext('deliver'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const letters = aws.queue('delivery-dlq').messages.map((m) => JSON.parse(m.Body));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stage: 'deliver', target: 'pager', reason: expect.stringContaining('HTTP 400') });
    expect(letters[0].reason).not.toContain('127.0.0.1');
  });

  it('dead-letters a retryable failure once the receive budget is spent', async () => {
    // Prepare
    const bodies = await jobs();
    receiver.respondWith(() => ({ status: 500, body: 'down' }));
    // Act
    const response = await handlers.deliver(sqsEvent(bodies.slice(0, 1), 5), lambdaContext('deliver'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(JSON.parse(aws.queue('delivery-dlq').messages[0]!.Body).reason).toContain('HTTP 500');
  });

  it('never sends a job twice: a redelivered batch after success is skipped', async () => {
    // Prepare
    const bodies = await jobs();
    await handlers.deliver(sqsEvent(bodies), lambdaContext('deliver'));
    // Act
    const response = await handlers.deliver(sqsEvent(bodies, 2), lambdaContext('deliver'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(receiver.requests.filter((r) => r.path === '/hook')).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.path === '/pager')).toHaveLength(1);
  });

  it('sends again after a failed attempt (the failure leaves no idempotency record)', async () => {
    // Prepare
    const bodies = await jobs();
    receiver.respondWith(() => ({ status: 503, body: 'busy' }));
    await handlers.deliver(sqsEvent(bodies.slice(0, 1)), lambdaContext('deliver'));
    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
    // Act
    const response = await handlers.deliver(sqsEvent(bodies.slice(0, 1), 2), lambdaContext('deliver'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(receiver.requests.at(-1)).toMatchObject({ path: '/hook' });
    expect(receiver.requests.filter((r) => r.path === '/hook').length).toBeGreaterThanOrEqual(2);
  });

  it('turns a burst held in the digest queue into one Slack message', async () => {
    // Prepare
    for (let i = 0; i < 3; i++) {
      const event = sshEvent();
      event.detail.severity = 3;
      await handlers.enrich(event, lambdaContext('enrich'));
    }
    for (const published of aws.events) {
      await handlers.route({ id: 'e', 'detail-type': published.DetailType, source: published.Source, detail: published.detail }, lambdaContext('route'));
    }
    const held = aws.queue('digest').messages.map((m) => m.Body);
    // Act
    const response = await handlers.deliver(sqsEvent(held), lambdaContext('deliver'));
    // Assess
    expect(held).toHaveLength(3);
    expect(aws.queue('delivery').messages).toHaveLength(0);
    expect(response).toEqual({ batchItemFailures: [] });
    const slack = receiver.requests.filter((r) => r.path === '/slack');
    expect(slack).toHaveLength(1);
    expect(JSON.parse(slack[0]!.body).text).toContain('3 similar findings');
  });

  it('dead-letters a job that is not valid JSON', async () => {
    // Act
    const response = await handlers.deliver(sqsEvent(['{oops']), lambdaContext('deliver'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(JSON.parse(aws.queue('delivery-dlq').messages[0]!.Body).reason).toContain('delivery job invalid');
  });
});

describe('Lambda: deliver, poison and collisions', () => {
  const routeAll = async (events: ReturnType<typeof sshEvent>[]) => {
    for (const event of events) await handlers.enrich(event, lambdaContext('enrich'));
    for (const published of aws.events) {
      await handlers.route({ id: 'e', 'detail-type': published.DetailType, source: published.Source, detail: published.detail }, lambdaContext('route'));
    }
    const queued = { delivery: aws.queue('delivery').messages.map((m) => m.Body), digest: aws.queue('digest').messages.map((m) => m.Body) };
    aws.reset();
    for (const queue of aws.queues.values()) queue.messages.length = 0;
    return queued;
  };

  it('dead-letters every record that is not a valid job, single or digest, with its reason, and delivers the rest', async () => {
    // Prepare
    const grouped = Array.from({ length: 3 }, () => sshEvent());
    for (const event of grouped) event.detail.severity = 3;
    const { delivery, digest } = await routeAll([sshEvent(), ...grouped]);
    const heldJob = JSON.parse(digest[0]!);
    const singleJob = JSON.parse(delivery[0]!);
    const poison = {
      notJson: '{oops',
      singleWithoutFinding: JSON.stringify({ ...singleJob, enriched: undefined }),
      digestWithBadWindow: JSON.stringify({ ...heldJob, digest: { ...heldJob.digest, windowMs: 'soon' } }),
      digestWithBadTarget: JSON.stringify({ ...heldJob, target: 42 }),
    };
    const bodies = [delivery[0]!, poison.notJson, digest[0]!, poison.digestWithBadWindow, delivery[1]!, poison.singleWithoutFinding, digest[1]!, poison.digestWithBadTarget, digest[2]!];
    // Act
    const response = await handlers.deliver(sqsEvent(bodies), lambdaContext('deliver'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const letters = aws.queue('delivery-dlq').messages.map((m) => JSON.parse(m.Body));
    const reasonFor = (body: string) => letters.find((letter) => letter.payload === body)?.reason;
    expect(letters).toHaveLength(4);
    expect(reasonFor(poison.notJson)).toBe('delivery job invalid: $: not valid JSON');
    expect(reasonFor(poison.singleWithoutFinding)).toMatch(/^delivery job invalid: \$\.enriched: /);
    expect(reasonFor(poison.digestWithBadWindow)).toMatch(/^delivery job invalid: \$\.digest\.windowMs: /);
    expect(reasonFor(poison.digestWithBadTarget)).toMatch(/^delivery job invalid: \$\.target: /);
    expect(letters.every((letter) => letter.stage === 'deliver')).toBe(true);
    expect(receiver.requests.filter((r) => r.path === '/hook')).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.path === '/pager')).toHaveLength(1);
    const slack = receiver.requests.filter((r) => r.path === '/slack');
    expect(slack).toHaveLength(1);
    expect(JSON.parse(slack[0]!.body).text).toContain('3 similar findings');
  });

  it('gives findings whose id and updatedAt differ only across the old "\\n" separator two keys, and delivers both', async () => {
    // Prepare
    const first = sshEvent();
    Object.assign(first.detail, { id: 'victim\n2018-11-08T20:25:00Z', updatedAt: 'X' });
    const second = sshEvent();
    Object.assign(second.detail, { id: 'victim', updatedAt: '2018-11-08T20:25:00Z\nX' });
    const { delivery: firstJobs } = await routeAll([first]);
    const { delivery: secondJobs } = await routeAll([second]);
    const hookJob = (bodies: string[]) => bodies.find((body) => JSON.parse(body).target === 'hook')!;
    // Act
    const firstResponse = await handlers.deliver(sqsEvent([hookJob(firstJobs)]), lambdaContext('deliver'));
    const secondResponse = await handlers.deliver(sqsEvent([hookJob(secondJobs)]), lambdaContext('deliver'));
    // Assess
    expect(JSON.parse(hookJob(firstJobs)).idempotencyKey).not.toBe(JSON.parse(hookJob(secondJobs)).idempotencyKey);
    expect([firstResponse, secondResponse]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    const hooks = receiver.requests.filter((r) => r.path === '/hook');
    expect(hooks.map((r) => r.headers['idempotency-key'])).toEqual([JSON.parse(hookJob(firstJobs)).idempotencyKey, JSON.parse(hookJob(secondJobs)).idempotencyKey]);
    expect(aws.queue('delivery-dlq').messages).toHaveLength(0);
  });
});
