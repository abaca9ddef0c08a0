import { ButtonValueError, decodeButtonValue } from './button-value.ts';
import type { ActionRequest } from './model.ts';
import { parseSlackActionId } from './slack-buttons.ts';

/**
 * A verified Slack interactivity request (`application/x-www-form-urlencoded`, one field
 * `payload` holding JSON) → the ActionRequest it asks for, the `response_url` to answer on
 * and the message's blocks (the update keeps them and adds the outcome under the buttons).
 * Only `block_actions` from our own buttons are accepted; anything else is refused by name.
 */
/** Slack's interactivity payloads carry the whole message; 128 KiB holds the largest Block Kit message (50 blocks). */
const MAX_SLACK_BODY_BYTES = 128 * 1024;
const MAX_BLOCKS = 50;

interface SlackActionCall {
  request: ActionRequest;
  responseUrl: string;
  blocks: Record<string, unknown>[];
}

class SlackPayloadError extends Error {
  override name = 'SlackPayloadError';
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Slack posts to response_url hosts it owns; anything else would make the endpoint post
 * wherever a payload says. Simulate and tests pass their loopback in `allowedResponseUrl`.
 */
const isSlackResponseUrl = (url: string): boolean => {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.hostname === 'hooks.slack.com' && parsed.port === '' && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
};

const parseSlackActionBody = (body: string, receivedAt: number, allowedResponseUrl: (url: string) => boolean = isSlackResponseUrl): SlackActionCall => {
  const form = new URLSearchParams(body);
  const text = form.get('payload');
  if (text === null) throw new SlackPayloadError('no payload field in the form body');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (cause) {
    throw new SlackPayloadError('payload is not JSON', { cause });
  }
  if (!isObject(payload)) throw new SlackPayloadError('payload is not an object');
  if (payload.type !== 'block_actions') throw new SlackPayloadError('payload type is not block_actions');
  const user = payload.user;
  if (!isObject(user) || typeof user.id !== 'string' || !/^[UW][A-Z0-9]{2,30}$/.test(user.id)) throw new SlackPayloadError('payload.user.id is not a Slack user id');
  const actions = payload.actions;
  if (!Array.isArray(actions) || actions.length !== 1 || !isObject(actions[0])) throw new SlackPayloadError('payload.actions must hold exactly one action');
  const [action] = actions as Record<string, unknown>[];
  const named = typeof action!.action_id === 'string' ? parseSlackActionId(action!.action_id) : undefined;
  if (named === undefined) throw new SlackPayloadError('payload.actions[0].action_id is not one of the router buttons');
  if (typeof action!.value !== 'string') throw new SlackPayloadError('payload.actions[0].value is missing');
  let finding;
  try {
    finding = decodeButtonValue(action!.value);
  } catch (error) {
    throw new SlackPayloadError(`payload.actions[0].value: ${(error as ButtonValueError).message}`, { cause: error });
  }
  const responseUrl = payload.response_url;
  if (typeof responseUrl !== 'string' || !allowedResponseUrl(responseUrl)) throw new SlackPayloadError('payload.response_url is not a Slack response URL');
  const message = payload.message;
  const blocks = isObject(message) && Array.isArray(message.blocks) ? message.blocks.filter(isObject).slice(0, MAX_BLOCKS) : [];
  const name = typeof user.username === 'string' ? user.username : typeof user.name === 'string' ? user.name : undefined;
  const request: ActionRequest = {
    action: named.action,
    finding,
    actor: { platform: 'slack', id: user.id, ...(name ? { name: name.slice(0, 80) } : {}) },
    ...(named.days === undefined ? {} : { days: named.days }),
    // A button carries no words; the record says where the request came from.
    ...(named.action === 'suppress' ? { reason: 'suppressed from Slack' } : {}),
    receivedAt,
  };
  return { request, responseUrl, blocks };
};

export { parseSlackActionBody, SlackPayloadError, MAX_SLACK_BODY_BYTES };
