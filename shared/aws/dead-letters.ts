import { loadOnce } from './load-once.ts';
import type { DeliveryJob } from '../delivery/job.ts';
import type { DeadLetter } from '../delivery/sink.ts';

type LazySqs = typeof import('./lazy/sqs.ts');

/**
 * SQS for a stage that needs it only on rare paths (enrich's quarantine; deliver's dead
 * letters and retry delays): the client and its commands load and are created on first use
 * (a lazily loaded chunk), not at every cold start. Route sends every job through SQS and
 * keeps a client created at init.
 */
const lazySqs = () => {
  const get = loadOnce(async () => {
    const sdk: LazySqs = await import('./lazy/sqs.ts');
    return { sdk, client: new sdk.SQSClient({}) };
  });
  return {
    sendJobs: async (queueUrl: string, jobs: readonly DeliveryJob[]): Promise<void> => {
      const { sdk, client } = await get();
      await sdk.sendJobs(client, queueUrl, jobs);
    },
    sendDeadLetter: async (queueUrl: string, letter: DeadLetter): Promise<void> => {
      const { sdk, client } = await get();
      await sdk.sendDeadLetter(client, queueUrl, letter);
    },
    changeVisibility: async (queueUrl: string, receiptHandle: string, visibilityTimeout: number): Promise<void> => {
      const { sdk, client } = await get();
      await client.send(new sdk.ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: visibilityTimeout }));
    },
  };
};

export { lazySqs };
