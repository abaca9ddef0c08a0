import { ButtonValueError, decodeButtonValue } from './button-value.ts';
import { ACTION_NAMES, type ActionName, type ActionRequest } from './model.ts';

/**
 * The Bot Framework activity Teams sends when an `Action.Execute` button is pressed:
 * `type: invoke`, `name: adaptiveCard/action`, `value.action` carrying the verb and the data
 * the card put there (shared/actions/teams-card-actions.ts). The token does not sign the body,
 * so every field is checked here, and the engine re-reads the finding before acting.
 */
interface TeamsInvokeActivity {
  type: 'invoke';
  name: 'adaptiveCard/action';
  channelId: string;
  serviceUrl: string;
  from: { id: string; aadObjectId: string; name?: string };
  recipient: { id: string };
  value: { action: { type: 'Action.Execute'; verb: ActionName; data: { value: string; days?: number } } };
}

class TeamsActivityError extends Error {
  override name = 'TeamsActivityError';
}

const AAD_OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_NAME = 200;

const record = (value: unknown, where: string): Record<string, unknown> => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TeamsActivityError(`${where} is not an object`);
  return value as Record<string, unknown>;
};
const text = (value: unknown, where: string): string => {
  if (typeof value !== 'string' || value === '') throw new TeamsActivityError(`${where} is not a non-empty string`);
  return value;
};

/** Checks the shape of an `adaptiveCard/action` invoke; throws TeamsActivityError naming the field. */
const parseInvokeActivity = (parsed: unknown): TeamsInvokeActivity => {
  const activity = record(parsed, 'the activity');
  if (activity.type !== 'invoke') throw new TeamsActivityError(`activity type ${JSON.stringify(String(activity.type)).slice(0, 40)} is not invoke`);
  if (activity.name !== 'adaptiveCard/action') throw new TeamsActivityError('activity name is not adaptiveCard/action');
  const from = record(activity.from, 'from');
  const aadObjectId = text(from.aadObjectId, 'from.aadObjectId');
  if (!AAD_OBJECT_ID.test(aadObjectId)) throw new TeamsActivityError('from.aadObjectId is not an Entra object id');
  const action = record(record(activity.value, 'value').action, 'value.action');
  if (action.type !== 'Action.Execute') throw new TeamsActivityError('value.action.type is not Action.Execute');
  const verb = text(action.verb, 'value.action.verb');
  if (!(ACTION_NAMES as readonly string[]).includes(verb)) throw new TeamsActivityError('value.action.verb is not an action this router offers');
  const data = record(action.data, 'value.action.data');
  const days = data.days;
  if (days !== undefined && !(Number.isInteger(days) && (days as number) >= 1 && (days as number) <= 365)) {
    throw new TeamsActivityError('value.action.data.days is not a whole number of days from 1 to 365');
  }
  const name = typeof from.name === 'string' ? from.name.slice(0, MAX_NAME) : undefined;
  return {
    type: 'invoke',
    name: 'adaptiveCard/action',
    channelId: text(activity.channelId, 'channelId'),
    serviceUrl: text(activity.serviceUrl, 'serviceUrl'),
    from: { id: text(from.id, 'from.id'), aadObjectId: aadObjectId.toLowerCase(), ...(name ? { name } : {}) },
    recipient: { id: text(record(activity.recipient, 'recipient').id, 'recipient.id') },
    value: { action: { type: 'Action.Execute', verb: verb as ActionName, data: { value: text(data.value, 'value.action.data.value'), ...(days === undefined ? {} : { days: days as number }) } } },
  };
};

/** The ActionRequest for the engine; the actor is the Entra object id the allow-lists name. */
const actionRequestFromInvoke = (activity: TeamsInvokeActivity, receivedAt: number): ActionRequest => {
  const { verb, data } = activity.value.action;
  let finding;
  try {
    finding = decodeButtonValue(data.value);
  } catch (error) {
    throw new TeamsActivityError(error instanceof ButtonValueError ? error.message : 'button value unreadable', { cause: error });
  }
  if (verb === 'suppress' && data.days === undefined) throw new TeamsActivityError('value.action.data.days is missing for suppress');
  return {
    action: verb,
    finding,
    actor: { platform: 'teams', id: activity.from.aadObjectId, ...(activity.from.name ? { name: activity.from.name } : {}) },
    ...(verb === 'suppress' ? { days: data.days } : {}),
    receivedAt,
  };
};

export { parseInvokeActivity, actionRequestFromInvoke, TeamsActivityError };
