import type { DeliveryJob } from '../../delivery/job.ts';
import type { DeadLetter, JobSink } from '../../delivery/sink.ts';

/**
 * The job sink in one process (replay): a job to deliver now runs at once, concurrently
 * with the finding's other jobs, as the deliver Lambda would receive them from the queue;
 * a held job waits in the run's digest buffer; a dead letter is kept in `letters`.
 * `settled(job)` is the outcome of a job sent now (`undefined` for one that was not).
 */
type JobOutcome = { duplicate: boolean } | { error: unknown };

interface MemoryJobSinkOptions {
  /** Delivers one job (replay: at most once per idempotency key). */
  run(job: DeliveryJob): Promise<{ duplicate: boolean }>;
  /** Holds one job for its digest; absent: this run does not group, so held jobs go now. */
  hold?: ((job: DeliveryJob) => Promise<void>) | undefined;
}

interface MemoryJobSink extends JobSink {
  readonly letters: DeadLetter[];
  settled(job: DeliveryJob): Promise<JobOutcome> | undefined;
}

const memoryJobSink = (options: MemoryJobSinkOptions): MemoryJobSink => {
  const running = new Map<string, Promise<JobOutcome>>();
  const letters: DeadLetter[] = [];
  const hold = options.hold;
  return {
    letters,
    deliverNow: async (jobs) => {
      for (const job of jobs) running.set(job.idempotencyKey, options.run(job).catch((error: unknown) => ({ error })));
    },
    ...(hold === undefined
      ? {}
      : {
          hold: async (jobs: readonly DeliveryJob[]) => {
            for (const job of jobs) await hold(job);
          },
        }),
    deadLetter: async (letter) => {
      letters.push(letter);
    },
    settled: (job) => running.get(job.idempotencyKey),
  };
};

export { memoryJobSink };
