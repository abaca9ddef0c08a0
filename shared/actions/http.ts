import type { ActionQueue } from './job.ts';
import { MAX_SLACK_BODY_BYTES, parseSlackActionBody, SlackPayloadError } from './slack-payload.ts';
import { verifySlackRequest } from './slack-verify.ts';
import type { ActionStore } from './store.ts';
import type { ActionLog } from './worker.ts';

/**
 * The synchronous half, what the Function URL answers within Slack's 3 seconds: bound the
 * body, verify the signature, refuse a signature seen before, parse, enqueue, 200. Nothing
 * is done to any finding here. A refusal is logged with its reason only: never the body,
 * the headers or the secret.
 */
interface HttpRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw body as received (already base64-decoded). */
  body: Buffer;
}

interface HttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

interface HttpDeps {
  /** The Slack signing secret; undefined when routes.yml has no actions.slack. */
  slackSecret: () => Promise<string | undefined>;
  store: ActionStore;
  queue: ActionQueue;
  log: ActionLog;
  now: () => number;
  /** Which response URLs a payload may name (default: https://hooks.slack.com only). */
  allowedResponseUrl?: (url: string) => boolean;
  /**
   * Other paths' handlers (Teams, sync-back), tried in order before /slack: each answers for its
   * own paths and returns undefined for the rest. Each bounds and verifies its own requests.
   */
  paths?: readonly ((request: HttpRequest) => Promise<HttpResponse | undefined>)[];
}

/** A signature is good for 5 minutes either side; remembering it 10 covers the whole window. */
const REPLAY_TTL_SECONDS = 600;

const text = (statusCode: number, body: string): HttpResponse => ({ statusCode, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });

const handleSlack = async (request: HttpRequest, deps: HttpDeps): Promise<HttpResponse> => {
  const secret = await deps.slackSecret();
  if (secret === undefined) return text(404, 'slack actions are not configured');
  const verified = verifySlackRequest(request.headers, request.body, secret, Math.floor(deps.now() / 1000));
  if (!verified.ok) {
    deps.log.warn('slack request refused', { reason: verified.reason, bytes: request.body.length });
    return text(401, 'unauthorized');
  }
  if (!(await deps.store.claim(`replay#slack#${verified.signature}`, REPLAY_TTL_SECONDS))) {
    deps.log.warn('slack request refused', { reason: 'replayed', bytes: request.body.length });
    return text(401, 'unauthorized');
  }
  try {
    const { request: action, responseUrl, blocks } = parseSlackActionBody(request.body.toString('utf8'), deps.now(), deps.allowedResponseUrl);
    await deps.queue.enqueue({ v: 1, request: action, reply: { kind: 'slack', responseUrl, blocks } });
    deps.log.info('slack action accepted', { action: action.action, findingId: action.finding.id, actor: action.actor.id });
    // Slack needs an empty 200 within 3 s; the outcome arrives on the message through response_url.
    return text(200, '');
  } catch (error) {
    if (!(error instanceof SlackPayloadError)) throw error;
    deps.log.warn('slack request not understood', { reason: error.message });
    return text(400, 'not a findings-router button');
  }
};

const handleActionHttp = async (request: HttpRequest, deps: HttpDeps): Promise<HttpResponse> => {
  for (const handle of deps.paths ?? []) {
    const answered = await handle(request);
    if (answered !== undefined) return answered;
  }
  if (request.method !== 'POST') return text(405, 'POST only');
  if (request.body.length > MAX_SLACK_BODY_BYTES) {
    deps.log.warn('request refused', { reason: 'too-large', bytes: request.body.length });
    return text(413, 'too large');
  }
  if (request.path === '/slack') return handleSlack(request, deps);
  return text(404, 'not found');
};

export { handleActionHttp };
export type { HttpRequest, HttpResponse, HttpDeps };
