import type { HttpRequest, HttpResponse } from '../http.ts';
import type { ActionQueue } from '../job.ts';
import type { ActionLog } from '../worker.ts';
import type { SyncPlatform } from './config.ts';
import { syncEventToAction, type SyncDeps } from './handle.ts';

/**
 * The sync-back paths of the actions Function URL (`POST /sync/pagerduty|opsgenie|jira`): verify,
 * map to an archive request, enqueue it for the worker like a button press, answer at once.
 * Returns undefined for any other path, so the endpoint can try this first:
 *
 *   const synced = await handleSyncHttp(request, syncDeps); if (synced) return synced;
 *
 * (first, because a Jira issue event can be larger than the Slack body bound).
 */
interface SyncHttpDeps extends SyncDeps {
  queue: ActionQueue;
  log: ActionLog;
  now: () => number;
}

const SYNC_PATH = /^\/sync\/(pagerduty|opsgenie|jira)\/?$/;

const text = (statusCode: number, body: string): HttpResponse => ({ statusCode, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });

const handleSyncHttp = async (request: HttpRequest, deps: SyncHttpDeps): Promise<HttpResponse | undefined> => {
  const platform = SYNC_PATH.exec(request.path)?.[1] as SyncPlatform | undefined;
  if (platform === undefined) return undefined;
  if (request.method !== 'POST') return text(405, 'POST only');
  const result = await syncEventToAction(platform, { headers: request.headers, body: request.body, receivedAt: deps.now() }, deps);
  const fields = { platform, status: result.statusCode, reason: result.reason, bytes: request.body.length };
  if (result.action !== undefined) {
    await deps.queue.enqueue({ v: 1, request: result.action });
    deps.log.info('sync-back archive accepted', { ...fields, findingId: result.action.finding.id, actor: `${result.action.actor.platform}:${result.action.actor.id}` });
    return text(202, 'accepted');
  }
  if (result.statusCode === 503) {
    // The reason names our secret reference or store: for the log, not for an unauthenticated caller.
    deps.log.error('sync-back request failed on our side', fields);
    return text(503, 'temporarily unavailable');
  }
  if (result.statusCode >= 400) deps.log.warn('sync-back request refused', fields);
  else deps.log.info('sync-back event ignored', fields);
  return text(result.statusCode, result.reason);
};

export { handleSyncHttp };
export type { SyncHttpDeps };
