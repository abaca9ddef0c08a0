import { ActionRetryableError, type ActionEngine, type EngineResult } from './engine.ts';
import type { ActionJob } from './job.ts';
import type { ActionOutcome } from './model.ts';
import { postSlackUpdate, slackUpdateOf, type SlackUpdate } from './slack-respond.ts';

/**
 * The asynchronous half: one queued job → "pending" on the message (first attempt only) →
 * the engine → the outcome on the message. Throttling that outlasts the engine's backoff is
 * rethrown so the queue retries the job later; the message keeps saying "pending" meanwhile.
 */
interface ActionLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

interface WorkerDeps {
  engine: ActionEngine;
  log: ActionLog;
  now: () => number;
  /** Posts a message update; the Lambda and simulate use postSlackUpdate, which only reaches the URL the payload named. */
  post?: (url: string, update: SlackUpdate) => Promise<{ status: number; answer: string }>;
  /** Every update as it is sent, for simulate's printout. */
  onUpdate?: (update: SlackUpdate, status: number) => void;
}

const runActionJob = async (job: ActionJob, deps: WorkerDeps, firstAttempt: boolean): Promise<EngineResult> => {
  const post = deps.post ?? postSlackUpdate;
  const reply = async (outcome: ActionOutcome) => {
    if (job.reply === undefined) return;
    const update = slackUpdateOf(job.reply.blocks, outcome, new Date(deps.now()));
    try {
      const { status, answer } = await post(job.reply.responseUrl, update);
      deps.onUpdate?.(update, status);
      // Slack answers 404 expired_url after 30 minutes or 5 uses: the action stands, the message cannot show it.
      if (status >= 300) deps.log.warn('message update refused', { status, answer: answer.slice(0, 100), action: job.request.action, findingId: job.request.finding.id });
    } catch (error) {
      deps.log.warn('message update not sent', { reason: (error as Error).name, action: job.request.action, findingId: job.request.finding.id });
    }
  };
  const { request } = job;
  if (firstAttempt) await reply({ request, status: 'pending', message: 'working on it' });
  try {
    const result = await deps.engine.run(request);
    // The audit sink has logged the record; the message shows the outcome.
    await reply(result.outcome);
    return result;
  } catch (error) {
    if (error instanceof ActionRetryableError) deps.log.warn('action will be retried', { action: request.action, findingId: request.finding.id, reason: error.message });
    throw error;
  }
};

export { runActionJob };
export type { ActionLog, WorkerDeps };
