import type { FindingRef } from './model.ts';

/**
 * What a chat button carries: the finding it acts on, written by the payload builders
 * (Slack `value`, Teams `data`) and read back by the inbound endpoint. The value travels
 * through the chat platform and comes back in a request anyone could forge, so the parser
 * trusts nothing: every field is checked, and the engine re-reads the finding from
 * GuardDuty before acting on it.
 *
 * Wire form (JSON, short keys because Slack caps a button value at 2000 characters):
 *   {"v":1,"f":"<finding id>","a":"<12-digit account>","r":"<region>","t":"<finding type>"}
 */
const BUTTON_VALUE_VERSION = 1;
/** Slack's limit for a button `value`. */
const BUTTON_VALUE_MAX_CHARS = 2000;

const FINDING_ID = /^[A-Za-z0-9_-]{1,300}$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// Finding types are Purpose:ResourceType/Name!Qualifier with a few punctuation marks; no spaces or quotes.
const FINDING_TYPE = /^[A-Za-z0-9:/_.!&-]{1,200}$/;

class ButtonValueError extends Error {
  override name = 'ButtonValueError';
}

const encodeButtonValue = (ref: FindingRef): string => {
  const value = JSON.stringify({ v: BUTTON_VALUE_VERSION, f: ref.id, a: ref.accountId, r: ref.region, ...(ref.type ? { t: ref.type } : {}) });
  if (value.length > BUTTON_VALUE_MAX_CHARS) throw new ButtonValueError(`button value is ${value.length} characters; Slack allows ${BUTTON_VALUE_MAX_CHARS}`);
  return value;
};

/** Parses and checks a button value; throws ButtonValueError naming the field that is wrong. */
const decodeButtonValue = (text: string): FindingRef => {
  if (text.length > BUTTON_VALUE_MAX_CHARS) throw new ButtonValueError(`button value longer than ${BUTTON_VALUE_MAX_CHARS} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ButtonValueError('button value is not JSON', { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ButtonValueError('button value is not an object');
  const { v, f, a, r, t } = parsed as Record<string, unknown>;
  if (v !== BUTTON_VALUE_VERSION) throw new ButtonValueError(`button value version ${JSON.stringify(v)} is not ${BUTTON_VALUE_VERSION}`);
  if (typeof f !== 'string' || !FINDING_ID.test(f)) throw new ButtonValueError('button value: f is not a finding id');
  if (typeof a !== 'string' || !ACCOUNT_ID.test(a)) throw new ButtonValueError('button value: a is not a 12-digit account id');
  if (typeof r !== 'string' || !REGION.test(r)) throw new ButtonValueError('button value: r is not a region');
  if (t !== undefined && (typeof t !== 'string' || !FINDING_TYPE.test(t))) throw new ButtonValueError('button value: t is not a finding type');
  return { id: f, accountId: a, region: r, ...(t === undefined ? {} : { type: t }) };
};

export { encodeButtonValue, decodeButtonValue, ButtonValueError };
