import type { DeliveryJob } from './job.ts';

/**
 * Where the pipeline's queue decisions go: deliver now, hold for a digest, or dead-letter
 * with a reason. The pipeline decides (shared/pipeline.ts `dispatch`, `deliverQueued`); a
 * sink only carries the decision out. Two homes: SQS in Lambda (shared/aws/sqs-job-sink.ts)
 * and memory in replay (memory-sink.ts).
 */
interface JobSink {
  /** Jobs to deliver as soon as possible, one per (finding, target). */
  deliverNow(jobs: readonly DeliveryJob[]): Promise<void>;
  /** Jobs to hold until their digest group is due. Absent where nothing can hold them: they go now. */
  hold?(jobs: readonly DeliveryJob[]): Promise<void>;
  /** A job or event that will not be delivered, kept with its reason so it can be redriven. */
  deadLetter(letter: DeadLetter): Promise<void>;
}

interface DeadLetter {
  reason: string;
  stage: 'enrich' | 'route' | 'deliver';
  target?: string;
  findingId?: string;
  idempotencyKey?: string;
  /** The original event or job, so it can be redriven after the fix. */
  payload: unknown;
  deadLetteredAt: string;
}

export type { JobSink, DeadLetter };
