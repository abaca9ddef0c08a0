import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { DeliveryError, DestinationRefusedError } from '../../../shared/errors.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { checkDestination, createHttpClient, isPrivateAddress, parseRetryAfter } from '../../../shared/targets/http.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { webhookTarget } from '../../../shared/targets/webhook.ts';
import { enrichedFrom, loadFinding } from '../../helpers/findings.ts';
import { findingJob } from '../../helpers/target-contract.ts';

/**
 * Every final status a loopback server can send, through the real webhook target and the
 * shared client: 2xx delivered; 408, 429 and 5xx retryable; everything else permanent,
 * 3xx included (redirects are never followed).
 *
 * 1xx cannot be a final status: Node's server writes the status line, but the client
 * (undici) takes 102–199 as interim and keeps waiting, refuses a 101 it did not ask for
 * and an unsolicited 100. Those are covered as "interim, then final" and "interim only".
 */

/** No body allowed with these (RFC 9110); Node would refuse to write one. */
const NULL_BODY = new Set([204, 205, 304]);

let server: Server;
let origin: string;
const redirectFollowed: string[] = [];
let enriched: EnrichedFinding;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    for await (const _chunk of req) {
      // Drain the request body.
    }
    const path = new URL(req.url ?? '/', 'http://loopback').pathname;
    if (path === '/landing') {
      redirectFollowed.push(req.method ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('you followed a redirect');
      return;
    }
    const interim = /^\/interim\/(\d{3})\/then\/(\d{3})$/.exec(path);
    if (interim) {
      if (interim[1] === '102') res.writeProcessing();
      if (interim[1] === '103') res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(Number(interim[2]), { 'content-type': 'text/plain' });
      res.end('final');
      return;
    }
    const only = /^\/interim-only\/(\d{3})$/.exec(path);
    if (only) {
      // The status line of a 1xx and nothing after it.
      res.writeHead(Number(only[1]));
      res.end();
      return;
    }
    const status = Number(/^\/status\/(\d{3})$/.exec(path)?.[1] ?? 404);
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (status >= 300 && status < 400) headers.location = `${origin}/landing`;
    res.writeHead(status, headers);
    res.end(NULL_BODY.has(status) ? undefined : `answer ${status}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  enriched = await enrichedFrom(loadFinding('targets/ssh-bruteforce.sample.eventbridge.json'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const webhookTo = (path: string): Target =>
  webhookTarget.create(
    'table',
    { type: 'webhook', url: `${origin}${path}`, allowPrivateNetwork: true },
    { secrets: localSecretResolver({}), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() },
  );

/** Resolves with undefined when delivered, or with the DeliveryError; anything else fails the test. */
const outcome = async (path: string, deadlineMs = 5_000): Promise<DeliveryError | undefined> => {
  const target = webhookTo(path);
  try {
    await target.send(findingJob(target, enriched, { idempotencyKey: 'k', attempt: 1, deadline: Date.now() + deadlineMs }));
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(DeliveryError);
    return error as DeliveryError;
  }
};

const expected = (status: number): 'delivered' | 'retryable' | 'permanent' => {
  if (status >= 200 && status <= 299) return 'delivered';
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return 'retryable';
  return 'permanent';
};

/** 407 is asserted on its own below: fetch never hands it to the classifier. */
const FINAL_STATUSES = Array.from({ length: 400 }, (_, i) => 200 + i).filter((status) => status !== 407);

describe('Target: webhook — HTTP status table (shared client)', () => {
  it.each(FINAL_STATUSES.map((status) => ({ status, want: expected(status) })))('HTTP $status → $want', async ({ status, want }) => {
    // Prepare
    const path = `/status/${status}`;

    // Act
    const error = await outcome(path);

    // Assess
    if (want === 'delivered') {
      expect(error).toBeUndefined();
      return;
    }
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).not.toBeInstanceOf(DestinationRefusedError);
    expect(error).toMatchObject({ status, retryable: want === 'retryable', target: 'table' });
    expect(error?.message).toMatch(status >= 300 && status < 400 ? `HTTP ${status} redirect refused` : `HTTP ${status} rejected`);
    expect(redirectFollowed, 'a Location header is never followed').toEqual([]);
  });

  // The Fetch standard (HTTP-network-or-cache fetch) turns a 407 into a network error when
  // there is no window to ask for proxy credentials; undici follows it. The client only sees
  // "fetch failed" with an empty cause, so a 407 is retried like a dropped connection
  // instead of failing permanently like the other 4xx.
  it('HTTP 407 → a network error (fetch standard), retried like a connection failure', async () => {
    // Prepare
    const path = '/status/407';

    // Act
    const error = await outcome(path);

    // Assess
    expect(error).toMatchObject({ retryable: true, status: undefined, target: 'table' });
    expect(error?.message).toMatch(/^request failed: /);
  });

  it.each([
    { interim: 102, final: 200 },
    { interim: 103, final: 202 },
    { interim: 103, final: 503 },
  ])('interim $interim then final $final: the final status decides', async ({ interim, final }) => {
    // Prepare
    const path = `/interim/${interim}/then/${final}`;

    // Act
    const error = await outcome(path);

    // Assess
    if (expected(final) === 'delivered') expect(error).toBeUndefined();
    else expect(error).toMatchObject({ status: final, retryable: true });
  });

  it.concurrent.each([100, 101, 102, 103, 150, 199])('a bare %i with no final status is a retryable failure', async (status) => {
    // Prepare
    const path = `/interim-only/${status}`;

    // Act
    const error = await outcome(path, 300);

    // Assess
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error?.message).toMatch(/^request failed: /);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it.each([
    { value: '3', ms: 3_000 },
    { value: ' 120 ', ms: 120_000 },
    { value: '0', ms: 0 },
    { value: 'Wed, 21 Oct 2015 07:28:05 GMT', ms: 5_000 },
    { value: 'Wednesday, 21-Oct-15 07:29:00 GMT', ms: 60_000 },
    { value: 'Wed Oct 21 07:28:30 2015', ms: 30_000 },
    { value: 'Wed, 21 Oct 2015 07:00:00 GMT', ms: 0 },
  ])('$value → $ms ms', ({ value, ms }) => {
    // Prepare
    const header = value;

    // Act
    const delay = parseRetryAfter(header, now);

    // Assess
    expect(delay).toBe(ms);
  });

  it('an asctime date is GMT whatever the local time zone', () => {
    // Prepare
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';

    // Act
    let delay: number | undefined;
    try {
      delay = parseRetryAfter('Wed Oct 21 07:28:30 2015', now);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }

    // Assess
    expect(delay).toBe(30_000);
  });

  it.each([null, '', 'soon', '3 seconds', '-1', '1.5', 'abc 12', '0x10', 'Wed, 21 Oct 2015'])('%j → undefined', (value) => {
    // Prepare
    const header = value;

    // Act
    const delay = parseRetryAfter(header, now);

    // Assess
    expect(delay).toBeUndefined();
  });
});

describe('isPrivateAddress', () => {
  it.each([
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.1',
    '127.0.0.1',
    '127.8.9.10',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'febf::1',
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    '::ffff:a00:1',
    '::ffff:7f00:1',
    '::FFFF:A9FE:A9FE',
  ])('%s is private, loopback or link-local', (address) => {
    // Prepare
    const candidate = address;

    // Act
    const isPrivate = isPrivateAddress(candidate);

    // Assess
    expect(isPrivate).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '192.169.0.1', '100.63.255.255', '100.128.0.1', '2001:4860::8888', '2606:4700::1111', '::ffff:8.8.8.8', '::ffff:808:808'])(
    '%s is public',
    (address) => {
      // Prepare
      const candidate = address;

      // Act
      const isPrivate = isPrivateAddress(candidate);

      // Assess
      expect(isPrivate).toBe(false);
    },
  );
});

describe('checkDestination', () => {
  it.each([
    'https://127.0.0.1/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:10.0.0.1]/hook',
    'https://2130706433/hook',
    'https://0x7f.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'http://example.com/hook',
    'ftp://example.com/hook',
    'not a url',
  ])('refuses %s without allowPrivateNetwork', async (url) => {
    // Prepare
    const request = { target: 't', url, deadline: Date.now() + 1_000 };

    // Act
    const checking = checkDestination(request);

    // Assess
    await expect(checking).rejects.toBeInstanceOf(DestinationRefusedError);
    await expect(checking).rejects.toMatchObject({ retryable: false });
  });

  it('allows loopback and plain http with allowPrivateNetwork, never another scheme', async () => {
    // Prepare
    const base = { target: 't', deadline: Date.now() + 1_000, allowPrivateNetwork: true };

    // Act
    const loopback = checkDestination({ ...base, url: 'http://127.0.0.1:1/hook' });
    const file = checkDestination({ ...base, url: 'file:///etc/passwd' });

    // Assess
    await expect(loopback).resolves.toBeUndefined();
    await expect(file).rejects.toBeInstanceOf(DestinationRefusedError);
  });
});
