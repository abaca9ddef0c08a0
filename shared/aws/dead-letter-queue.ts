import { ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

/** A message as `dlq` reads it: SentTimestamp and ApproximateReceiveCount when SQS gave them. */
interface QueueMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  sentAt?: number;
  receiveCount?: number;
}

/**
 * The SQS and EventBridge calls of `findings-router dlq`: read letters (hidden while the command
 * works on them), show them again, send one back to a queue or a bus, delete it. The EventBridge
 * client loads only for a redrive to a bus.
 */
const deadLetterQueue = (region: string | undefined) => {
  const config = region ? { region } : {};
  const sqs = new SQSClient(config);
  let events: EventBridgeClient | undefined;
  return {
    /** One long poll of at most `max` (≤ 10) messages, each hidden for `hideSeconds`. */
    receive: async (queueUrl: string, max: number, hideSeconds: number): Promise<QueueMessage[]> => {
      const response = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, max),
          VisibilityTimeout: hideSeconds,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        }),
      );
      return (response.Messages ?? []).flatMap((message) => {
        if (!message.MessageId || !message.ReceiptHandle) return [];
        const received: QueueMessage = { messageId: message.MessageId, receiptHandle: message.ReceiptHandle, body: message.Body ?? '' };
        const sent = Number(message.Attributes?.SentTimestamp);
        if (Number.isFinite(sent)) received.sentAt = sent;
        const count = Number(message.Attributes?.ApproximateReceiveCount);
        if (Number.isFinite(count)) received.receiveCount = count;
        return [received];
      });
    },
    /** Makes up to 10 messages visible at once; the number SQS could not. */
    showAgain: async (queueUrl: string, receiptHandles: readonly string[], firstId: number): Promise<number> => {
      const response = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: receiptHandles.map((handle, j) => ({ Id: `m${firstId + j}`, ReceiptHandle: handle, VisibilityTimeout: 0 })),
        }),
      );
      return (response.Failed ?? []).length;
    },
    send: async (queueUrl: string, body: string): Promise<void> => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
    delete: async (queueUrl: string, receiptHandle: string): Promise<void> => {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
    },
    /** PutEvents of one entry; throws when EventBridge refuses it. */
    putEvent: async (entry: PutEventsRequestEntry): Promise<void> => {
      const { EventBridgeClient, PutEventsCommand } = await import('./lazy/eventbridge.ts');
      events ??= new EventBridgeClient(config);
      const response = await events.send(new PutEventsCommand({ Entries: [entry] }));
      const result = response.Entries?.[0];
      if ((response.FailedEntryCount ?? 0) > 0 || !result?.EventId) {
        throw new Error(`PutEvents refused the event: ${result?.ErrorCode ?? 'unknown'} ${result?.ErrorMessage ?? ''}`.trim());
      }
    },
  };
};

type DeadLetterQueue = ReturnType<typeof deadLetterQueue>;

export { deadLetterQueue };
export type { DeadLetterQueue, QueueMessage };
