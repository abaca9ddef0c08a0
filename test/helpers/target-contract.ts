import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { idempotencyKey } from '../../shared/delivery/job.ts';
import { DeliveryError } from '../../shared/errors.ts';
import { localSecretResolver } from '../../shared/secrets.ts';
import { createHttpClient, type HttpClient } from '../../shared/targets/http.ts';
import { memoryLedger, type Ledger } from '../../shared/targets/ledger.ts';
import type { DeliveryContext, FindingSendJob, Target, TargetContext } from '../../shared/targets/types.ts';
import { copyEnriched } from './findings.ts';
import { listenLoopback } from './receiver-kit.ts';

/**
 * The pieces every target test repeats: the context a target is created with, the delivery
 * context, how a failed send is caught and classified, and the two contracts all HTTP targets
 * share (the status classification table and "no secret in any error").
 */

// ── Context and delivery ─────────────────────────────────────────────────────

/** The TargetContext of a test: secrets from `env`, the real HTTP client, stdout, an in-memory ledger. */
const targetContext = (options: { env?: NodeJS.ProcessEnv; http?: HttpClient; ledger?: Ledger; stdout?: NodeJS.WritableStream } = {}): TargetContext => ({
  secrets: localSecretResolver(options.env ?? {}),
  http: options.http ?? createHttpClient(),
  stdout: options.stdout ?? process.stdout,
  ledger: options.ledger ?? memoryLedger(),
});

/** A delivery context with a fixed idempotency key. */
const delivery = (deadlineMs = 5_000, key = 'key-1'): DeliveryContext => ({ idempotencyKey: key, attempt: 1, deadline: Date.now() + deadlineMs });

/** The delivery context the deliver stage builds: key from (target, finding id, updatedAt). */
const deliveryFor = (target: Target, enriched: EnrichedFinding, deadlineMs = 5_000): DeliveryContext =>
  delivery(deadlineMs, idempotencyKey(target.name, enriched));

/** The job the deliver stage hands a target for `enriched`: its rendered payload, the finding, and the delivery context. */
const findingJob = (target: Target, enriched: EnrichedFinding, context: DeliveryContext = delivery()): FindingSendJob => ({
  payload: target.render(enriched),
  finding: enriched,
  ...context,
});

/** Renders and sends `enriched` the way the deliver stage does. */
const sendFinding = (target: Target, enriched: EnrichedFinding, deadlineMs = 5_000): Promise<void> =>
  target.send(findingJob(target, enriched, deliveryFor(target, enriched, deadlineMs)));

// ── Findings ─────────────────────────────────────────────────────────────────

/** The finding called `name` among `findings` (the representative set), as a fresh copy. */
const pick = (findings: readonly [string, EnrichedFinding][], name: string): EnrichedFinding => {
  const found = findings.find(([candidate]) => candidate === name);
  if (found === undefined) throw new Error(`no representative finding ${name}`);
  return copyEnriched(found[1]);
};

/** The same finding as GuardDuty publishes it again `step` hours later (count and updatedAt move). */
const updated = (enriched: EnrichedFinding, step: number, changes: { archived?: boolean } = {}): EnrichedFinding => {
  const copy = copyEnriched(enriched);
  copy.finding.updatedAt = new Date(Date.parse('2026-11-02T00:00:00Z') + step * 3_600_000).toISOString();
  copy.enrichment.count = enriched.enrichment.count + step;
  if (changes.archived !== undefined) copy.enrichment.archived = changes.archived;
  return copy;
};

// ── Failures ─────────────────────────────────────────────────────────────────

/** The DeliveryError a send fails with (fails the test if it succeeds). */
const failure = async (sending: Promise<void>): Promise<DeliveryError> => {
  const error: unknown = await sending.then(
    () => {
      throw new Error('expected the delivery to fail');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
};

type Outcome = 'delivered' | 'retryable' | 'permanent';

/** No secret in the message, String(), the stack or anything inspect() shows. */
const expectNoLeak = (error: Error, secrets: readonly string[]): void => {
  const everything = [error.message, error.stack ?? '', String(error), inspect(error, { depth: 10, showHidden: true })].join('\n');
  for (const secret of secrets) expect(everything).not.toContain(secret);
};

/** A port nothing listens on: taken by listening on 0, closed right before it is returned. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

/** A loopback server that never answers ('hang') or drops the connection ('reset'); `close` ends it. */
const faultyServer = async (mode: 'hang' | 'reset'): Promise<{ url: string; close: () => Promise<void> }> => {
  const { origin, close } = await listenLoopback(
    createServer((req) => {
      if (mode === 'reset') req.socket.destroy();
    }),
  );
  return { url: origin, close };
};

// ── Status classification ────────────────────────────────────────────────────

/** The statuses every HTTP target is checked with. */
const CLASSIFIED_STATUSES = [200, 201, 202, 204, 301, 400, 401, 403, 404, 408, 409, 413, 429, 500, 502, 503, 504] as const;

/** The shared rule: 2xx delivered; 408, 429 and 5xx retryable; everything else (3xx included) permanent. */
const classifiedAs = (status: number): Outcome => {
  if (status >= 200 && status <= 299) return 'delivered';
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return 'retryable';
  return 'permanent';
};

/** The expected outcome per status: the shared rule, with the target's own exceptions. */
const statusTable = (exceptions: Partial<Record<number, Outcome>> = {}, statuses: readonly number[] = CLASSIFIED_STATUSES): { status: number; expected: Outcome }[] =>
  statuses.map((status) => ({ status, expected: exceptions[status] ?? classifiedAs(status) }));

interface StatusCase {
  /** Starts the sending of one finding to a receiver that answers `status` (the send itself is the Act). */
  prepare: (status: number, expected: Outcome) => Promise<() => Promise<void>>;
  /** Secrets the error (if any) must not contain. */
  secrets?: readonly string[];
  /** Further checks after the outcome is known (receiver requests, ledger). */
  assess?: (status: number, outcome: string) => void | Promise<void>;
}

/** One test per row: HTTP `status` → `expected`, and no secret in the error. */
const itClassifiesStatuses = (table: readonly { status: number; expected: Outcome }[], contract: StatusCase): void => {
  it.each(table)('HTTP $status → $expected', async ({ status, expected }) => {
    // Prepare
    const send = await contract.prepare(status, expected);

    // Act
    const outcome = await send().then(
      () => 'delivered',
      (error: unknown) => {
        expect(error).toBeInstanceOf(DeliveryError);
        expectNoLeak(error as DeliveryError, contract.secrets ?? []);
        return (error as DeliveryError).retryable ? 'retryable' : 'permanent';
      },
    );

    // Assess
    expect(outcome).toBe(expected);
    await contract.assess?.(status, outcome);
  });
};

// ── Secrets through transport failures ───────────────────────────────────────

type Fault = 'timeout' | 'refused' | 'reset' | '4xx' | '5xx';

interface LeakCase {
  /** What is protected, for the test name ("the token"). */
  what: string;
  /** Strings that must appear in no message, String(), stack or inspect() of the error. */
  secrets: readonly string[];
  /** Sends one finding to `origin` (scheme, host and port) within `deadlineMs`. */
  send: (origin: string, deadlineMs: number) => Promise<void>;
  /** The origin of a receiver whose error body at `status` echoes the secrets. */
  echoing: (status: number) => Promise<string>;
  /** The 4xx and 5xx statuses the echoing receiver answers with. */
  statuses: { '4xx': number; '5xx': number };
  /** Whether the echoed secret must show up as [REDACTED] (the target keeps the body in the message). */
  redacted?: boolean;
  /** The message of a timed-out send; 'request failed: timed out' (the shared HTTP client) unless told. */
  timeoutMessage?: string;
  /** Whether a refused connection names ECONNREFUSED in the message (the shared HTTP client does). */
  refusedNamesCode?: boolean;
  /** Runs first in every test's Prepare (environment stubs). */
  before?: () => void;
}

/**
 * Timeout (a server that never answers, 300 ms deadline), connection refused (a port just
 * closed), connection reset, and 4xx / 5xx bodies echoing the secret: each is classified, and
 * the secret appears nowhere in the error.
 */
const itNeverLeaks = (contract: LeakCase): void => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  const origin = async (fault: Fault): Promise<string> => {
    if (fault === 'refused') return `http://127.0.0.1:${await closedPort()}`;
    if (fault === 'timeout' || fault === 'reset') {
      const server = await faultyServer(fault === 'timeout' ? 'hang' : 'reset');
      closers.push(server.close);
      return server.url;
    }
    return contract.echoing(contract.statuses[fault]);
  };
  const expected: Record<Fault, Partial<DeliveryError>> = {
    timeout: { retryable: true, message: contract.timeoutMessage ?? 'request failed: timed out' },
    refused: { retryable: true, status: undefined },
    reset: { retryable: true, status: undefined },
    '4xx': { retryable: false, status: contract.statuses['4xx'] },
    '5xx': { retryable: true, status: contract.statuses['5xx'] },
  };
  it.each(['timeout', 'refused', 'reset', '4xx', '5xx'] as const)(
    `%s: classified, and ${contract.what} appears in no message, String() or stack`,
    async (fault) => {
      // Prepare
      contract.before?.();
      const url = await origin(fault);
      const started = Date.now();

      // Act
      const error = await failure(contract.send(url, fault === 'timeout' ? 300 : 5_000));

      // Assess
      expect(error).toMatchObject(expected[fault]);
      if (fault === 'timeout') expect(Date.now() - started).toBeLessThan(2_000);
      if (fault === 'refused' && contract.refusedNamesCode !== false) expect(error.message).toContain('ECONNREFUSED');
      if ((fault === '4xx' || fault === '5xx') && contract.redacted === true) expect(error.message).toContain('[REDACTED]');
      expectNoLeak(error, contract.secrets);
    },
  );
};

// ── Secrets echoed across a cut ──────────────────────────────────────────────

/** Pieces of this length or longer of a secret must never show (the redaction's MIN_FRAGMENT). */
const FRAGMENT = 8;

/** The forms a receiver may echo a secret in: raw, URL-encoded, base64, and inside a Basic `user:pass`. */
const echoForms = (token: string): [string, string][] => [
  ['raw', token],
  ['URL-encoded', encodeURIComponent(token)],
  ['base64', Buffer.from(token, 'utf8').toString('base64')],
  ['Basic user:pass', Buffer.from(`u:${token}`, 'utf8').toString('base64')],
];

/**
 * Texts that put `form` across every error-snippet cut (100, 200 and 300 characters, wherever a
 * target's wrapper shifts them): the form repeated, after pads of several lengths.
 */
const acrossCuts = (form: string): string[] =>
  [0, 3, 7, 12].map((pad) => `${'x'.repeat(pad)}${`${form} `.repeat(Math.ceil(420 / (form.length + 1)))}`);

/** Every FRAGMENT-character piece of `secret` that shows in the error's message, String(), stack or inspect(). */
const leakedPieces = (error: Error, secret: string): string[] => {
  const everything = [error.message, error.stack ?? '', String(error), inspect(error, { depth: 10, showHidden: true })].join('\n');
  const pieces = Array.from({ length: Math.max(0, secret.length - FRAGMENT + 1) }, (_, i) => secret.slice(i, i + FRAGMENT));
  return pieces.filter((piece) => everything.includes(piece));
};

interface EchoCase {
  /** What is protected, for the test name. */
  what: string;
  /** The secret values; no piece of FRAGMENT characters of any of their echoed forms may show. */
  tokens: readonly string[];
  /** Statuses the receiver echoes with: error statuses, or a 2xx whose body the target reads. */
  statuses: readonly number[];
  /** Makes the receiver answer `status` with `text` where this target's receiver puts its message. */
  echoing: (status: number, text: string) => Promise<void> | void;
  /** Sends one finding; it must fail. */
  send: () => Promise<void>;
}

/**
 * For each status and each form of each secret: a receiver echoes the form across every cut,
 * the send fails with a DeliveryError, and no piece of the form shows anywhere in it.
 */
const itMasksEchoesAcrossCuts = (contract: EchoCase): void => {
  const cases = contract.statuses.flatMap((status) => echoForms('').map(([form]) => ({ status, form })));
  it.each(cases)(`HTTP $status echoing $form ${contract.what} across the cut: no piece of ${FRAGMENT}+ characters in the error`, async ({ status, form }) => {
    // Prepare
    const echoes = contract.tokens.map((token) => echoForms(token).find(([name]) => name === form)![1]);
    const leaks: string[] = [];
    const messages: string[] = [];

    // Act
    for (const echo of echoes) {
      for (const text of acrossCuts(echo)) {
        await contract.echoing(status, text);
        const error = await failure(contract.send());
        messages.push(error.message);
        leaks.push(...leakedPieces(error, echo));
      }
    }

    // Assess: the echo reached each message (masked), and no piece of it shows
    expect(messages.filter((message) => !message.includes('[REDACTED]'))).toEqual([]);
    expect(leaks).toEqual([]);
  });
};

export {
  CLASSIFIED_STATUSES,
  closedPort,
  delivery,
  deliveryFor,
  expectNoLeak,
  failure,
  findingJob,
  itClassifiesStatuses,
  itMasksEchoesAcrossCuts,
  itNeverLeaks,
  leakedPieces,
  pick,
  sendFinding,
  statusTable,
  targetContext,
  updated,
};
