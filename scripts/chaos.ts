/**
 * `npm run chaos [-- --findings N] [-- --seed S]`: the delivery guarantees under fire.
 *
 * N findings (cycled from test/events/samples, ids perturbed) go through the REAL path:
 * `ingest` + `route` build one job per (finding, target); an in-memory queue with
 * visibility delays and a receive budget stands in for SQS; each receive runs what the
 * deliver Lambda runs: the job parsed with its schema, `deliver()` wrapped in
 * `idempotentDelivery`, requeue on retryable errors, dead letter with the classified
 * (redacted) reason on permanent ones or after the budget.
 *
 * The targets are webhooks pointing at loopback receivers that honour `Idempotency-Key`
 * and inject faults chosen by a seeded PRNG: 5xx, 429 with Retry-After, resets before
 * and after the body was processed, hangs, slow bodies, payload rejections. The queue
 * adds its own: lost deletes (the message comes back) and duplicate receives.
 *
 * Prints exactly one line on stdout,
 *   chaos: <jobs> jobs, delivered <d>, dead-lettered <l>, lost <x>, duplicates <y>
 * (details on stderr) and exits non-zero unless lost = 0 and duplicates = 0.
 *   lost       a job neither delivered (router success AND accepted by the receiver) nor dead-lettered
 *   duplicate  the same key again after the client was told it succeeded, or one finding
 *              update accepted under two keys — what a receiver that honours the key sees
 *              when the router's own idempotency fails.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { loadAccounts, staticAccountDirectory } from '../shared/accounts.ts';
import type { DeadLetter } from '../shared/aws/queues.ts';
import { parseRoutesConfig } from '../shared/config/load.ts';
import { idempotentDelivery, memoryIdempotencyStore } from '../shared/delivery/idempotency.ts';
import { DeliveryJobSchema, type DeliveryJob } from '../shared/delivery/job.ts';
import { RetryLaterError } from '../shared/delivery/retry.ts';
import { DeliveryError } from '../shared/errors.ts';
import { deliver, ingest, route } from '../shared/pipeline.ts';
import { redactText } from '../shared/redact.ts';
import { localSecretResolver } from '../shared/secrets.ts';
import { memoryFindingState } from '../shared/state/finding-state.ts';
import { createTargets } from '../shared/targets/create.ts';
import { createHttpClient, type FetchLike } from '../shared/targets/http.ts';
import { memoryLedger } from '../shared/targets/ledger.ts';

const ROOT = join(import.meta.dirname, '..');

// ── Faults ───────────────────────────────────────────────────────────────────
const FAULTS = ['5xx', '429', 'reset-before-body', 'reset-after-body', 'hang', 'slow-body', 'slow-body-cut', '4xx'] as const;
type Fault = (typeof FAULTS)[number] | 'ok';
type FaultMix = Partial<Record<(typeof FAULTS)[number], number>>;

/** One receiver per profile; each is a webhook target of the same name. */
const PROFILES: Record<string, FaultMix> = {
  steady: { '5xx': 0.05, '429': 0.04, 'reset-before-body': 0.04, 'reset-after-body': 0.06, hang: 0.02, 'slow-body': 0.04, 'slow-body-cut': 0.02, '4xx': 0.01 },
  flaky: { '5xx': 0.22, '429': 0.08, 'reset-before-body': 0.12, 'reset-after-body': 0.12, hang: 0.05, 'slow-body': 0.02, 'slow-body-cut': 0.04, '4xx': 0.01 },
  throttled: { '5xx': 0.03, '429': 0.3, 'reset-before-body': 0.02, 'reset-after-body': 0.04, hang: 0.01, 'slow-body': 0.02, 'slow-body-cut': 0.01, '4xx': 0.01 },
  slow: { '5xx': 0.03, '429': 0.02, 'reset-before-body': 0.02, 'reset-after-body': 0.04, hang: 0.06, 'slow-body': 0.3, 'slow-body-cut': 0.06, '4xx': 0.01 },
};

/** Part of every target URL: a stand-in for a webhook token that must never reach a dead letter. */
const URL_SECRET = 'chaos-webhook-token-5f3a9c';

/** Deterministic uniform [0, 1) from the seed and a label: faults do not depend on scheduling. */
const uniform = (seed: number, ...parts: (string | number)[]): number =>
  createHash('sha256').update(`${seed}|${parts.join('|')}`).digest().readUInt32BE(0) / 2 ** 32;

const pickFault = (mix: FaultMix, r: number): Fault => {
  let acc = 0;
  for (const fault of FAULTS) {
    acc += mix[fault] ?? 0;
    if (r < acc) return fault;
  }
  return 'ok';
};

// ── Receivers ────────────────────────────────────────────────────────────────
interface KeyState {
  requests: number;
  accepted: boolean;
  /** The client read a complete 2xx answer for this key: any later request with it is a duplicate. */
  confirmed: boolean;
  /** Retry-After given with a 429: a request before this time ignores it. */
  notBefore?: number;
}

interface ReceiverStats {
  requests: number;
  accepted: number;
  /** Repeats of a key accepted earlier whose answer the client never got: deduplicated by the key (the reason it exists). */
  absorbed: number;
  duplicates: number;
  retryAfterViolations: number;
  missingKey: number;
  faults: Record<Fault, number>;
}

const emptyFaults = (): Record<Fault, number> => Object.fromEntries([...FAULTS, 'ok'].map((f) => [f, 0])) as Record<Fault, number>;

const startReceiver = async (name: string, mix: FaultMix, seed: number) => {
  const keys = new Map<string, KeyState>();
  /** finding id + updatedAt → keys accepted for it (more than one is a duplicate under another key). */
  const identities = new Map<string, Set<string>>();
  const stats: ReceiverStats = { requests: 0, accepted: 0, absorbed: 0, duplicates: 0, retryAfterViolations: 0, missingKey: 0, faults: emptyFaults() };
  const timers = new Set<NodeJS.Timeout>();

  const accept = (key: string, state: KeyState, body: string): void => {
    if (state.accepted) {
      if (state.confirmed) stats.duplicates++;
      else stats.absorbed++;
      return; // honoured: processed once, answered again
    }
    state.accepted = true;
    stats.accepted++;
    let identity = `unparsed:${key}`;
    try {
      const finding = (JSON.parse(body) as { finding?: { id?: unknown; updatedAt?: unknown } }).finding;
      identity = `${String(finding?.id)}\n${String(finding?.updatedAt)}`;
    } catch {
      // A body that is not the enriched finding: the key alone identifies it.
    }
    const seen = identities.get(identity) ?? new Set<string>();
    seen.add(key);
    identities.set(identity, seen);
    if (seen.size > 1) stats.duplicates++;
  };

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    stats.requests++;
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') {
      stats.missingKey++;
      res.writeHead(400).end('missing Idempotency-Key');
      return;
    }
    const state = keys.get(key) ?? { requests: 0, accepted: false, confirmed: false };
    keys.set(key, state);
    state.requests++;
    if (state.notBefore !== undefined && Date.now() < state.notBefore - 50) stats.retryAfterViolations++;
    const r = uniform(seed, name, key, state.requests);
    let fault = pickFault(mix, r);
    if (fault === '4xx' && state.accepted) fault = 'ok'; // the application answers a known key with its stored result
    stats.faults[fault]++;
    if (fault === 'reset-before-body') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r2 = uniform(seed, name, key, state.requests, 'detail');
      switch (fault) {
        case '5xx':
          res.writeHead([500, 502, 503, 504][Math.floor(r2 * 4)]!, { 'content-type': 'text/plain' }).end('chaos: upstream trouble');
          return;
        case '429': {
          const seconds = r2 < 0.75 ? 1 : 2;
          state.notBefore = Date.now() + seconds * 1000;
          res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(seconds) }).end('slow down');
          return;
        }
        case 'hang':
          return; // no answer until the client gives up
        case '4xx':
          res.writeHead(r2 < 0.5 ? 400 : 422, { 'content-type': 'application/json' }).end('{"error":"payload rejected by chaos"}');
          return;
        case 'reset-after-body':
          accept(key, state, body);
          req.socket.destroy();
          return;
        case 'slow-body':
        case 'slow-body-cut': {
          accept(key, state, body);
          res.writeHead(200, { 'content-type': 'text/plain' });
          // A short dribble completes well inside the deadline; a cut one outlasts any deadline.
          const pieces = fault === 'slow-body' ? 3 + Math.floor(r2 * 4) : 40;
          const gap = fault === 'slow-body' ? 60 : 200;
          let sent = 0;
          const drip = (): void => {
            if (res.destroyed) return;
            if (sent++ >= pieces) {
              res.end('done\n');
              return;
            }
            res.write('.');
            later(gap, drip);
          };
          drip();
          return;
        }
        default:
          accept(key, state, body);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    origin: `http://127.0.0.1:${port}`,
    keys,
    stats,
    confirm: (key: string) => {
      const state = keys.get(key);
      if (state) state.confirmed = true;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * The real fetch, and a note to the receiver when the client has read a complete 2xx
 * answer: from then on the client knows the delivery succeeded, so another request with
 * that key is a duplicate (before it, a repeat is the retry the key exists to absorb).
 */
const receiptFetch = (receivers: readonly Receiver[]): FetchLike => async (url, init) => {
  const response = await fetch(url, init);
  const key = new Headers(init.headers).get('idempotency-key');
  const receiver = receivers.find((r) => url.startsWith(r.origin));
  const read = response.text.bind(response);
  Object.defineProperty(response, 'text', {
    value: async () => {
      const body = await read();
      if (response.ok && key !== null) receiver?.confirm(key);
      return body;
    },
  });
  return response;
};

// ── The queue (SQS stand-in) ─────────────────────────────────────────────────
interface QueueMessage {
  id: string;
  body: string;
  receiveCount: number;
  version: number;
}

/** Visible messages in order, delayed ones in a min-heap; stale entries are skipped lazily. */
const chaosQueue = () => {
  const live = new Map<string, QueueMessage>();
  const ready: { id: string; version: number }[] = [];
  let readyHead = 0;
  const delayed: { at: number; id: string; version: number }[] = [];
  const push = (entry: { at: number; id: string; version: number }) => {
    delayed.push(entry);
    let i = delayed.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (delayed[parent]!.at <= delayed[i]!.at) break;
      [delayed[parent], delayed[i]] = [delayed[i]!, delayed[parent]!];
      i = parent;
    }
  };
  const pop = () => {
    const top = delayed[0]!;
    const last = delayed.pop()!;
    if (delayed.length > 0) {
      delayed[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < delayed.length && delayed[l]!.at < delayed[m]!.at) m = l;
        if (r < delayed.length && delayed[r]!.at < delayed[m]!.at) m = r;
        if (m === i) break;
        [delayed[m], delayed[i]] = [delayed[i]!, delayed[m]!];
        i = m;
      }
    }
    return top;
  };
  const current = (entry: { id: string; version: number }) => {
    const message = live.get(entry.id);
    return message !== undefined && message.version === entry.version ? message : undefined;
  };
  return {
    send: (id: string, body: string) => {
      live.set(id, { id, body, receiveCount: 0, version: 0 });
      ready.push({ id, version: 0 });
    },
    /** The next visible message, now invisible for `visibilityMs` (ApproximateReceiveCount + 1). */
    receive: (visibilityMs: number): QueueMessage | undefined => {
      const now = Date.now();
      while (delayed.length > 0 && delayed[0]!.at <= now) {
        const entry = pop();
        if (current(entry)) ready.push({ id: entry.id, version: entry.version });
      }
      while (readyHead < ready.length) {
        const message = current(ready[readyHead++]!);
        if (message === undefined) continue;
        if (readyHead > 4096) {
          ready.splice(0, readyHead);
          readyHead = 0;
        }
        message.receiveCount++;
        message.version++;
        push({ at: now + visibilityMs, id: message.id, version: message.version });
        return message;
      }
      return undefined;
    },
    /** SQS at-least-once: the same message handed to a second consumer while the first works on it. */
    redeliverNow: (message: QueueMessage) => ready.push({ id: message.id, version: message.version }),
    changeVisibility: (message: QueueMessage, delayMs: number) => {
      if (!live.has(message.id)) return;
      message.version++;
      push({ at: Date.now() + delayMs, id: message.id, version: message.version });
    },
    delete: (message: QueueMessage) => live.delete(message.id),
    size: () => live.size,
    nextDueIn: () => (delayed.length > 0 ? Math.max(0, delayed[0]!.at - Date.now()) : 50),
  };
};

// ── The run ──────────────────────────────────────────────────────────────────
interface ChaosOptions {
  findings?: number;
  seed?: number;
  /** Time budget of one receive (the Lambda's remaining time less its safety margin). */
  deadlineMs?: number;
  concurrency?: number;
  maxReceives?: number;
  /** Real milliseconds per second of queue backoff (2^receiveCount s); Retry-After is never shortened. */
  queueSecondMs?: number;
  lostDeleteRate?: number;
  duplicateReceiveRate?: number;
  /** false runs without the idempotency layer: the duplicate counter must then catch the repeats. */
  idempotency?: boolean;
  /** Give up (remaining jobs count as lost) after this long. */
  timeoutMs?: number;
}

interface ChaosResult {
  jobs: number;
  delivered: number;
  deadLettered: number;
  lost: number;
  duplicates: number;
  line: string;
  letters: DeadLetter[];
  stats: {
    seed: number;
    findings: number;
    elapsedMs: number;
    receives: number;
    retries: number;
    idempotentSkips: number;
    lostDeletes: number;
    duplicateReceives: number;
    absorbed: number;
    retryAfterViolations: number;
    missingKey: number;
    /** Dead letters whose reason contains the target URL's secret path. */
    leaks: number;
    /** Dead-lettered although the receiver had accepted the delivery (the client never saw the answer). */
    deadLetteredButAccepted: number;
    faults: Record<Fault, number>;
    perTarget: Record<string, ReceiverStats>;
  };
}

const DEFAULTS = {
  findings: 200,
  seed: 20260101,
  deadlineMs: 2_000,
  concurrency: 64,
  maxReceives: 5,
  queueSecondMs: 20,
  lostDeleteRate: 0.03,
  duplicateReceiveRate: 0.03,
  idempotency: true,
} as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const loadSampleEvents = (): Record<string, any>[] => {
  const dir = join(ROOT, 'test/events/samples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
};

const runChaos = async (options: ChaosOptions = {}): Promise<ChaosResult> => {
  const o = { ...DEFAULTS, ...options };
  const timeoutMs = o.timeoutMs ?? 120_000 + o.findings * 60;
  const started = Date.now();
  const receivers = await Promise.all(Object.entries(PROFILES).map(([name, mix]) => startReceiver(name, mix, o.seed)));
  try {
    // Configuration: one webhook per receiver, every finding to every target.
    const routes = [
      'targets:',
      ...receivers.map(
        (r) =>
          `  ${r.name}: { type: webhook, url: "${r.origin}/hooks/${URL_SECRET}", allowPrivateNetwork: true${r.name === 'throttled' ? ', rateLimit: { perSecond: 150, burst: 20 }' : ''} }`,
      ),
      `default: { targets: [${receivers.map((r) => r.name).join(', ')}] }`,
      'routes: []',
    ].join('\n');
    const config = parseRoutesConfig(routes, 'chaos-routes.yml');
    const accounts = staticAccountDirectory(loadAccounts(readFileSync(join(ROOT, 'accounts.example.yml'), 'utf8'), 'accounts.example.yml'));
    const targets = createTargets(config, {
      secrets: localSecretResolver(),
      http: createHttpClient({ fetch: receiptFetch(receivers) }),
      stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
      ledger: memoryLedger(),
    });

    // Stage 1 and 2 for real: ingest + route build the jobs.
    const samples = loadSampleEvents();
    const state = memoryFindingState();
    const queue = chaosQueue();
    const jobs = new Map<string, DeliveryJob>();
    for (let i = 0; i < o.findings; i++) {
      const event = structuredClone(samples[i % samples.length]!);
      event.detail.id = `${String(event.detail.id).slice(0, 64)}-chaos${i.toString(36)}`;
      event.id = `${String(event.id).slice(0, 24)}-${i}`;
      const ingested = await ingest(event, accounts);
      if (ingested.kind !== 'enriched') throw new Error(`sample ${i} did not enrich: ${JSON.stringify(ingested)}`);
      const routed = await route(ingested.enriched, { config, state });
      for (const job of routed.jobs) {
        jobs.set(job.idempotencyKey, job);
        queue.send(job.idempotencyKey, JSON.stringify(job));
      }
    }

    // Stage 3 as the deliver Lambda runs it, one receive at a time.
    const store = memoryIdempotencyStore();
    const delivered = new Set<string>();
    const letters: DeadLetter[] = [];
    const deadLetteredKeys = new Set<string>();
    const counters = { receives: 0, retries: 0, idempotentSkips: 0, lostDeletes: 0, duplicateReceives: 0 };
    const visibilityMs = o.deadlineMs + 1_500;

    const deadLetter = (job: DeliveryJob | undefined, body: string, reason: string): void => {
      letters.push({
        stage: 'deliver',
        reason,
        ...(job ? { target: job.target, findingId: job.enriched.finding.id, idempotencyKey: job.idempotencyKey } : {}),
        payload: job ?? body,
        deadLetteredAt: new Date().toISOString(),
      });
      if (job) deadLetteredKeys.add(job.idempotencyKey);
    };

    const processMessage = async (message: QueueMessage): Promise<void> => {
      counters.receives++;
      if (uniform(o.seed, 'dup', message.id, message.receiveCount) < o.duplicateReceiveRate) {
        counters.duplicateReceives++;
        queue.redeliverNow(message);
      }
      let body: unknown;
      try {
        body = JSON.parse(message.body);
      } catch {
        body = undefined;
      }
      const parsed = z.safeParse(DeliveryJobSchema, body);
      if (!parsed.success) {
        deadLetter(undefined, message.body, `delivery job invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
        queue.delete(message);
        return;
      }
      const job = parsed.data;
      const deadline = Date.now() + o.deadlineMs;
      const context = { getRemainingTimeInMillis: () => Math.max(0, deadline + 1_000 - Date.now()) } as Context;
      const run = (j: DeliveryJob) => deliver(j, targets, { deadline });
      try {
        const deliverOnce = o.idempotency
          ? idempotentDelivery(run, store, context)
          : async (j: DeliveryJob) => ({ ...(await run(j)), duplicate: false });
        const result = await deliverOnce(job);
        if (result.duplicate) counters.idempotentSkips++;
        delivered.add(job.idempotencyKey);
        if (uniform(o.seed, 'lost-delete', message.id, message.receiveCount) < o.lostDeleteRate) {
          counters.lostDeletes++; // the delete never reached the queue: the message comes back
          return;
        }
        queue.delete(message);
      } catch (error) {
        const retryable = !(error instanceof DeliveryError) || error.retryable;
        const reason = redactText(`${(error as Error).name}: ${(error as Error).message}`);
        if (!retryable || message.receiveCount >= o.maxReceives) {
          deadLetter(job, message.body, reason);
          queue.delete(message);
          return;
        }
        const delayMs = error instanceof RetryLaterError ? error.delayMs : 0;
        // deliver.ts: max(Retry-After, 2^receiveCount s); the exponential part runs on the scaled clock.
        queue.changeVisibility(message, Math.max(delayMs, 2 ** message.receiveCount * o.queueSecondMs));
        counters.retries++;
      }
    };

    const giveUpAt = started + timeoutMs;
    const worker = async (): Promise<void> => {
      while (queue.size() > 0 && Date.now() < giveUpAt) {
        const message = queue.receive(visibilityMs);
        if (message === undefined) {
          await sleep(Math.min(25, Math.max(1, queue.nextDueIn())));
          continue;
        }
        await processMessage(message);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));

    // Tally: delivered means the router succeeded AND the receiver holds the delivery.
    let deliveredCount = 0;
    let deadLetteredCount = 0;
    let lost = 0;
    let deadLetteredButAccepted = 0;
    for (const job of jobs.values()) {
      const receiver = receivers.find((r) => r.name === job.target)!;
      const accepted = receiver.keys.get(job.idempotencyKey)?.accepted === true;
      if (delivered.has(job.idempotencyKey) && accepted) deliveredCount++;
      else if (deadLetteredKeys.has(job.idempotencyKey)) {
        deadLetteredCount++;
        if (accepted) deadLetteredButAccepted++;
      } else lost++;
    }
    const duplicates = receivers.reduce((n, r) => n + r.stats.duplicates, 0);
    const faults = emptyFaults();
    for (const r of receivers) for (const f of Object.keys(faults) as Fault[]) faults[f] += r.stats.faults[f];
    const line = `chaos: ${jobs.size} jobs, delivered ${deliveredCount}, dead-lettered ${deadLetteredCount}, lost ${lost}, duplicates ${duplicates}`;
    return {
      jobs: jobs.size,
      delivered: deliveredCount,
      deadLettered: deadLetteredCount,
      lost,
      duplicates,
      line,
      letters,
      stats: {
        seed: o.seed,
        findings: o.findings,
        elapsedMs: Date.now() - started,
        ...counters,
        absorbed: receivers.reduce((n, r) => n + r.stats.absorbed, 0),
        retryAfterViolations: receivers.reduce((n, r) => n + r.stats.retryAfterViolations, 0),
        missingKey: receivers.reduce((n, r) => n + r.stats.missingKey, 0),
        leaks: letters.filter((l) => JSON.stringify(l.reason).includes(URL_SECRET)).length,
        deadLetteredButAccepted,
        faults,
        perTarget: Object.fromEntries(receivers.map((r) => [r.name, r.stats])),
      },
    };
  } finally {
    await Promise.all(receivers.map((r) => r.close()));
  }
};

const describeStats = (result: ChaosResult): string => {
  const s = result.stats;
  const faults = Object.entries(s.faults)
    .filter(([f]) => f !== 'ok')
    .map(([f, n]) => `${f}=${n}`)
    .join(' ');
  return [
    `chaos seed ${s.seed}, ${s.findings} findings, ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `  faults: ${faults}`,
    `  receives=${s.receives} retries=${s.retries} idempotent-skips=${s.idempotentSkips} lost-deletes=${s.lostDeletes} duplicate-receives=${s.duplicateReceives}`,
    `  absorbed-by-key=${s.absorbed} dead-lettered-but-accepted=${s.deadLetteredButAccepted} retry-after-violations=${s.retryAfterViolations} missing-key=${s.missingKey} leaks=${s.leaks}`,
    ...Object.entries(s.perTarget).map(([name, t]) => `  ${name}: requests=${t.requests} accepted=${t.accepted} absorbed=${t.absorbed} duplicates=${t.duplicates}`),
  ].join('\n');
};

const main = async (): Promise<number> => {
  const { values } = parseArgs({
    options: {
      findings: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      'deadline-ms': { type: 'string' },
      'no-idempotency': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run chaos [-- --findings N] [--seed S] [--concurrency C] [--deadline-ms MS] [--no-idempotency] [--quiet]\n',
    );
    return 0;
  }
  const int = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--${name} must be a positive integer, got '${value}'`);
    return Number(value);
  };
  const options: ChaosOptions = { idempotency: !values['no-idempotency'] };
  const set = <K extends keyof ChaosOptions>(key: K, value: ChaosOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('findings', int('findings', values.findings));
  set('seed', int('seed', values.seed));
  set('concurrency', int('concurrency', values.concurrency));
  set('deadlineMs', int('deadline-ms', values['deadline-ms']));
  const result = await runChaos(options);
  if (!values.quiet) process.stderr.write(`${describeStats(result)}\n`);
  process.stdout.write(`${result.line}\n`);
  return result.lost === 0 && result.duplicates === 0 ? 0 : 1;
};

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (error) {
    process.stderr.write(`chaos: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}

export { runChaos, describeStats, PROFILES, URL_SECRET };
export type { ChaosOptions, ChaosResult };
