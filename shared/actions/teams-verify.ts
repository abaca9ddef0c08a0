import { decodeProtectedHeader, importJWK, jwtVerify, errors as joseErrors } from 'jose';
import type { ActionRequest } from './model.ts';
import { actionRequestFromInvoke, parseInvokeActivity, TeamsActivityError } from './teams-activity.ts';
import { BotKeysUnavailableError, type BotFrameworkKeys } from './teams-bot-keys.ts';

/**
 * Verifies a request Teams (the Bot Framework connector) sent to the bot's messaging endpoint
 * and turns an `Action.Execute` press into an ActionRequest. The checks, as the Bot Framework
 * authentication document sets them out: a Bearer JWT signed with RS256 by a key in the Bot
 * Framework key set that endorses the activity's channel, issuer `https://api.botframework.com`,
 * audience the bot's app id, within its lifetime give or take five minutes, and a `serviceUrl`
 * claim equal to the activity's. The token does not sign the body; the body is bound to it by
 * that claim and by the recipient being this bot (`28:<app id>`).
 *
 * Reasons are fixed words, never the token, the body or a claim's value.
 */
const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';
/** Microsoft's documented allowance for clock skew; never more. */
const CLOCK_TOLERANCE_SECONDS = 300;
const MAX_BODY_BYTES = 64 * 1024;
const MAX_TOKEN_CHARS = 8 * 1024;

interface TeamsVerifyDeps {
  /** The bot's Microsoft App ID (Entra application id): the token's audience. */
  appId: string;
  keys: BotFrameworkKeys;
  now?: () => number;
}

interface TeamsRefusal {
  status: 400 | 401 | 503;
  reason: string;
}

const headerValue = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
};

const withoutTrailingSlash = (url: string): string => url.replace(/\/+$/, '');

const refuse = (status: TeamsRefusal['status'], reason: string): TeamsRefusal => ({ status, reason });

const isRefusal = (result: ActionRequest | TeamsRefusal): result is TeamsRefusal => 'status' in result;

const verifyTeamsRequest = async (
  headers: Record<string, string | string[] | undefined>,
  body: string | Buffer,
  deps: TeamsVerifyDeps,
): Promise<ActionRequest | TeamsRefusal> => {
  const now = deps.now ?? Date.now;
  const authorization = headerValue(headers, 'authorization') ?? '';
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(authorization);
  if (match === null || match[1]!.length > MAX_TOKEN_CHARS) return refuse(401, 'no Bot Framework bearer token');
  const token = match[1]!;

  if ((typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength) > MAX_BODY_BYTES) return refuse(401, `activity larger than ${MAX_BODY_BYTES} bytes`);
  // Only the channel is read before the token is verified (the signing key must endorse it):
  // an unauthenticated request is a 401 whatever its body, and its fields are never looked at.
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return refuse(401, 'activity is not JSON');
  }
  const channelId = typeof (raw as { channelId?: unknown } | null)?.channelId === 'string' ? (raw as { channelId: string }).channelId : '';

  let kid: string;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== 'RS256') return refuse(401, 'token is not signed with RS256');
    if (typeof header.kid !== 'string' || header.kid === '') return refuse(401, 'token names no signing key');
    kid = header.kid;
  } catch {
    return refuse(401, 'token header unreadable');
  }

  let jwk;
  try {
    jwk = await deps.keys.find(kid, channelId);
  } catch (error) {
    if (error instanceof BotKeysUnavailableError) return refuse(503, 'Bot Framework signing keys unavailable');
    throw error;
  }
  if (jwk === undefined) return refuse(401, "signing key not in the Bot Framework key set for the activity's channel");

  let payload;
  try {
    const key = await importJWK({ kty: jwk.kty, n: jwk.n, e: jwk.e }, 'RS256');
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['RS256'],
      issuer: BOT_FRAMEWORK_ISSUER,
      audience: deps.appId,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now()),
      requiredClaims: ['exp', 'iss', 'aud'],
    }));
  } catch (error) {
    return refuse(401, tokenReason(error));
  }

  let activity;
  try {
    activity = parseInvokeActivity(raw);
  } catch (error) {
    return refuse(400, error instanceof TeamsActivityError ? error.message : 'activity unreadable');
  }
  if (typeof payload.serviceUrl !== 'string' || withoutTrailingSlash(payload.serviceUrl) !== withoutTrailingSlash(activity.serviceUrl)) {
    return refuse(401, 'token serviceUrl does not match the activity');
  }
  if (activity.recipient.id !== `28:${deps.appId}`) return refuse(401, 'activity is not addressed to this bot');

  try {
    return actionRequestFromInvoke(activity, now());
  } catch (error) {
    return refuse(400, error instanceof TeamsActivityError ? error.message : 'activity unreadable');
  }
};

/** One fixed phrase per way a token fails; jose's own messages may quote claim values. */
const tokenReason = (error: unknown): string => {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'token issuer is not the Bot Framework';
    if (error.claim === 'aud') return 'token audience is not this bot';
    if (error.claim === 'nbf') return 'token not yet valid';
    return `token claim ${['exp', 'iat'].includes(error.claim) ? error.claim : 'check'} failed`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  return 'token invalid';
};

export { verifyTeamsRequest, isRefusal };
export type { TeamsRefusal };
