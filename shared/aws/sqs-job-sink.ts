import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryJob } from '../delivery/job.ts';
import type { DeadLetter, JobSink } from '../delivery/sink.ts';
import { sendDeadLetter, sendJobs } from './queues.ts';

/**
 * The job sink in Lambda: jobs to deliver now go to the delivery queue, held jobs to the
 * digest queue (whose batching window gathers each group), dead letters to the dead-letter
 * queue. Without a digest queue nothing can hold a job, so the pipeline sends it now.
 */
interface SqsPort {
  sendJobs(queueUrl: string, jobs: readonly DeliveryJob[]): Promise<void>;
  sendDeadLetter(queueUrl: string, letter: DeadLetter): Promise<void>;
}

interface SinkQueues {
  delivery: string;
  digest?: string | undefined;
  deadLetter: string;
}

const sqsJobSink = (sqs: SqsPort, queues: SinkQueues): JobSink => {
  const digestQueue = queues.digest;
  return {
    deliverNow: (jobs) => sqs.sendJobs(queues.delivery, jobs),
    ...(digestQueue === undefined ? {} : { hold: (jobs: readonly DeliveryJob[]) => sqs.sendJobs(digestQueue, jobs) }),
    deadLetter: (letter) => sqs.sendDeadLetter(queues.deadLetter, letter),
  };
};

/** An SQS port over a client created at init (the route stage sends every job through SQS). */
const sqsPort = (client: SQSClient): SqsPort => ({
  sendJobs: (queueUrl, jobs) => sendJobs(client, queueUrl, jobs),
  sendDeadLetter: (queueUrl, letter) => sendDeadLetter(client, queueUrl, letter),
});

export { sqsJobSink, sqsPort };
export type { SqsPort, SinkQueues };
