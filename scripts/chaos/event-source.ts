import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { AwsLoopback } from '../../test/helpers/aws-loopback.ts';
import type { Environment } from './environments.ts';
import type { JobPlan } from './plan.ts';

/**
 * Lambda's SQS event source mapping, as the deliver function sees it: pollers receive
 * batches (the queue's visibility timeout applies, ApproximateReceiveCount rises, the
 * redrive policy moves a message to the DLQ once it was received maxReceiveCount times),
 * invoke the handler with a fresh context, delete the records not named in
 * batchItemFailures and leave the failed ones for the queue to hand back.
 *
 * Queue time is virtual: when no message is visible, the loopback's clock jumps to the next
 * one due (the receivers are told before anything is received again), so backoffs of 2..16 s and Retry-After cost no
 * real time. A jump never reaches a message that is inside an invocation, so the invariant
 * Lambda keeps (visibility timeout > function timeout) holds as it does in production.
 *
 * Queue faults from the plan: a duplicate receive (the message is made visible again at once
 * on its first receive, so a second poller takes it while the first works on it) and a lost
 * delete (the event source's delete after success never happens).
 */
interface EventSourceOptions {
  sqs: SQSClient;
  aws: AwsLoopback;
  queueUrl: string;
  /** One poller per execution environment of the deliver function (its concurrency). */
  environments: readonly Environment[];
  /** Lambda timeout of one invocation (ms): the handler's deadline is this less its margin. */
  functionTimeoutMs: number;
  batchSize: number;
  planOf: (body: string) => { key: string; target: string; findingId: string; plan: JobPlan } | undefined;
  /** The router finished with these records (delivered or dead-lettered); awaited before their delete. */
  onDone: (records: readonly { key: string; target: string }[]) => Promise<void>;
  /** Moves the queue clock forward; the receivers must know before anything is received at the new time. */
  onAdvance: (offsetMs: number) => Promise<void>;
  /** True while the route stage may still add messages. */
  producing: () => boolean;
  giveUpAt: number;
}

interface EventSourceStats {
  invocations: number;
  handlerErrors: number;
  timeouts: number;
  /** Jobs that were in a timed-out invocation. */
  disturbed: { target: string; findingId: string }[];
  /** Highest receive count seen per job, by JSON [target, finding id]. */
  receivesByJob: Map<string, number>;
  lastHandlerError?: string;
  receives: number;
  batchItemFailures: number;
  duplicateReceives: number;
  lostDeletes: number;
  clockJumps: number;
  virtualMs: number;
  gaveUp: boolean;
}

/** How long a poller that found nothing waits before it asks again. */
const IDLE_POLL_MS = 15;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const runEventSource = async (o: EventSourceOptions): Promise<EventSourceStats> => {
  const stats: EventSourceStats = {
    invocations: 0,
    handlerErrors: 0,
    timeouts: 0,
    disturbed: [],
    receivesByJob: new Map(),
    receives: 0,
    batchItemFailures: 0,
    duplicateReceives: 0,
    lostDeletes: 0,
    clockJumps: 0,
    virtualMs: 0,
    gaveUp: false,
  };
  const queue = o.aws.queue(o.queueUrl);
  /** Message id → invocations holding it (two while a duplicate receive is in progress). */
  const held = new Map<string, number>();
  /** Message id → the end of the visibility timeout its latest receive started. */
  const leases = new Map<string, number>();
  const lostDeleteDone = new Set<string>();
  let offsetMs = 0;

  const hold = (id: string, by: number) => {
    const n = (held.get(id) ?? 0) + by;
    if (n <= 0) held.delete(id);
    else held.set(id, n);
  };

  /** Jump the queue clock to the next message due, if nothing is visible and no invocation would see its message expire. */
  const advanceIfIdle = async (): Promise<void> => {
    const now = o.aws.now();
    let next = Number.POSITIVE_INFINITY;
    let firstHeldExpiry = Number.POSITIVE_INFINITY;
    for (const message of queue.messages) {
      // A held message still on its receive's lease must not expire; one the handler already
      // handed back (ChangeMessageVisibility) is as good as waiting.
      if (held.has(message.MessageId) && leases.get(message.MessageId) === message.visibleAt) {
        firstHeldExpiry = Math.min(firstHeldExpiry, message.visibleAt);
      } else next = Math.min(next, message.visibleAt);
    }
    if (next <= now || next === Number.POSITIVE_INFINITY || next >= firstHeldExpiry) return;
    const jump = next - now;
    offsetMs += jump;
    // The queue first, then the receivers: an invocation in flight that answers a 429 meanwhile
    // sets its retry delay on a clock that is never behind the receiver's (receives wait for both).
    o.aws.advanceTime(jump);
    await o.onAdvance(offsetMs);
    stats.clockJumps++;
    stats.virtualMs += jump;
  };

  const invoke = async (environment: Environment, messages: readonly Message[]): Promise<void> => {
    const records = messages.map(toRecord(queue.arn));
    const plans = new Map(messages.map((m) => [m.MessageId!, o.planOf(m.Body ?? '')]));
    for (const message of messages) {
      const planned = plans.get(message.MessageId!);
      if (planned === undefined) continue;
      const id = JSON.stringify([planned.target, planned.findingId]);
      stats.receivesByJob.set(id, Math.max(stats.receivesByJob.get(id) ?? 0, Number(message.Attributes?.ApproximateReceiveCount ?? '1')));
    }
    for (const message of messages) {
      const planned = plans.get(message.MessageId!);
      if (planned?.plan.duplicateReceive && message.Attributes?.ApproximateReceiveCount === '1') {
        stats.duplicateReceives++;
        await o.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: o.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
      }
    }
    stats.invocations++;
    const invocation = await environment.invoke({ Records: records }, o.functionTimeoutMs);
    let failed: Set<string>;
    if (invocation.ok) failed = new Set(invocation.response.batchItemFailures.map((f) => f.itemIdentifier));
    else {
      // A failed or timed-out invocation: every record comes back after the visibility timeout.
      stats.handlerErrors++;
      if (invocation.timedOut) stats.timeouts++;
      stats.lastHandlerError ??= invocation.error;
      failed = new Set(records.map((r) => r.messageId));
      // A timed-out invocation may have spent a receive without a request: the plan's budget no longer holds.
      for (const planned of plans.values()) if (invocation.timedOut && planned) stats.disturbed.push({ target: planned.target, findingId: planned.findingId });
    }
    stats.batchItemFailures += failed.size;
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    await o.onDone(done.flatMap((m) => {
      const planned = plans.get(m.MessageId!);
      return planned ? [{ key: planned.key, target: planned.target }] : [];
    }));
    const toDelete = done.filter((m) => {
      const planned = plans.get(m.MessageId!);
      if (!planned?.plan.lostDelete || lostDeleteDone.has(planned.key)) return true;
      lostDeleteDone.add(planned.key);
      stats.lostDeletes++;
      return false;
    });
    for (let i = 0; i < toDelete.length; i += 10) {
      const entries = toDelete.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! }));
      await o.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: entries }));
    }
  };

  /** Receives and clock jumps one at a time: a jump never races a receive that is about to hold a message. */
  let gate: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = gate.then(fn);
    gate = run.catch(() => undefined);
    return run;
  };
  const receive = () =>
    exclusive(async () => {
      const response = await o.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: o.queueUrl,
          MaxNumberOfMessages: o.batchSize,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 0,
        }),
      );
      const messages = response.Messages ?? [];
      for (const m of messages) {
        hold(m.MessageId!, 1);
        const visibleAt = queue.messages.find((q) => q.MessageId === m.MessageId)?.visibleAt;
        if (visibleAt !== undefined) leases.set(m.MessageId!, visibleAt);
      }
      if (messages.length === 0) await advanceIfIdle();
      return messages;
    });

  const poller = async (environment: Environment): Promise<void> => {
    for (;;) {
      if (Date.now() > o.giveUpAt) {
        stats.gaveUp = true;
        return;
      }
      const messages = await receive();
      if (messages.length === 0) {
        if (!o.producing() && queue.messages.length === 0) return;
        await sleep(IDLE_POLL_MS);
        continue;
      }
      stats.receives += messages.length;
      try {
        await invoke(environment, messages);
      } finally {
        for (const m of messages) hold(m.MessageId!, -1);
      }
    }
  };

  await Promise.all(o.environments.map(poller));
  return stats;
};

/** The record Lambda builds from a received message. */
const toRecord = (queueArn: string) => (message: Message): SQSRecord => {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '0',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '0',
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
};

export { runEventSource };
export type { EventSourceStats };
