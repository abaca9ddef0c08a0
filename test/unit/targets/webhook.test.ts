import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../../shared/delivery/job.ts';
import type { SecretRef } from '../../../shared/secrets.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { webhookTarget } from '../../../shared/targets/webhook.ts';
import { enrichedFrom, hostileAccount, hostileFinding, loadFinding } from '../../helpers/findings.ts';
import { expectNoLeak, failure, sendFinding, targetContext } from '../../helpers/target-contract.ts';

const SHARED_SECRET = 'whsec-loopback-SHAREDSECRET-8f3a';
const URL_TOKEN = 'URLTOKEN-d41d8cd98f00b204';

// ── A loopback receiver that checks what a careful webhook consumer checks ──

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  signatureValid: boolean;
  key: string | undefined;
  duplicate: boolean;
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface WebhookReceiver {
  url: string;
  received: Received[];
  duplicates: number;
  /** Forces the answer to requests that passed every check. */
  answer: Answer | undefined;
  close(): Promise<void>;
}

/** `sha256=<hex>` over the raw bytes, compared in constant time. */
const signatureMatches = (header: string | undefined, raw: Buffer, secret: string): boolean => {
  if (header === undefined || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

const startReceiver = async (secret: string): Promise<WebhookReceiver> => {
  const seen = new Set<string>();
  const receiver = { received: [], duplicates: 0, answer: undefined } as unknown as WebhookReceiver;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const reply = ({ status, body, headers }: Answer) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    const signatureHeader = req.headers['x-signature-256'];
    const signatureValid = signatureMatches(typeof signatureHeader === 'string' ? signatureHeader : undefined, raw, secret);
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    const duplicate = key !== undefined && seen.has(key);
    receiver.received.push({ path: req.url ?? '', headers: req.headers, raw, signatureValid, key, duplicate });
    if (req.method !== 'POST') return reply({ status: 405, body: '{"error":"method_not_allowed"}' });
    if (req.headers['content-type'] !== 'application/json') return reply({ status: 415, body: '{"error":"unsupported_media_type"}' });
    if (!signatureValid) return reply({ status: 401, body: '{"error":"invalid_signature"}' });
    try {
      JSON.parse(raw.toString('utf8'));
    } catch {
      return reply({ status: 400, body: '{"error":"invalid_json"}' });
    }
    if (key === undefined) return reply({ status: 400, body: '{"error":"missing_idempotency_key"}' });
    // A duplicate is acknowledged (200) and counted, never processed twice.
    if (duplicate) receiver.duplicates++;
    seen.add(key);
    reply(receiver.answer ?? { status: 200, body: JSON.stringify({ accepted: true, duplicate }) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/hooks/guardduty?token=${URL_TOKEN}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
};

const receivers: WebhookReceiver[] = [];
const webhookReceiver = async (secret = SHARED_SECRET): Promise<WebhookReceiver> => {
  const receiver = await startReceiver(secret);
  receivers.push(receiver);
  return receiver;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

// ── The real target ──────────────────────────────────────────────────────────

/** `secret: null` configures no signing secret. */
const makeWebhook = (name: string, url: string | SecretRef, secret: string | null = SHARED_SECRET): Target =>
  webhookTarget.create(
    name,
    { type: 'webhook', url, allowPrivateNetwork: true, ...(secret === null ? {} : { secret: { env: 'WEBHOOK_HMAC' } }) },
    targetContext({ env: secret === null ? {} : { WEBHOOK_HMAC: secret } }),
  );

const sshBruteForce = () =>
  enrichedFrom(loadFinding('targets/ssh-bruteforce.sample.eventbridge.json'), { name: 'security-sandbox', tags: { owner: 'secops' } });

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: webhook', () => {
  describe('request', () => {
    it('POSTs the enriched finding as JSON with a valid HMAC-SHA256 signature of the raw body', async () => {
      // Prepare
      const receiver = await webhookReceiver();
      const target = makeWebhook('oncall', receiver.url);
      const enriched = await enrichedFrom({ ...hostileFinding(), futureField: { x: 1 } }, hostileAccount());

      // Act
      await sendFinding(target, enriched);

      // Assess
      expect(receiver.received).toHaveLength(1);
      const [request] = receiver.received;
      expect(request?.signatureValid).toBe(true);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.raw.toString('utf8')).toBe(target.render(enriched).body);
      expect(JSON.parse(request?.raw.toString('utf8') ?? '')).toEqual(JSON.parse(JSON.stringify(enriched)));
      expect(JSON.parse(request?.raw.toString('utf8') ?? '').finding.futureField).toEqual({ x: 1 });
    });

    it('a receiver holding another secret rejects the signature: 401, permanent', async () => {
      // Prepare
      const receiver = await webhookReceiver('a-different-shared-secret');
      const target = makeWebhook('oncall', receiver.url);

      // Act
      const error = await failure(sendFinding(target, await sshBruteForce()));

      // Assess
      expect(receiver.received[0]?.signatureValid).toBe(false);
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expect(error.message).toContain('invalid_signature');
      expectNoLeak(error, [SHARED_SECRET, URL_TOKEN]);
    });

    it('without a secret configured no signature is sent, and a verifying receiver refuses it', async () => {
      // Prepare
      const receiver = await webhookReceiver();
      const target = makeWebhook('oncall', receiver.url, null);

      // Act
      const error = await failure(sendFinding(target, await sshBruteForce()));

      // Assess
      expect(receiver.received[0]?.headers['x-signature-256']).toBeUndefined();
      expect(error).toMatchObject({ retryable: false, status: 401 });
    });

    it('resolves the URL from a secret reference', async () => {
      // Prepare
      const receiver = await webhookReceiver();
      const target = makeWebhook('oncall', { value: receiver.url });

      // Act
      await sendFinding(target, await sshBruteForce());

      // Assess
      expect(receiver.received.map((request) => request.path)).toEqual([`/hooks/guardduty?token=${URL_TOKEN}`]);
    });
  });

  describe('Idempotency-Key', () => {
    it('the same (finding id, updatedAt, target) sends the same key; the receiver sees a duplicate', async () => {
      // Prepare
      const receiver = await webhookReceiver();
      const target = makeWebhook('oncall', receiver.url);
      const finding = loadFinding('targets/ssh-bruteforce.sample.eventbridge.json');

      // Act
      await sendFinding(target, await enrichedFrom(finding));
      await sendFinding(target, await enrichedFrom(structuredClone(finding), { name: 'renamed-account', tags: {} }));

      // Assess
      const keys = receiver.received.map((request) => request.key);
      expect(keys[0]).toBe(idempotencyKey('oncall', await enrichedFrom(finding)));
      expect(keys[1]).toBe(keys[0]);
      expect(receiver.duplicates).toBe(1);
      expect(receiver.received.map((request) => request.duplicate)).toEqual([false, true]);
    });

    it('a new updatedAt is a new update: a new key, not a duplicate', async () => {
      // Prepare
      const receiver = await webhookReceiver();
      const target = makeWebhook('oncall', receiver.url);
      const finding = loadFinding('targets/ssh-bruteforce.sample.eventbridge.json');

      // Act
      await sendFinding(target, await enrichedFrom(finding));
      await sendFinding(target, await enrichedFrom({ ...finding, updatedAt: '2018-11-08T21:00:00.000Z', service: { ...finding.service, count: 3 } }));

      // Assess
      const [first, second] = receiver.received.map((request) => request.key);
      expect(second).not.toBe(first);
      expect(receiver.duplicates).toBe(0);
    });

    it('another target gets another key for the same update', async () => {
      // Prepare
      const receiver = await webhookReceiver();
      const enriched = await sshBruteForce();

      // Act
      await sendFinding(makeWebhook('oncall', receiver.url), enriched);
      await sendFinding(makeWebhook('ticketing', receiver.url), enriched);

      // Assess
      const [oncall, ticketing] = receiver.received.map((request) => request.key);
      expect(oncall).toBe(idempotencyKey('oncall', enriched));
      expect(ticketing).toBe(idempotencyKey('ticketing', enriched));
      expect(ticketing).not.toBe(oncall);
      expect(receiver.duplicates).toBe(0);
    });

    it('another finding id is another key', async () => {
      // Prepare
      const finding = loadFinding('targets/ssh-bruteforce.sample.eventbridge.json');

      // Act
      const keys = [await enrichedFrom(finding), await enrichedFrom({ ...finding, id: 'a0b37a7d5504bba0ec3493e776a0c54f' })].map((e) =>
        idempotencyKey('oncall', e),
      );

      // Assess
      expect(keys[0]).toMatch(/^[0-9a-f]{64}$/);
      expect(keys[1]).not.toBe(keys[0]);
    });
  });

  describe('status classification', () => {
    it.each([
      { status: 400, retryable: false },
      { status: 404, retryable: false },
      { status: 409, retryable: false },
      { status: 413, retryable: false },
      { status: 422, retryable: false },
      { status: 408, retryable: true },
      { status: 429, retryable: true },
      { status: 500, retryable: true },
      { status: 502, retryable: true },
      { status: 503, retryable: true },
      { status: 504, retryable: true },
    ])('HTTP $status → retryable $retryable', async ({ status, retryable }) => {
      // Prepare
      const receiver = await webhookReceiver();
      receiver.answer = { status, body: JSON.stringify({ error: `status ${status}` }) };
      const target = makeWebhook('oncall', receiver.url);

      // Act
      const error = await failure(sendFinding(target, await sshBruteForce()));

      // Assess
      expect(error).toMatchObject({ retryable, status, target: 'oncall' });
      expect(error.message).toContain(`HTTP ${status}`);
    });

    it('503 with Retry-After as an HTTP date gives the delay', async () => {
      // Prepare
      const receiver = await webhookReceiver();
      const retryAt = new Date(Math.ceil((Date.now() + 60_000) / 1000) * 1000);
      receiver.answer = { status: 503, body: '', headers: { 'retry-after': retryAt.toUTCString() } };
      const target = makeWebhook('oncall', receiver.url);

      // Act
      const error = await failure(sendFinding(target, await sshBruteForce()));

      // Assess
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBeGreaterThan(55_000);
      expect(error.retryAfterMs).toBeLessThanOrEqual(61_000);
    });
  });

  describe('secrets', () => {
    it('a receiver echoing the secret and the URL in its error body: both are redacted', async () => {
      // Prepare
      const receiver = await webhookReceiver();
      receiver.answer = { status: 400, body: `bad request to ${receiver.url} (secret ${SHARED_SECRET}, token=${URL_TOKEN})` };
      const target = makeWebhook('oncall', receiver.url);

      // Act
      const error = await failure(sendFinding(target, await sshBruteForce()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('[REDACTED]');
      expectNoLeak(error, [SHARED_SECRET, URL_TOKEN]);
    });

    it('an error page echoing the request path (Express: "Cannot POST /path") does not leak a token in the path', async () => {
      // Prepare
      const tokenPath = '/hooks/T0KEN-IN-PATH-7c9e2f/guardduty';
      const server = createServer(async (req, res) => {
        for await (const _chunk of req) {
          // Drain the request body.
        }
        res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!DOCTYPE html><html><body><pre>Cannot ${req.method} ${req.url}</pre></body></html>`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${tokenPath}?tenant=${URL_TOKEN}`;

      // Act
      const error = await failure(sendFinding(makeWebhook('oncall', url), await sshBruteForce()));
      server.closeAllConnections();
      server.close();

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 404 });
      expect(error.message).toContain('Cannot POST');
      expectNoLeak(error, ['T0KEN-IN-PATH-7c9e2f', URL_TOKEN, SHARED_SECRET]);
    });

    it('a receiver that never answers: timed out, retryable, no secret', async () => {
      // Prepare
      const server = createServer(() => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const hanging = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/guardduty?token=${URL_TOKEN}`;

      // Act
      const error = await failure(sendFinding(makeWebhook('oncall', hanging), await sshBruteForce(), 300));
      server.closeAllConnections();
      server.close();

      // Assess
      expect(error).toMatchObject({ retryable: true, message: 'request failed: timed out' });
      expectNoLeak(error, [SHARED_SECRET, URL_TOKEN]);
    });

    it('connection refused: retryable, no secret', async () => {
      // Prepare
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const target = makeWebhook('oncall', `http://127.0.0.1:${port}/hooks/guardduty?token=${URL_TOKEN}`);

      // Act
      const error = await failure(sendFinding(target, await sshBruteForce()));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toContain('ECONNREFUSED');
      expectNoLeak(error, [SHARED_SECRET, URL_TOKEN]);
    });

    it('an unset secret reference names the reference, never a value', async () => {
      // Prepare
      const target = webhookTarget.create(
        'oncall',
        { type: 'webhook', url: 'https://hooks.example.com/x', secret: { env: 'MISSING_HMAC' } },
        targetContext(),
      );

      // Act
      const sending = sendFinding(target, await sshBruteForce());

      // Assess
      await expect(sending).rejects.toThrow('secret env:MISSING_HMAC is not set');
    });
  });
});
