import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFaultReceiver } from '../helpers/fault-receiver.ts';

/**
 * The receivers of the `replay --send` fault test, in a process of their own (the replay runs
 * in another, as the CLI): a webhook (the chaos run's fault receiver, which honours
 * Idempotency-Key) and a PagerDuty Events API stand-in that records the order in which it
 * accepted each dedup key's updates. In `faulty` mode about a third of the requests get a
 * fault (503, 429 Retry-After: 1, a reset, a hang), seeded per (target, update, request);
 * updates of findings whose id starts with `doomed-503-` always get 503 from the webhook (the
 * budget runs out) and `doomed-400-` always 400 from both (permanent). In `healthy` mode every request is accepted.
 */
type Mode = 'faulty' | 'healthy';
type Answer = Parameters<typeof startFaultReceiver>[0]['answer'];
type FindingUpdate = Parameters<Answer>[0];
type FaultAnswer = ReturnType<Answer>;

interface Arrival {
  dedupKey: string;
  findingId: string;
  updatedAt: string;
}

interface ReceiverLedgers {
  webhook: { findingId: string; updatedAt: string; accepted: string[]; requests: number; retryAfterViolations: number }[];
  pagerduty: { accepted: Arrival[]; requests: number };
}

type Reply = { type: 'ready'; webhook: string; pagerduty: string } | { type: 'ledgers'; ledgers: ReceiverLedgers };

const { mode, seed } = JSON.parse(process.argv[2] ?? '{}') as { mode: Mode; seed: number };

/** A number in [0, 1) from the seed and the request's identity: the same run answers the same way. */
const uniform = (...parts: (string | number)[]): number =>
  createHash('sha256').update(JSON.stringify([seed, ...parts])).digest().readUInt32BE(0) / 2 ** 32;

const answerFor = (target: string, update: FindingUpdate, index: number): FaultAnswer => {
  if (mode === 'healthy') return { kind: 'ok' };
  if (update.findingId.startsWith('doomed-503-') && target === 'webhook') return { kind: '5xx', status: 503 };
  if (update.findingId.startsWith('doomed-400-')) return { kind: '4xx', status: 400 };
  const roll = uniform(target, update.findingId, update.updatedAt, index);
  if (roll >= 1 / 3) return { kind: 'ok' };
  const faults: FaultAnswer[] = [{ kind: '5xx', status: 503 }, { kind: '429', retryAfterSeconds: 1 }, { kind: 'reset' }, { kind: 'hang' }];
  return faults[Math.floor(roll * 3 * faults.length)]!;
};

const webhook = await startFaultReceiver({ answer: (update, index) => answerFor('webhook', update, index) });

// ── PagerDuty Events API v2 stand-in: 202 success, dedup by key, arrivals in order ──
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const accepted: Arrival[] = [];
const requestsPerUpdate = new Map<string, number>();
let pagerDutyRequests = 0;
const hanging = new Set<ServerResponse>();

const pagerDuty = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    pagerDutyRequests++;
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    let event: { routing_key?: string; dedup_key?: string; payload?: { custom_details?: { finding_id?: string; updated_at?: string } } };
    try {
      event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Event object is not valid JSON'] });
    }
    const details = event.payload?.custom_details;
    if (event.routing_key !== ROUTING_KEY || typeof event.dedup_key !== 'string' || typeof details?.finding_id !== 'string' || typeof details.updated_at !== 'string') {
      return reply(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['missing routing_key, dedup_key or details'] });
    }
    const update = { findingId: details.finding_id, updatedAt: details.updated_at };
    const id = JSON.stringify([update.findingId, update.updatedAt]);
    const index = requestsPerUpdate.get(id) ?? 0;
    requestsPerUpdate.set(id, index + 1);
    const answer = answerFor('pagerduty', update, index);
    switch (answer.kind) {
      case 'ok':
        accepted.push({ dedupKey: event.dedup_key, ...update });
        return reply(202, { status: 'success', message: 'Event processed', dedup_key: event.dedup_key });
      case '429':
        return reply(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' }, { 'retry-after': String(answer.retryAfterSeconds ?? 1) });
      case 'reset':
        return void req.socket.destroy();
      case 'hang':
        hanging.add(res);
        return;
      default:
        return reply(answer.status ?? 503, { status: 'error', message: 'upstream trouble' });
    }
  });
});
await new Promise<void>((resolve) => pagerDuty.listen(0, '127.0.0.1', resolve));

const reply = (message: Reply): void => void process.send?.(message);

process.on('message', async (message: { type: 'ledgers' | 'close' }) => {
  if (message.type === 'ledgers') {
    reply({
      type: 'ledgers',
      ledgers: {
        webhook: webhook.ledger().map((e) => ({ findingId: e.findingId, updatedAt: e.updatedAt, accepted: e.accepted, requests: e.requests, retryAfterViolations: e.retryAfterViolations })),
        pagerduty: { accepted, requests: pagerDutyRequests },
      },
    });
    return;
  }
  await webhook.close();
  pagerDuty.closeAllConnections();
  await new Promise<void>((resolve) => pagerDuty.close(() => resolve()));
  process.disconnect?.();
});
process.on('disconnect', () => process.exit(0));

reply({ type: 'ready', webhook: webhook.origin, pagerduty: `http://127.0.0.1:${(pagerDuty.address() as AddressInfo).port}/v2/enqueue` });

export type { Mode, Reply, ReceiverLedgers };

