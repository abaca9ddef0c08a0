import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver that honours `Idempotency-Key` (a key it has processed is answered
 * again, never processed twice) and answers each request as `answer` says: 2xx (at once or
 * dribbled), 5xx, 429 with Retry-After, 4xx, a reset before or after processing the body, a
 * hang, or a 2xx whose body never ends. It keeps a ledger per finding update (finding id +
 * updatedAt from the JSON body) that a chaos run reconciles against what it expected.
 */
type FaultKind = 'ok' | 'slow-ok' | '5xx' | '429' | '4xx' | 'down' | 'reset' | 'reset-after-accept' | 'hang' | 'cut-body';

interface FaultAnswer {
  kind: FaultKind;
  status?: number;
  retryAfterSeconds?: number;
}

interface FindingUpdate {
  findingId: string;
  updatedAt: string;
}

interface LedgerEntry extends FindingUpdate {
  requests: number;
  /** Distinct idempotency keys seen for this update. */
  keys: string[];
  /** Keys processed (accepted); a repeat of one is answered without processing. */
  accepted: string[];
  /** Repeats of a processed key (the retries the key exists to absorb). */
  absorbed: number;
  /** Requests for a key the router had already reported done, whose answer was completely sent. */
  afterDone: number;
  /** Requests earlier than the Retry-After this receiver asked for. */
  retryAfterViolations: number;
  answers: Partial<Record<FaultKind, number>>;
}

interface FaultReceiverOptions {
  /** The answer to the request with this index (0-based) for one finding update. */
  answer: (update: FindingUpdate, requestIndex: number) => FaultAnswer;
  /** The receiver's clock (a chaos run moves its queue clock forward; Retry-After is judged on it). */
  now?: () => number;
}

/** Requests that are not a webhook delivery: no key, a body that is not an enriched finding. */
interface Malformed {
  count: number;
  last?: string;
}

const MAX_BODY_BYTES = 1024 * 1024;
/** Timer slack: a retry this much before Retry-After is still on time. */
const RETRY_AFTER_SLACK_MS = 50;
/** A body that never ends is still bounded: the client gave up long before. */
const CUT_BODY_LIMIT_MS = 120_000;

const startFaultReceiver = async (options: FaultReceiverOptions) => {
  const now = options.now ?? Date.now;
  const ledger = new Map<string, LedgerEntry>();
  const notBefore = new Map<string, number>();
  const doneKeys = new Set<string>();
  const malformed: Malformed = { count: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const reject = (res: ServerResponse, why: string): void => {
    malformed.count++;
    malformed.last = why;
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`fault receiver: ${why}`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const key = req.headers['idempotency-key'];
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (typeof key !== 'string' || key === '') return reject(res, 'missing Idempotency-Key');
      const update = findingUpdateOf(Buffer.concat(chunks).toString('utf8'));
      if (update === undefined) return reject(res, 'body is not an enriched finding with id and updatedAt');
      const id = JSON.stringify([update.findingId, update.updatedAt]);
      const entry = ledger.get(id) ?? { ...update, requests: 0, keys: [], accepted: [], absorbed: 0, afterDone: 0, retryAfterViolations: 0, answers: {} };
      ledger.set(id, entry);
      const index = entry.requests++;
      if (!entry.keys.includes(key)) entry.keys.push(key);
      const wait = notBefore.get(id);
      if (wait !== undefined && now() < wait - RETRY_AFTER_SLACK_MS) entry.retryAfterViolations++;
      notBefore.delete(id);
      if (doneKeys.has(key)) res.on('finish', () => entry.afterDone++);
      const answer = options.answer(update, index);
      entry.answers[answer.kind] = (entry.answers[answer.kind] ?? 0) + 1;
      const accept = (): void => {
        if (entry.accepted.includes(key)) entry.absorbed++;
        else entry.accepted.push(key);
      };
      // Error bodies echo the request path, as many servers do: the router must redact it.
      const text = (status: number, body: string, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(`${body} (POST ${req.url})`);
      switch (answer.kind) {
        case 'ok':
          accept();
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          return;
        case 'slow-ok':
        case 'cut-body': {
          accept();
          res.writeHead(200, { 'content-type': 'text/plain' });
          const started = Date.now();
          let pieces = answer.kind === 'slow-ok' ? 4 : Number.POSITIVE_INFINITY;
          const drip = (): void => {
            if (res.destroyed) return;
            if (pieces-- <= 0) return void res.end('done\n');
            if (Date.now() - started > CUT_BODY_LIMIT_MS) return void res.destroy();
            res.write('.');
            later(answer.kind === 'slow-ok' ? 40 : 200, drip);
          };
          drip();
          return;
        }
        case '5xx':
          text(answer.status ?? 503, 'upstream trouble');
          return;
        case 'down':
          text(503, 'down for maintenance');
          return;
        case '429': {
          const seconds = answer.retryAfterSeconds ?? 1;
          notBefore.set(id, now() + seconds * 1000);
          text(429, 'slow down', { 'retry-after': String(seconds) });
          return;
        }
        case '4xx':
          text(answer.status ?? 400, 'payload rejected');
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'reset-after-accept':
          accept();
          req.socket.destroy();
          return;
        case 'hang':
          return; // no answer: the client's deadline ends it
      }
    });
  };

  const server = createServer(handle);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    /** The router reported these keys done (delivered or dead-lettered): any later request is a duplicate send. */
    markDone: (keys: readonly string[]) => {
      for (const key of keys) doneKeys.add(key);
    },
    ledger: (): LedgerEntry[] => [...ledger.values()],
    malformed: (): Malformed => ({ ...malformed }),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const findingUpdateOf = (body: string): FindingUpdate | undefined => {
  try {
    const finding = (JSON.parse(body) as { finding?: { id?: unknown; updatedAt?: unknown } } | null)?.finding;
    if (typeof finding?.id !== 'string') return undefined;
    if (typeof finding.updatedAt !== 'string' && typeof finding.updatedAt !== 'number') return undefined;
    return { findingId: finding.id, updatedAt: String(finding.updatedAt) };
  } catch {
    return undefined;
  }
};

type FaultReceiver = Awaited<ReturnType<typeof startFaultReceiver>>;

export { startFaultReceiver };
export type { FaultReceiver, LedgerEntry, Malformed };
