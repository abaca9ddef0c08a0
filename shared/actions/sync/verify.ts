import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How each service proves a webhook came from it. Every check works on the raw body bytes
 * (re-serialised JSON would not match), compares in constant time, and says only yes or no:
 * the reason a request failed is never told to the sender.
 */

/** A SHA-256 HMAC is 32 bytes: 64 hex characters. */
const HEX_SHA256 = /^[0-9a-f]{64}$/i;
/** More signatures than any rotation needs is not PagerDuty. */
const MAX_SIGNATURES = 8;

const hmacSha256 = (secret: string, body: Buffer): Buffer => createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest();

/** Constant time for a well-formed hex digest; anything else is refused before comparing. */
const hexDigestMatches = (candidate: string, expected: Buffer): boolean =>
  HEX_SHA256.test(candidate) && timingSafeEqual(Buffer.from(candidate, 'hex'), expected);

/**
 * PagerDuty Webhooks v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, one HMAC-SHA256 of the
 * body per active signing secret (several during a rotation). Valid when any `v1` entry
 * matches ours; other versions are skipped, as PagerDuty's algorithm says.
 * https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/04-Signatures.md
 */
const verifyPagerDutySignature = (body: Buffer, header: string | undefined, secret: string): boolean => {
  if (header === undefined || secret === '') return false;
  const entries = header.split(',').map((entry) => entry.trim());
  if (entries.length > MAX_SIGNATURES) return false;
  const expected = hmacSha256(secret, body);
  let matched = false;
  // Every entry is compared (no early exit), so the time does not say which one matched.
  for (const entry of entries) {
    if (!entry.startsWith('v1=')) continue;
    if (hexDigestMatches(entry.slice(3), expected)) matched = true;
  }
  return matched;
};

/**
 * Jira Cloud admin webhooks created with a secret: `X-Hub-Signature: sha256=<hex>` (the WebSub
 * `method=signature` form), HMAC-SHA256 of the body keyed with that secret. Webhooks without a
 * secret, and those registered by apps, carry no signature and are refused.
 * https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks
 */
const verifyHubSignature = (body: Buffer, header: string | undefined, secret: string): boolean => {
  if (header === undefined || secret === '') return false;
  const separator = header.indexOf('=');
  if (separator < 0 || header.slice(0, separator).trim().toLowerCase() !== 'sha256') return false;
  return hexDigestMatches(header.slice(separator + 1).trim(), hmacSha256(secret, body));
};

/**
 * Opsgenie's outgoing webhooks are not signed; the integration can add custom headers, so one
 * carries a shared secret. Both sides are hashed first so the comparison takes the same time
 * whatever the length of the guess. This authenticates the sender, not the body.
 */
const verifySharedSecret = (presented: string | undefined, secret: string): boolean => {
  if (presented === undefined || secret === '') return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(secret));
};

/** Shortest shared secret accepted for Opsgenie, where the secret itself travels in a header. */
const MIN_SHARED_SECRET_LENGTH = 32;

export { verifyPagerDutySignature, verifyHubSignature, verifySharedSecret, MIN_SHARED_SECRET_LENGTH, MAX_SIGNATURES };
