import { ActionRetryableError, type ActionEngine } from './engine.ts';
import type { HttpRequest, HttpResponse } from './http.ts';
import type { ActionQueue } from './job.ts';
import { ACTION_NAMES, type ActionOutcome, type ActionRequest } from './model.ts';
import { teamsInvokeResponse } from './teams-invoke-response.ts';
import type { TeamsRefusal } from './teams-verify.ts';
import type { ActionLog } from './worker.ts';

/**
 * `POST /teams`: an Action.Execute press from the bot. Teams expects the refreshed card in the
 * invoke response itself (there is no response_url), so the engine runs here, synchronously;
 * only GuardDuty throttling that outlasts the engine's backoff sends the job to the queue,
 * and the card says "pending". Verification and parsing are the Teams modules' (teams-verify.ts).
 */
interface TeamsPathDeps {
  verify: (headers: HttpRequest['headers'], body: Buffer) => Promise<ActionRequest | TeamsRefusal>;
  engine: ActionEngine;
  queue: ActionQueue;
  log: ActionLog;
  now: () => number;
}

const teamsPath = (deps: TeamsPathDeps) =>
  async (request: HttpRequest): Promise<HttpResponse | undefined> => {
    if (request.path !== '/teams') return undefined;
    if (request.method !== 'POST') return { statusCode: 405, body: 'POST only' };
    const verified = await deps.verify(request.headers, request.body);
    if ('status' in verified) {
      deps.log.warn('teams request refused', { reason: verified.reason, bytes: request.body.length });
      return { statusCode: verified.status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: verified.status === 503 ? 'temporarily unavailable' : 'unauthorized' };
    }
    let outcome: ActionOutcome;
    try {
      outcome = (await deps.engine.run(verified)).outcome;
    } catch (error) {
      if (!(error instanceof ActionRetryableError)) throw error;
      await deps.queue.enqueue({ v: 1, request: verified });
      outcome = { request: verified, status: 'pending', message: 'GuardDuty is busy; the action is queued and will be done shortly' };
    }
    const answer = teamsInvokeResponse(outcome, { at: new Date(deps.now()), actions: ACTION_NAMES });
    return { statusCode: answer.status, headers: answer.headers, body: answer.body };
  };

export { teamsPath };
