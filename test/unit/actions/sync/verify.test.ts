import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_SIGNATURES, verifyHubSignature, verifyPagerDutySignature, verifySharedSecret } from '../../../../shared/actions/sync/verify.ts';

/**
 * Neither PagerDuty nor Atlassian publishes a test vector (body, secret, signature), so the
 * vectors below were computed outside this code base with OpenSSL:
 *   printf '<body>' | openssl dgst -sha256 -hmac '<secret>'
 * PagerDuty's header format (v1=<hex>, comma-separated during rotation):
 *   https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/04-Signatures.md
 * Jira's (`X-Hub-Signature: sha256=<hex>` on admin webhooks registered with a secret):
 *   https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks
 */
const PD_BODY = Buffer.from('{"event":{"event_type":"incident.resolved"}}', 'utf8');
const PD_SECRET = 'whsec-test-0123456789';
const PD_SIGNATURE = 'aa2775e4dac9c76a0ca9a7302229d7767f01b3c8c0fd5fa6af535dc0117c2d32';
const PD_OLD_SECRET = 'whsec-old-secret-9876543210';
const PD_OLD_SIGNATURE = '9af14b85b2fd54a1beb5bc9dc88738100d624e67e320ec269f89470c3be98fc5';

const JIRA_BODY = Buffer.from('{"webhookEvent":"jira:issue_updated"}', 'utf8');
const JIRA_SECRET = 'jira-webhook-secret-42';
const JIRA_SIGNATURE = '6e10c7a6237f9421b2fde5f22539f5023a09340aff22c65760d6bf903a6d09ba';

/** The body with its byte at `index` changed by one bit. */
const flipped = (body: Buffer, index: number): Buffer => {
  const copy = Buffer.from(body);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
};

describe('verifyPagerDutySignature', () => {
  it('accepts the OpenSSL-computed vector', () => {
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_SIGNATURE}`, PD_SECRET)).toBe(true);
  });

  it('accepts upper-case hex (the same bytes)', () => {
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_SIGNATURE.toUpperCase()}`, PD_SECRET)).toBe(true);
  });

  it('refuses the signature under another secret', () => {
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_SIGNATURE}`, 'whsec-test-0123456788')).toBe(false);
  });

  it.each([0, 10, PD_BODY.length - 1])('refuses the body with byte %i changed', (index) => {
    expect(verifyPagerDutySignature(flipped(PD_BODY, index), `v1=${PD_SIGNATURE}`, PD_SECRET)).toBe(false);
  });

  it('accepts during a rotation when any listed v1 signature is ours, in either position', () => {
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_OLD_SIGNATURE},v1=${PD_SIGNATURE}`, PD_SECRET)).toBe(true);
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_SIGNATURE}, v1=${PD_OLD_SIGNATURE}`, PD_SECRET)).toBe(true);
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_SIGNATURE},v1=${PD_OLD_SIGNATURE}`, PD_OLD_SECRET)).toBe(true);
  });

  it('refuses a rotated list in which no signature is ours', () => {
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_OLD_SIGNATURE}`, PD_SECRET)).toBe(false);
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_OLD_SIGNATURE},v1=${'0'.repeat(64)}`, PD_SECRET)).toBe(false);
  });

  it('refuses a missing or empty header', () => {
    expect(verifyPagerDutySignature(PD_BODY, undefined, PD_SECRET)).toBe(false);
    expect(verifyPagerDutySignature(PD_BODY, '', PD_SECRET)).toBe(false);
  });

  it('only counts v1 entries: the right digest under another version is refused', () => {
    expect(verifyPagerDutySignature(PD_BODY, `v0=${PD_SIGNATURE}`, PD_SECRET)).toBe(false);
    expect(verifyPagerDutySignature(PD_BODY, PD_SIGNATURE, PD_SECRET)).toBe(false);
  });

  it('refuses truncated, padded and non-hex digests', () => {
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_SIGNATURE.slice(0, 63)}`, PD_SECRET)).toBe(false);
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_SIGNATURE}00`, PD_SECRET)).toBe(false);
    expect(verifyPagerDutySignature(PD_BODY, `v1=${PD_SIGNATURE.slice(0, 62)}zz`, PD_SECRET)).toBe(false);
  });

  it(`refuses a header with more than ${MAX_SIGNATURES} signatures, even when one is ours`, () => {
    const padding = Array.from({ length: MAX_SIGNATURES }, () => `v1=${'0'.repeat(64)}`);
    expect(verifyPagerDutySignature(PD_BODY, [...padding.slice(1), `v1=${PD_SIGNATURE}`].join(','), PD_SECRET)).toBe(true);
    expect(verifyPagerDutySignature(PD_BODY, [...padding, `v1=${PD_SIGNATURE}`].join(','), PD_SECRET)).toBe(false);
  });

  it('never accepts with an empty secret, even a signature made with the empty key', () => {
    const emptyKeySignature = createHmac('sha256', '').update(PD_BODY).digest('hex');
    expect(verifyPagerDutySignature(PD_BODY, `v1=${emptyKeySignature}`, '')).toBe(false);
  });
});

describe('verifyHubSignature (Jira)', () => {
  it('accepts the OpenSSL-computed vector', () => {
    expect(verifyHubSignature(JIRA_BODY, `sha256=${JIRA_SIGNATURE}`, JIRA_SECRET)).toBe(true);
  });

  it('never accepts with an empty secret, even a signature made with the empty key', () => {
    expect(verifyHubSignature(JIRA_BODY, `sha256=${createHmac('sha256', '').update(JIRA_BODY).digest('hex')}`, '')).toBe(false);
  });

  it('refuses another secret, a changed byte, and a missing header', () => {
    expect(verifyHubSignature(JIRA_BODY, `sha256=${JIRA_SIGNATURE}`, `${JIRA_SECRET}x`)).toBe(false);
    expect(verifyHubSignature(flipped(JIRA_BODY, 5), `sha256=${JIRA_SIGNATURE}`, JIRA_SECRET)).toBe(false);
    expect(verifyHubSignature(JIRA_BODY, undefined, JIRA_SECRET)).toBe(false);
  });

  it('requires the sha256= method: a bare digest or another method is refused', () => {
    expect(verifyHubSignature(JIRA_BODY, JIRA_SIGNATURE, JIRA_SECRET)).toBe(false);
    expect(verifyHubSignature(JIRA_BODY, `sha1=${JIRA_SIGNATURE}`, JIRA_SECRET)).toBe(false);
    expect(verifyHubSignature(JIRA_BODY, `SHA256=${JIRA_SIGNATURE}`, JIRA_SECRET)).toBe(true);
  });
});

describe('verifySharedSecret (Opsgenie custom header)', () => {
  const SECRET = 'opsgenie-shared-secret-0123456789abcdef';

  it('accepts the exact value only', () => {
    expect(verifySharedSecret(SECRET, SECRET)).toBe(true);
    expect(verifySharedSecret(SECRET.slice(0, -1), SECRET)).toBe(false);
    expect(verifySharedSecret(`${SECRET} `, SECRET)).toBe(false);
    expect(verifySharedSecret(SECRET.toUpperCase(), SECRET)).toBe(false);
  });

  it('refuses a missing header and never matches an empty secret', () => {
    expect(verifySharedSecret(undefined, SECRET)).toBe(false);
    expect(verifySharedSecret('', '')).toBe(false);
  });
});
