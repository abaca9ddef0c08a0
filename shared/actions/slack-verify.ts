import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack request signing (api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body)>`
 * with `X-Slack-Request-Timestamp` in seconds. The HMAC is over the exact bytes received, so
 * the body must be verified before it is decoded.
 */
const MAX_SKEW_SECONDS = 5 * 60;
const SIGNATURE = /^v0=[0-9a-f]{64}$/;

type Headers = Readonly<Record<string, string | undefined>>;

/** Why a request was refused; one word each, for the log line (never the header values). */
type RefusalReason = 'missing-signature' | 'missing-timestamp' | 'malformed-signature' | 'malformed-timestamp' | 'stale-timestamp' | 'bad-signature';

type Verification = { ok: true; timestamp: number; signature: string } | { ok: false; reason: RefusalReason };

/** Header lookup by any case: Lambda Function URLs lower-case them, a proxy or a test may not. */
const header = (headers: Headers, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
};

const slackSignature = (secret: string, timestamp: string, body: Buffer | string): string =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;

/**
 * Checks one request. `nowSeconds` is passed in so the check is the same in Lambda, simulate
 * and tests. A request with a future timestamp beyond the skew is refused as well: a clock
 * that far ahead is as untrustworthy as one that far behind.
 */
const verifySlackRequest = (headers: Headers, body: Buffer | string, secret: string, nowSeconds: number): Verification => {
  const signature = header(headers, 'x-slack-signature');
  const timestampText = header(headers, 'x-slack-request-timestamp');
  if (signature === undefined || signature === '') return { ok: false, reason: 'missing-signature' };
  if (timestampText === undefined || timestampText === '') return { ok: false, reason: 'missing-timestamp' };
  if (!SIGNATURE.test(signature)) return { ok: false, reason: 'malformed-signature' };
  if (!/^\d{1,12}$/.test(timestampText)) return { ok: false, reason: 'malformed-timestamp' };
  const timestamp = Number(timestampText);
  if (Math.abs(nowSeconds - timestamp) > MAX_SKEW_SECONDS) return { ok: false, reason: 'stale-timestamp' };
  const expected = Buffer.from(slackSignature(secret, timestampText, body), 'latin1');
  const received = Buffer.from(signature, 'latin1');
  // Same length by the pattern above; timingSafeEqual throws otherwise, so check anyway.
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) return { ok: false, reason: 'bad-signature' };
  return { ok: true, timestamp, signature };
};

export { verifySlackRequest, slackSignature };
