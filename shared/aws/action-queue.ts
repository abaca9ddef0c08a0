import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ActionJob, ActionQueue } from '../actions/job.ts';

/** The actions queue in SQS: one message per verified request, consumed by the same function. */
const sqsActionQueue = (client: SQSClient, queueUrl: string): ActionQueue => ({
  enqueue: async (job) => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(job) }));
  },
});

export { sqsActionQueue };
