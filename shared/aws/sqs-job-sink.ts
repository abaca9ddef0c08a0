import type { DeliveryJob } from '../delivery/job.ts';
import type { DeadLetter, JobSink } from '../delivery/sink.ts';

/**
 * The job sink in Lambda: jobs to deliver now go to the delivery queue, held jobs to the
 * digest queue (whose batching window gathers each group), dead letters to the dead-letter
 * queue. Without a digest queue nothing can hold a job, so the pipeline sends it now.
 * Type imports only: the SQS SDK comes with the port (`sqsPort` in queues.ts, created at
 * init by the route stage; `lazySqs` in dead-letters.ts, loaded on first use by deliver).
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

export { sqsJobSink };
export type { SqsPort };
