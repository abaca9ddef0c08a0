import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackRequest } from '../../../shared/actions/slack-verify.ts';

/**
 * Slack's documented example ("Verifying requests from Slack", api.slack.com): this secret,
 * timestamp and body give this signature. If our HMAC input differs by one byte, it fails.
 */
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const NOW = Number(TIMESTAMP) + 10;
const headers = { 'X-Slack-Signature': SIGNATURE, 'X-Slack-Request-Timestamp': TIMESTAMP };

describe('Slack request verification', () => {
  it("accepts Slack's documented test vector", () => {
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(verifySlackRequest(headers, BODY, SECRET, NOW)).toMatchObject({ ok: true, timestamp: Number(TIMESTAMP) });
  });

  it('reads the headers in any case (Function URLs lower-case them)', () => {
    const lower = { 'x-slack-signature': SIGNATURE, 'x-slack-request-timestamp': TIMESTAMP };
    const odd = { 'X-SLACK-SIGNATURE': SIGNATURE, 'x-Slack-Request-Timestamp': TIMESTAMP };
    expect(verifySlackRequest(lower, Buffer.from(BODY), SECRET, NOW).ok).toBe(true);
    expect(verifySlackRequest(odd, BODY, SECRET, NOW).ok).toBe(true);
  });

  it.each([
    ['a wrong secret', headers, BODY, `${SECRET}x`, NOW, 'bad-signature'],
    ['the body changed by one byte', headers, BODY.replace('foobar', 'foobaz'), SECRET, NOW, 'bad-signature'],
    ['one byte more in the body', headers, `${BODY}&`, SECRET, NOW, 'bad-signature'],
    ['the signature changed by one digit', { ...headers, 'X-Slack-Signature': SIGNATURE.replace(/3$/, '4') }, BODY, SECRET, NOW, 'bad-signature'],
    ['a timestamp 5 minutes and 1 second old', headers, BODY, SECRET, Number(TIMESTAMP) + 301, 'stale-timestamp'],
    ['a timestamp from the future', headers, BODY, SECRET, Number(TIMESTAMP) - 301, 'stale-timestamp'],
    ['the timestamp header changed (signature over the old one)', { ...headers, 'X-Slack-Request-Timestamp': String(Number(TIMESTAMP) + 1) }, BODY, SECRET, NOW, 'bad-signature'],
    ['no signature header', { 'X-Slack-Request-Timestamp': TIMESTAMP }, BODY, SECRET, NOW, 'missing-signature'],
    ['no timestamp header', { 'X-Slack-Signature': SIGNATURE }, BODY, SECRET, NOW, 'missing-timestamp'],
    ['a v1 signature', { ...headers, 'X-Slack-Signature': SIGNATURE.replace('v0=', 'v1=') }, BODY, SECRET, NOW, 'malformed-signature'],
    ['an upper-case hex signature', { ...headers, 'X-Slack-Signature': SIGNATURE.toUpperCase().replace('V0=', 'v0=') }, BODY, SECRET, NOW, 'malformed-signature'],
    ['a timestamp that is not a number', { ...headers, 'X-Slack-Request-Timestamp': '1531420618.5' }, BODY, SECRET, NOW, 'malformed-timestamp'],
  ])('refuses %s', (_label, h, body, secret, now, reason) => {
    expect(verifySlackRequest(h as Record<string, string>, body as string, secret as string, now as number)).toEqual({ ok: false, reason });
  });
});
