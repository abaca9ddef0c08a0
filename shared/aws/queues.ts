import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryJob } from '../delivery/job.ts';
import type { DeadLetter } from '../delivery/sink.ts';
import type { SqsPort } from './sqs-job-sink.ts';
import { FindingsRouterError } from '../errors.ts';

/**
 * The queues between the stages. Delivery jobs go out in batches of ten (the SQS limit);
 * entries SQS refuses are sent again once, then the call fails so the stage is retried.
 */
class QueueError extends FindingsRouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueueError';
  }
}

const BATCH_SIZE = 10;
const MAX_BATCH_BYTES = 256 * 1024;

const sendJobs = async (client: SQSClient, queueUrl: string, jobs: readonly DeliveryJob[]): Promise<void> => {
  const bodies = jobs.map((job) => ({ id: job.idempotencyKey.slice(0, 40), body: JSON.stringify(job) }));
  for (const batch of chunk(bodies)) {
    let pending = batch;
    for (let round = 0; round < 2 && pending.length > 0; round++) {
      const response = await client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending.map((e) => ({ Id: e.id, MessageBody: e.body })) }),
      );
      const failed = new Set((response.Failed ?? []).map((f) => f.Id));
      const permanent = (response.Failed ?? []).find((f) => f.SenderFault);
      if (permanent) throw new QueueError(`SendMessageBatch refused a delivery job: ${permanent.Code} ${permanent.Message ?? ''}`.trim());
      pending = pending.filter((e) => failed.has(e.id));
    }
    if (pending.length > 0) throw new QueueError(`SendMessageBatch failed for ${pending.length} delivery job(s)`);
  }
};

/** Batches of at most ten entries and 256 KiB. */
const chunk = <T extends { body: string }>(entries: readonly T[]): T[][] => {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.body);
    if (current.length === BATCH_SIZE || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
};

/** SQS takes 256 KiB per message; leave room for the letter around the payload. */
const MAX_LETTER_BYTES = 240 * 1024;

/**
 * The letter as JSON, always sendable: a payload too large (or too deep to serialise) is
 * replaced by its size, its sha256 and its first characters, so the reason still arrives.
 */
const letterBody = (letter: DeadLetter): string => {
  let body: string | undefined;
  try {
    body = JSON.stringify(letter);
  } catch {
    body = undefined;
  }
  if (body !== undefined && Buffer.byteLength(body) <= MAX_LETTER_BYTES) return body;
  let raw = '';
  try {
    raw = JSON.stringify(letter.payload) ?? '';
  } catch {
    raw = String(letter.payload);
  }
  const summary = { truncated: true, sizeBytes: Buffer.byteLength(raw), sha256: createHash('sha256').update(raw).digest('hex'), head: raw.slice(0, 2_000) };
  return JSON.stringify({ ...letter, payload: summary });
};

const sendDeadLetter = async (client: SQSClient, queueUrl: string, letter: DeadLetter): Promise<void> => {
  await client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: letterBody(letter),
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: letter.reason.slice(0, 1000) },
        stage: { DataType: 'String', StringValue: letter.stage },
        ...(letter.target ? { target: { DataType: 'String', StringValue: letter.target } } : {}),
      },
    }),
  );
};

/** The job sink's SQS port over a client created at init (the route stage sends every job through SQS). */
const sqsPort = (client: SQSClient): SqsPort => ({
  sendJobs: (queueUrl, jobs) => sendJobs(client, queueUrl, jobs),
  sendDeadLetter: (queueUrl, letter) => sendDeadLetter(client, queueUrl, letter),
});

export { sendJobs, sendDeadLetter, sqsPort, letterBody };
export type { DeadLetter };
