import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENRICHED_DETAIL_TYPE, ENRICHED_SOURCE } from '../../schemas/envelope.ts';
import { sendDeadLetter, type DeadLetter } from '../../shared/aws/queues.ts';
import { makeJob, type DeliveryJob } from '../../shared/delivery/job.ts';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { enrichedFrom, loadEvent } from '../helpers/findings.ts';

/**
 * `findings-router dlq …` as an operator runs it: the real bin in a child process, the
 * real SQS and EventBridge SDK clients, AWS_ENDPOINT_URL pointing at the wire-protocol
 * loopback. (The loopback lives in this process, so the child is spawned asynchronously.)
 */
const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
const SLACK_SECRET = 'T0000/B0000/XXXXSECRETXXXX';

let aws: AwsLoopback;
let sqs: SQSClient;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: mkdtempSync(join(tmpdir(), 'dlq-home-')), // no ~/.aws of the machine running the tests
        AWS_ENDPOINT_URL: aws.endpoint,
        AWS_ACCESS_KEY_ID: aws.clientConfig.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: aws.clientConfig.credentials.secretAccessKey,
        AWS_REGION: 'us-east-1',
        AWS_MAX_ATTEMPTS: '1',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

// ── Letters as the Lambdas write them ───────────────────────────────────────
const sshEvent = (id: string, severity = 8): Record<string, any> => {
  const event = structuredClone(loadEvent('published/ssh-bruteforce.sample.eventbridge.json')) as Record<string, any>;
  event.detail.id = id;
  event.detail.severity = severity;
  return event;
};

const jobFor = async (target: string, findingId: string): Promise<DeliveryJob> =>
  makeJob(target, await enrichedFrom(sshEvent(findingId).detail), ['high']);

const letterFor = (job: DeliveryJob, reason: string, minutesAgo: number): DeadLetter => ({
  stage: 'deliver',
  reason,
  target: job.target,
  findingId: job.enriched.finding.id,
  idempotencyKey: job.idempotencyKey,
  payload: job,
  deadLetteredAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
});

let hookJob1: DeliveryJob;
let hookJob2: DeliveryJob;
let pagerJob: DeliveryJob;

const dlqUrl = () => aws.queueUrl('delivery-dlq');
const quarantineUrl = () => aws.queueUrl('quarantine');
const bodies = (queue: string) => aws.queue(queue).messages.map((m) => JSON.parse(m.Body) as DeadLetter);
const allVisible = (queue: string) => aws.queue(queue).messages.every((m) => m.visibleAt <= aws.now());

beforeAll(async () => {
  aws = await startAwsLoopback({ queues: ['delivery', 'delivery-dlq', 'quarantine'] });
  sqs = new SQSClient(aws.clientConfig);
  hookJob1 = await jobFor('hook', 'f1000000000000000000000000000001');
  hookJob2 = await jobFor('hook', 'f2000000000000000000000000000002');
  pagerJob = await jobFor('pager', 'f3000000000000000000000000000003');
});

afterAll(async () => {
  sqs?.destroy();
  await aws?.close();
});

beforeEach(async () => {
  aws.reset();
  for (const queue of aws.queues.values()) {
    queue.messages.length = 0;
    queue.deleted.length = 0;
  }
  // The delivery DLQ: two letters for `hook`, one for `pager`, one jurisdiction refusal.
  await sendDeadLetter(sqs, dlqUrl(), letterFor(hookJob1, 'DeliveryError: HTTP 503 rejected: upstream unavailable', 90));
  await sendDeadLetter(
    sqs,
    dlqUrl(),
    // Built unredacted on purpose: show and list must redact it anyway.
    letterFor(hookJob2, `DeliveryError: request failed: ECONNRESET https://hooks.slack.com/services/${SLACK_SECRET} token=abcd1234efgh`, 5),
  );
  await sendDeadLetter(sqs, dlqUrl(), letterFor(pagerJob, 'DeliveryError: HTTP 400 rejected: invalid routing key', 3 * 24 * 60));
  await sendDeadLetter(sqs, dlqUrl(), {
    stage: 'route',
    reason: "jurisdiction: region us-east-1 is outside jurisdiction 'eu' of target 'eu-only'",
    target: 'eu-only',
    findingId: 'f4000000000000000000000000000004',
    payload: { finding: { id: 'f4000000000000000000000000000004', accountId: '785665517223', region: 'us-east-1', type: 'x' } },
    deadLetteredAt: new Date().toISOString(),
  });
});

const seedQuarantine = async () => {
  const fixed = sshEvent('f5000000000000000000000000000005'); // valid now: quarantined by an older version
  const broken = sshEvent('f6000000000000000000000000000006');
  broken.detail.severity = 'high';
  const enriched = await enrichedFrom(sshEvent('f7000000000000000000000000000007').detail);
  const enrichedEvent = { version: '0', id: 'e-7', 'detail-type': ENRICHED_DETAIL_TYPE, source: ENRICHED_SOURCE, account: '785665517223', time: '2026-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: enriched };
  const at = new Date().toISOString();
  await sendDeadLetter(sqs, quarantineUrl(), { stage: 'enrich', reason: '$.detail.service: old validator bug', findingId: fixed.detail.id, payload: fixed, deadLetteredAt: at });
  await sendDeadLetter(sqs, quarantineUrl(), { stage: 'enrich', reason: '$.detail.severity: expected number', findingId: broken.detail.id, payload: broken, deadLetteredAt: at });
  await sendDeadLetter(sqs, quarantineUrl(), { stage: 'route', reason: 'enriched event invalid: …', payload: enrichedEvent, deadLetteredAt: at });
  return { fixed, broken, enrichedEvent };
};

describe('CLI: dlq list', () => {
  it('prints a table of letters (age, stage, target, finding id, reason) and leaves every letter in the queue, visible', async () => {
    // Act
    const { code, stdout } = await run(['dlq', 'list', '--queue-url', dlqUrl()]);
    // Assess
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MESSAGE ID\s+AGE\s+STAGE\s+TARGET\s+FINDING ID\s+REASON$/);
    expect(lines).toHaveLength(1 + 4 + 1);
    // Oldest first
    expect(lines[1]).toMatch(/\s3d\s+deliver\s+pager\s+f3000000000000000000000000000003\s+DeliveryError: HTTP 400 rejected: invalid routing key$/);
    expect(lines[2]).toMatch(/\s90m\s+deliver\s+hook\s+f1000000000000000000000000000001\s+DeliveryError: HTTP 503/);
    expect(lines[3]).toMatch(/\s5m\s+deliver\s+hook\s+f2000000000000000000000000000002\s+DeliveryError: request failed: ECONNRESET/);
    expect(lines[4]).toMatch(/\s\d+s\s+route\s+eu-only\s+f4000000000000000000000000000004\s+jurisdiction: /);
    expect(lines[5]).toBe('4 letter(s) in delivery-dlq');
    expect(stdout).not.toContain(SLACK_SECRET);
    expect(stdout).not.toContain('abcd1234efgh');
    for (const line of lines.slice(1, 5)) expect(line.length).toBeLessThanOrEqual(200); // reasons truncated
    // Nothing consumed: all four still there, visible again
    expect(aws.queue('delivery-dlq').messages).toHaveLength(4);
    expect(aws.queue('delivery-dlq').deleted).toHaveLength(0);
    expect(allVisible('delivery-dlq')).toBe(true);
  }, 60_000);

  it('pages past ten letters and prints one JSON object per letter with --json', async () => {
    // Prepare: 4 + 12 letters
    for (let i = 0; i < 12; i++) await sendDeadLetter(sqs, dlqUrl(), letterFor(pagerJob, `DeliveryError: HTTP 502 rejected #${i}`, 1));
    // Act
    const { code, stdout } = await run(['dlq', 'list', '--json'], { DELIVERY_DLQ_URL: dlqUrl() });
    // Assess
    expect(code).toBe(0);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(16);
    expect(new Set(rows.map((r) => r.messageId)).size).toBe(16);
    expect(Object.keys(rows[0])).toEqual(['messageId', 'age', 'stage', 'target', 'findingId', 'reason']);
    expect(allVisible('delivery-dlq')).toBe(true);
  }, 60_000);

  it('reads the quarantine queue through --queue quarantine and QUARANTINE_QUEUE_URL; no queue at all is a usage error', async () => {
    // Prepare
    await seedQuarantine();
    // Act
    const listed = await run(['dlq', 'list', '--queue', 'quarantine'], { QUARANTINE_QUEUE_URL: quarantineUrl() });
    const none = await run(['dlq', 'list']);
    // Assess
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('3 letter(s) in quarantine');
    expect(listed.stdout).toMatch(/enrich\s+-\s+f6000000000000000000000000000006\s+\$\.detail\.severity: expected number/);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('DELIVERY_DLQ_URL');
  }, 60_000);
});

describe('CLI: dlq show', () => {
  it('prints one letter in full as JSON, redacted', async () => {
    // Prepare
    const id = aws.queue('delivery-dlq').messages[1]!.MessageId;
    // Act
    const { code, stdout } = await run(['dlq', 'show', id, '--queue-url', dlqUrl()]);
    // Assess
    expect(code).toBe(0);
    const [metaLine, ...rest] = stdout.split('\n');
    expect(JSON.parse(metaLine!)).toMatchObject({ messageId: id, receiveCount: expect.any(Number) });
    const letter = JSON.parse(rest.join('\n'));
    expect(letter).toMatchObject({ stage: 'deliver', target: 'hook', findingId: 'f2000000000000000000000000000002', idempotencyKey: hookJob2.idempotencyKey });
    expect(letter.payload.enriched.finding.id).toBe('f2000000000000000000000000000002');
    expect(letter.reason).toContain('https://hooks.slack.com/[REDACTED]');
    expect(stdout).not.toContain(SLACK_SECRET);
    expect(stdout).not.toContain('abcd1234efgh');
    expect(allVisible('delivery-dlq')).toBe(true);
  }, 60_000);

  it('exits 1 for an unknown message id', async () => {
    // Act
    const { code, stderr } = await run(['dlq', 'show', 'no-such-id', '--queue-url', dlqUrl()]);
    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain('no message no-such-id in delivery-dlq (looked at 4)');
  }, 60_000);
});

describe('CLI: dlq redrive', () => {
  it('refuses to guess which letters: --target or --all is required', async () => {
    // Act
    const { code, stderr } = await run(['dlq', 'redrive', '--queue-url', dlqUrl(), '--to-queue-url', aws.queueUrl('delivery')]);
    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('--target T, or --all');
    expect(aws.queue('delivery-dlq').messages).toHaveLength(4);
  }, 60_000);

  it('--dry-run sends and deletes nothing', async () => {
    // Act
    const { code, stdout } = await run(['dlq', 'redrive', '--all', '--dry-run', '--queue-url', dlqUrl(), '--to-queue-url', aws.queueUrl('delivery')]);
    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/would send .* deliver {2}hook .* → queue delivery/);
    expect(stdout).toMatch(/kept .* route {2}eu-only .*jurisdiction guard/);
    expect(stdout).toContain('redrive (dry run): 3 would redrive, 1 kept, 0 failed (4 selected of 4 in delivery-dlq)');
    expect(aws.queue('delivery').messages).toHaveLength(0);
    expect(aws.queue('delivery-dlq').messages).toHaveLength(4);
    expect(allVisible('delivery-dlq')).toBe(true);
  }, 60_000);

  it('moves the target\'s jobs to the delivery queue and deletes a letter only after its send succeeded', async () => {
    // Prepare: the first SendMessage (hook letter 1) fails
    const callsBefore = aws.calls.length;
    aws.failNext('SendMessage', { status: 500, code: 'InternalError', message: 'We encountered an internal error.' });
    // Act
    const first = await run(['dlq', 'redrive', '--target', 'hook', '--queue-url', dlqUrl(), '--to-queue-url', aws.queueUrl('delivery')]);
    // Assess: letter 1 stays, letter 2 moved
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/failed .* f1000000000000000000000000000001: .*InternalError.*\(the letter stays\)/);
    expect(first.stdout).toMatch(/redriven .* f2000000000000000000000000000002 → queue delivery/);
    expect(aws.queue('delivery').messages.map((m) => JSON.parse(m.Body))).toEqual([JSON.parse(JSON.stringify(hookJob2))]);
    expect(bodies('delivery-dlq').map((l) => l.findingId).sort()).toEqual([
      'f1000000000000000000000000000001',
      'f3000000000000000000000000000003',
      'f4000000000000000000000000000004',
    ]);
    expect(allVisible('delivery-dlq')).toBe(true);
    // The delete came after the successful send, never before
    const ops = aws.calls.slice(callsBefore).filter((c) => c.operation === 'SendMessage' || c.operation === 'DeleteMessage').map((c) => `${c.operation}:${c.status}`);
    expect(ops).toEqual(['SendMessage:500', 'SendMessage:200', 'DeleteMessage:200']);

    // Act: once the trouble is over, the same command moves the rest
    const second = await run(['dlq', 'redrive', '--target', 'hook', '--queue-url', dlqUrl()], { DELIVERY_QUEUE_URL: aws.queueUrl('delivery') });
    // Assess
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('redrive: 1 redriven, 0 kept, 0 failed (1 selected of 3 in delivery-dlq)');
    expect(aws.queue('delivery').messages.map((m) => JSON.parse(m.Body))).toEqual([hookJob2, hookJob1].map((job) => JSON.parse(JSON.stringify(job))));
    expect(bodies('delivery-dlq').map((l) => l.target).sort()).toEqual(['eu-only', 'pager']);
  }, 60_000);

  it('keeps a letter when its delete fails after the send (shown again; its key makes a second redrive harmless)', async () => {
    // Prepare
    aws.failNext('DeleteMessage', { status: 500, code: 'InternalError' });
    // Act
    const { code, stdout } = await run(['dlq', 'redrive', '--target', 'pager', '--queue-url', dlqUrl(), '--to-queue-url', aws.queueUrl('delivery')]);
    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/failed .* pager .*sent, but not deleted/);
    expect(aws.queue('delivery').messages).toHaveLength(1);
    expect(bodies('delivery-dlq').some((l) => l.target === 'pager')).toBe(true);
  }, 60_000);

  it('sends quarantined events back to EventBridge only when this version accepts them, with their source and detail-type', async () => {
    // Prepare
    const { fixed, enrichedEvent } = await seedQuarantine();
    // Act
    const { code, stdout } = await run(['dlq', 'redrive', '--all', '--to-bus', '--queue-url', quarantineUrl()]);
    // Assess: the fixed event went to the default bus; the broken one and the enriched one (no bus named) stay
    expect(code).toBe(0);
    expect(aws.events).toHaveLength(1);
    expect(aws.events[0]).toMatchObject({ EventBusName: 'default', Source: 'aws.guardduty', DetailType: 'GuardDuty Finding' });
    expect(aws.events[0]!.detail).toEqual(fixed.detail);
    expect(stdout).toMatch(/kept .* f6000000000000000000000000000006: still rejected by this version \(\$\.detail\.severity/);
    expect(stdout).toMatch(/kept .* route .*the router's bus: pass --event-bus NAME/);
    expect(bodies('quarantine').map((l) => l.stage).sort()).toEqual(['enrich', 'route']);

    // Act: the enriched finding goes to the router's bus when it is named
    const again = await run(['dlq', 'redrive', '--all', '--to-bus', '--event-bus', 'findings-router-bus', '--queue-url', quarantineUrl()]);
    // Assess
    expect(again.code).toBe(0);
    expect(aws.events[1]).toMatchObject({ EventBusName: 'findings-router-bus', Source: ENRICHED_SOURCE, DetailType: ENRICHED_DETAIL_TYPE });
    expect(aws.events[1]!.detail).toEqual(JSON.parse(JSON.stringify(enrichedEvent.detail)));
    expect(bodies('quarantine').map((l) => l.findingId)).toEqual(['f6000000000000000000000000000006']);
  }, 60_000);

  it('keeps the letter when EventBridge refuses the entry (e.g. the aws.* source is reserved)', async () => {
    // Prepare
    await seedQuarantine();
    aws.rejectEntries((entry) => String(entry.Source).startsWith('aws.'), {
      ErrorCode: 'NotAuthorizedForSourceException',
      ErrorMessage: 'Not authorized for the source.',
    });
    // Act
    const { code, stdout } = await run(['dlq', 'redrive', '--all', '--to-bus', '--queue-url', quarantineUrl()]);
    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/failed .* f5000000000000000000000000000005: .*NotAuthorizedForSourceException.*\(the letter stays\)/);
    expect(bodies('quarantine')).toHaveLength(3);
    expect(allVisible('quarantine')).toBe(true);
  }, 60_000);
});

describe('CLI: dlq export → replay', () => {
  it('exports one letter per line, and replay runs what they carry', async () => {
    // Prepare
    await seedQuarantine();
    const dir = mkdtempSync(join(tmpdir(), 'dlq-export-'));
    // Act
    const exported = await run(['dlq', 'export', '--queue-url', dlqUrl()]);
    const quarantined = await run(['dlq', 'export', '--queue', 'quarantine'], { QUARANTINE_QUEUE_URL: quarantineUrl() });
    writeFileSync(join(dir, 'dlq.ndjson'), exported.stdout);
    writeFileSync(join(dir, 'quarantine.ndjson'), quarantined.stdout);
    // A delivery letter is re-sent to its own target only: the routes file must define it.
    writeFileSync(
      join(dir, 'routes.yml'),
      `targets:\n  hook: { type: file, path: ${JSON.stringify(join(dir, 'hook.ndjson'))} }\n  pager: { type: file, path: ${JSON.stringify(join(dir, 'pager.ndjson'))} }\n  siem: { type: file, path: ${JSON.stringify(join(dir, 'siem.ndjson'))} }\ndefault:\n  targets: [siem]\n`,
    );
    const replay = await run(['replay', '--json', '--dry-run', '--routes', join(dir, 'routes.yml'), join(dir, 'dlq.ndjson'), join(dir, 'quarantine.ndjson')]);
    // Assess: export
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('exported 4 letter(s) from delivery-dlq');
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as DeadLetter);
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => l.findingId).sort()).toEqual(['f1000000000000000000000000000001', 'f2000000000000000000000000000002', 'f3000000000000000000000000000003', 'f4000000000000000000000000000004']);
    expect(exported.stdout).not.toContain(SLACK_SECRET);
    expect(aws.queue('delivery-dlq').messages).toHaveLength(4);
    // Assess: replay unwraps each letter
    expect(replay.code).toBe(0);
    const records = replay.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(records).toHaveLength(7);
    const byId = new Map(records.map((r) => [r.findingId ?? r.source, r]));
    for (const id of ['f1000000000000000000000000000001', 'f2000000000000000000000000000002', 'f3000000000000000000000000000003', 'f5000000000000000000000000000005', 'f7000000000000000000000000000007']) {
      expect(['routed', 'suppressed'], id).toContain(byId.get(id)?.outcome);
    }
    // Delivery letters go back to their own target only, not through the routes again
    expect(byId.get('f1000000000000000000000000000001')?.targets).toEqual(['hook']);
    expect(byId.get('f3000000000000000000000000000003')?.targets).toEqual(['pager']);
    const jurisdiction = records.find((r) => r.outcome === 'rejected' && /\$\.payload\.finding\./.test(r.reason));
    expect(jurisdiction?.findingId).toBe('f4000000000000000000000000000004');
    const broken = records.find((r) => r.findingId === 'f6000000000000000000000000000006');
    expect(broken).toMatchObject({ outcome: 'rejected' });
    expect(broken!.reason).toMatch(/^\$\.payload\.detail\.severity: /);
    expect(readFileSync(join(dir, 'dlq.ndjson'), 'utf8')).toContain('"idempotencyKey"');
  }, 60_000);
});
