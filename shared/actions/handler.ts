import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ActionRetryableError } from './engine.ts';
import { handleActionHttp, type HttpDeps, type HttpResponse } from './http.ts';
import { parseActionJob } from './job.ts';
import { runActionJob, type ActionLog, type WorkerDeps } from './worker.ts';

/**
 * The actions function's one handler, for its two event sources: the Function URL (verify,
 * enqueue, answer at once) and the actions queue (do the work). One function keeps one role,
 * one configuration and one cold start path; the two halves share nothing at run time but
 * the store.
 */
interface FunctionUrlEvent {
  rawPath?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string } };
}

type ActionsEvent = FunctionUrlEvent | SQSEvent;

interface HandlerDeps {
  http: HttpDeps;
  worker: WorkerDeps;
  log: ActionLog;
}

const isSqsEvent = (event: ActionsEvent): event is SQSEvent => Array.isArray((event as SQSEvent).Records);

const createActionsHandler = (deps: HandlerDeps) =>
  async (event: ActionsEvent): Promise<HttpResponse | SQSBatchResponse> => {
    if (isSqsEvent(event)) {
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const parsed = parseActionJob(record.body);
        if (!parsed.ok) {
          // A job this function did not write: nothing to act on; the DLQ keeps it for a look.
          deps.log.error('action job invalid', { messageId: record.messageId, reason: parsed.reason });
          batchItemFailures.push({ itemIdentifier: record.messageId });
          continue;
        }
        const firstAttempt = Number(record.attributes?.ApproximateReceiveCount ?? '1') <= 1;
        try {
          await runActionJob(parsed.job, deps.worker, firstAttempt);
        } catch (error) {
          if (!(error instanceof ActionRetryableError)) deps.log.error('action job failed', { messageId: record.messageId, reason: (error as Error).name });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures };
    }
    const raw = event.body ?? '';
    return handleActionHttp(
      {
        method: event.requestContext?.http?.method ?? '',
        path: event.rawPath ?? '/',
        headers: event.headers ?? {},
        body: event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8'),
      },
      deps.http,
    );
  };

export { createActionsHandler };
export type { HandlerDeps };
