import { parseArgs } from 'node:util';
import type { DeadLetterQueue } from '../aws/dead-letter-queue.ts';
import * as z from 'zod/mini';
import { EnrichedFindingSchema } from '../../schemas/enriched.ts';
import {
  ENRICHED_DETAIL_TYPE,
  ENRICHED_SOURCE,
  EventBridgeEnvelopeSchema,
  GUARDDUTY_FINDING_DETAIL_TYPE,
  GUARDDUTY_SOURCE,
} from '../../schemas/envelope.ts';
import type { DeadLetter } from '../aws/queues.ts';
import { DeliveryJobSchema } from '../delivery/job.ts';
import { REDACTED, redactText } from '../redact.ts';
import { validateEvent } from '../validate.ts';
import { describeFailure } from './failure.ts';

/**
 * `dlq list|show|redrive|export`: the dead-letter queue (failed deliveries) and the
 * quarantine queue (events that failed validation) as an operator sees them.
 *
 * Reading never consumes: letters are received hidden for a short while (so a long queue
 * can be paged, ten at a time) and made visible again at once when the command ends.
 * Everything printed is redacted. `redrive` sends each selected letter's payload back to
 * where it came from and deletes the letter only after the send succeeded.
 */
type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

const USAGE = `Usage: findings-router dlq <list|show|redrive|export> [options]

  list                    a table of letters: message id, age, stage, target, finding id, reason
  show MESSAGE_ID...      one letter in full (JSON, redacted)
  redrive                 send letters back (--target T or --all; --dry-run to see the plan)
  export                  every letter as one JSON line on stdout (replay accepts the file)

Queue (one of):
  --queue-url URL         the queue to read
  --queue NAME            delivery (env DELIVERY_DLQ_URL, the default) or quarantine (env QUARANTINE_QUEUE_URL)
Options:
  --region REGION         AWS region (default: the SDK's, e.g. AWS_REGION)
  --max N                 look at no more than N letters (default 1000)
  --json                  list: one JSON object per letter instead of the table
Redrive:
  --target T | --all      which letters: those for target T, or every letter
  --to-queue-url URL      delivery jobs go to this queue (default: env DELIVERY_QUEUE_URL)
  --to-bus                events go back to EventBridge: GuardDuty findings to the default bus,
                          enriched findings to the router's bus (--event-bus, or env EVENT_BUS_NAME)
  --event-bus NAME        the router's bus, for enriched findings
  --dry-run               print what would be sent; send and delete nothing
`;

const OPTIONS = {
  'queue-url': { type: 'string' },
  queue: { type: 'string' },
  region: { type: 'string' },
  max: { type: 'string' },
  json: { type: 'boolean', default: false },
  target: { type: 'string' },
  all: { type: 'boolean', default: false },
  'to-queue-url': { type: 'string' },
  'to-bus': { type: 'boolean', default: false },
  'event-bus': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parse>['values'];
const parse = (argv: string[]) => parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });

class UsageError extends Error {}

/** Seconds a letter stays hidden while a command pages through the queue (restored at the end). */
const PEEK_SECONDS = 30;
/** Longer for redrive: another operator's redrive must not pick the same letter meanwhile. */
const REDRIVE_SECONDS = 120;
const DEFAULT_MAX = 1000;
const REASON_WIDTH = 72;

// ── Reading the queue ────────────────────────────────────────────────────────
interface Received {
  messageId: string;
  receiptHandle: string;
  body: string;
  sentAt?: number;
  receiveCount?: number;
  /** The parsed letter; undefined when the body is not one the router wrote. */
  letter?: DeadLetter;
}

const LetterShape = z.looseObject({
  reason: z.string(),
  stage: z.enum(['enrich', 'route', 'deliver']),
  target: z.optional(z.string()),
  findingId: z.optional(z.string()),
  idempotencyKey: z.optional(z.string()),
  payload: z.unknown(),
  deadLetteredAt: z.string(),
});

const parseLetter = (body: string): DeadLetter | undefined => {
  try {
    const parsed = z.safeParse(LetterShape, JSON.parse(body));
    return parsed.success ? (parsed.data as DeadLetter) : undefined;
  } catch {
    return undefined; // not JSON, or too deep to parse: shown raw
  }
};

const queueOf = async (values: Values): Promise<DeadLetterQueue> => (await import('../aws/dead-letter-queue.ts')).deadLetterQueue(values.region);

const queueUrlOf = (values: Values): string => {
  if (values['queue-url']) return values['queue-url'];
  const which = values.queue ?? 'delivery';
  const env = which === 'delivery' ? 'DELIVERY_DLQ_URL' : which === 'quarantine' ? 'QUARANTINE_QUEUE_URL' : undefined;
  if (env === undefined) throw new UsageError(`--queue must be delivery or quarantine, got '${which}'`);
  const url = process.env[env];
  if (!url) throw new UsageError(`no queue: pass --queue-url URL, or set ${env} for --queue ${which}`);
  return url;
};

const maxOf = (values: Values): number => {
  if (values.max === undefined) return DEFAULT_MAX;
  if (!/^\d+$/.test(values.max) || Number(values.max) < 1) throw new UsageError(`--max must be a positive integer, got '${values.max}'`);
  return Number(values.max);
};

/** Receives up to `max` letters, each hidden for `hideSeconds`; stops at the first empty long poll. */
const receiveLetters = async (
  queue: DeadLetterQueue,
  queueUrl: string,
  max: number,
  hideSeconds: number,
): Promise<{ letters: Received[]; spare: Received[] }> => {
  const out: Received[] = [];
  const spare: Received[] = [];
  const seen = new Set<string>();
  while (out.length < max) {
    const messages = await queue.receive(queueUrl, max - out.length, hideSeconds);
    if (messages.length === 0) break;
    for (const message of messages) {
      const received: Received = { ...message };
      const letter = parseLetter(received.body);
      if (letter) received.letter = letter;
      if (seen.has(received.messageId)) {
        // SQS may hand the same message out twice: one copy is shown, both handles are restored.
        spare.push(received);
        continue;
      }
      seen.add(received.messageId);
      out.push(received);
    }
  }
  return { letters: out, spare };
};

/** Makes letters visible again at once (best effort: they reappear after the hide time anyway). */
const restoreVisibility = async (queue: DeadLetterQueue, queueUrl: string, letters: readonly Received[], io: Io): Promise<void> => {
  for (let i = 0; i < letters.length; i += 10) {
    const batch = letters.slice(i, i + 10);
    try {
      const failed = await queue.showAgain(queueUrl, batch.map((letter) => letter.receiptHandle), i);
      if (failed > 0) {
        io.stderr.write(`dlq: ${failed} letter(s) stay hidden until their visibility timeout ends\n`);
      }
    } catch (error) {
      io.stderr.write(`dlq: could not make ${batch.length} letter(s) visible again (${safeText((error as Error).message)}); they reappear within ${PEEK_SECONDS} s\n`);
    }
  }
};

/** Receive, act, and always make the letters not deleted visible again. */
const withLetters = async <T>(
  values: Values,
  io: Io,
  hideSeconds: number,
  act: (letters: Received[], queue: DeadLetterQueue, queueUrl: string) => Promise<{ result: T; deleted?: ReadonlySet<string> }>,
): Promise<T> => {
  const queueUrl = queueUrlOf(values);
  const max = maxOf(values);
  const queue = await queueOf(values);
  const { letters, spare } = await receiveLetters(queue, queueUrl, max, hideSeconds);
  let deleted: ReadonlySet<string> = new Set();
  try {
    const outcome = await act(letters, queue, queueUrl);
    deleted = outcome.deleted ?? deleted;
    return outcome.result;
  } finally {
    await restoreVisibility(queue, queueUrl, [...letters, ...spare].filter((l) => !deleted.has(l.messageId)), io);
  }
};

// ── Presentation (always redacted, never a raw control character) ───────────
const SECRET_KEY = /^(authorization|x-api-key|api[-_]?key|token|access[-_]?token|password|secret|signature|x-signature-256)$/i;

/** Terminal-safe single line: control characters, C1, bidi overrides and line separators become spaces. */
const safeText = (text: string): string => redactText(text).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, ' ');

/** Redacts every string in a parsed letter (and values under secret-looking keys), without recursion. */
const redactJson = (value: unknown): unknown => {
  const box: Record<string, unknown> = { value };
  const stack: object[] = [box];
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown>;
    for (const key of Object.keys(node)) {
      const child = node[key];
      let next: unknown = child;
      if (SECRET_KEY.test(key) && child !== null && typeof child !== 'object') next = REDACTED;
      else if (typeof child === 'string') next = redactText(child);
      else if (child !== null && typeof child === 'object') stack.push(child);
      // defineProperty: a `__proto__` key stays an own property instead of setting the prototype
      if (next !== child) Object.defineProperty(node, key, { value: next, writable: true, enumerable: true, configurable: true });
    }
  }
  return box.value;
};

/** JSON that a terminal cannot misread: C1 controls, bidi overrides and line separators escaped. */
const safeJson = (value: unknown, indent?: number): string =>
  JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const letterJson = (received: Received, indent?: number): string => {
  if (received.letter) return safeJson(redactJson(received.letter), indent);
  try {
    return safeJson(redactJson(JSON.parse(received.body)), indent);
  } catch {
    return safeJson({ unreadableBody: safeText(received.body.slice(0, 2000)) }, indent);
  }
};

const age = (received: Received, now: number): string => {
  const at = received.letter ? Date.parse(received.letter.deadLetteredAt) : Number.NaN;
  const from = Number.isFinite(at) ? at : received.sentAt;
  if (from === undefined) return '?';
  const s = Math.max(0, Math.floor((now - from) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
};

const truncate = (text: string, width: number): string => (text.length <= width ? text : `${text.slice(0, width - 1)}…`);

const row = (received: Received, now: number) => {
  const letter = received.letter;
  return {
    messageId: received.messageId,
    age: age(received, now),
    stage: letter?.stage ?? '?',
    target: safeText(letter?.target ?? '-'),
    findingId: safeText(letter?.findingId ?? '-'),
    reason: letter ? safeText(letter.reason) : '(not a dead letter written by the router)',
  };
};

const table = (rows: readonly Record<string, string>[], columns: readonly [string, string][]): string => {
  const widths = columns.map(([key, title]) => Math.max(title.length, ...rows.map((r) => (r[key] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map(([, title]) => title)), ...rows.map((r) => line(columns.map(([key]) => r[key] ?? '')))].join('\n');
};

const queueName = (url: string): string => url.replace(/\/+$/, '').split('/').pop() ?? url;

// ── Commands ─────────────────────────────────────────────────────────────────
const runList = async (values: Values, _positionals: string[], io: Io): Promise<number> =>
  withLetters(values, io, PEEK_SECONDS, async (letters, _queue, queueUrl) => {
    const now = Date.now();
    const rows = letters
      .map((l) => ({ l, at: l.letter ? Date.parse(l.letter.deadLetteredAt) : (l.sentAt ?? 0) }))
      .sort((a, b) => (a.at || 0) - (b.at || 0))
      .map(({ l }) => row(l, now));
    if (values.json) {
      for (const r of rows) io.stdout.write(`${safeJson(r)}\n`);
      return { result: 0 };
    }
    if (rows.length === 0) {
      io.stdout.write(`no letters in ${queueName(queueUrl)}\n`);
      return { result: 0 };
    }
    const shown = rows.map((r) => ({ ...r, reason: truncate(r.reason, REASON_WIDTH) }));
    io.stdout.write(`${table(shown, [['messageId', 'MESSAGE ID'], ['age', 'AGE'], ['stage', 'STAGE'], ['target', 'TARGET'], ['findingId', 'FINDING ID'], ['reason', 'REASON']])}\n`);
    const capped = rows.length >= maxOf(values) ? ` (the first ${rows.length}; --max to see more)` : '';
    io.stdout.write(`${rows.length} letter(s) in ${queueName(queueUrl)}${capped}\n`);
    return { result: 0 };
  });

const runShow = async (values: Values, positionals: string[], io: Io): Promise<number> => {
  if (positionals.length === 0) throw new UsageError('dlq show: give the MESSAGE_ID to show (see dlq list)');
  return withLetters(values, io, PEEK_SECONDS, async (letters, _queue, queueUrl) => {
    let missing = 0;
    for (const id of positionals) {
      const found = letters.find((l) => l.messageId === id);
      if (!found) {
        io.stderr.write(`dlq show: no message ${safeText(id)} in ${queueName(queueUrl)} (looked at ${letters.length})\n`);
        missing++;
        continue;
      }
      const meta = {
        messageId: found.messageId,
        ...(found.sentAt === undefined ? {} : { sentAt: new Date(found.sentAt).toISOString() }),
        ...(found.receiveCount === undefined ? {} : { receiveCount: found.receiveCount }),
      };
      io.stdout.write(`${safeJson(meta)}\n${letterJson(found, 2)}\n`);
    }
    return { result: missing > 0 ? 1 : 0 };
  });
};

const runExport = async (values: Values, _positionals: string[], io: Io): Promise<number> =>
  withLetters(values, io, PEEK_SECONDS, async (letters, _queue, queueUrl) => {
    for (const letter of letters) io.stdout.write(`${letterJson(letter)}\n`);
    io.stderr.write(`exported ${letters.length} letter(s) from ${queueName(queueUrl)}\n`);
    return { result: 0 };
  });

// ── Redrive ──────────────────────────────────────────────────────────────────
type Plan =
  | { kind: 'queue'; queueUrl: string; body: string; label: string }
  | { kind: 'bus'; entry: { Source: string; DetailType: string; Detail: string; Resources?: string[]; EventBusName: string }; label: string }
  | { kind: 'skip'; why: string };

/**
 * Where a letter goes back to, or why it stays. Only what the router itself consumes is
 * sent: a delivery job (checked against its schema) to the delivery queue; a GuardDuty
 * finding event that this version now accepts to the default bus; an enriched finding to
 * the router's bus. Anything else — a jurisdiction refusal, an event that would only be
 * quarantined again, a foreign source — stays where an operator can see it.
 */
const planRedrive = (received: Received, values: Values): Plan => {
  const letter = received.letter;
  if (letter === undefined) return { kind: 'skip', why: 'not a dead letter written by the router' };
  if (letter.stage === 'route' && letter.reason.startsWith('jurisdiction:')) {
    return { kind: 'skip', why: 'refused by the jurisdiction guard: by design, not redrivable' };
  }
  if (letter.stage === 'deliver') {
    if (!z.safeParse(DeliveryJobSchema, letter.payload).success) {
      return { kind: 'skip', why: 'the payload is not a delivery job (it was unreadable when dead-lettered); export it and fix it by hand' };
    }
    const queueUrl = values['to-queue-url'] ?? process.env.DELIVERY_QUEUE_URL;
    if (!queueUrl) return { kind: 'skip', why: 'a delivery job: pass --to-queue-url (the delivery queue)' };
    return { kind: 'queue', queueUrl, body: JSON.stringify(letter.payload), label: `queue ${queueName(queueUrl)}` };
  }
  // enrich and route: the payload is the event as EventBridge delivered it.
  if (!values['to-bus']) return { kind: 'skip', why: 'an event: redrive it with --to-bus' };
  const envelope = z.safeParse(EventBridgeEnvelopeSchema, letter.payload);
  if (!envelope.success) return { kind: 'skip', why: 'the payload is not an EventBridge event; export it and replay it locally' };
  const { source, 'detail-type': detailType, detail, resources } = envelope.data;
  const base = { Source: source, DetailType: detailType, Detail: JSON.stringify(detail), ...(resources ? { Resources: resources } : {}) };
  if (source === GUARDDUTY_SOURCE && detailType === GUARDDUTY_FINDING_DETAIL_TYPE) {
    const validated = validateEvent(letter.payload);
    if (validated.kind !== 'finding') {
      return { kind: 'skip', why: `still ${validated.kind} by this version (${safeText(validated.reason)}): it would only come back` };
    }
    return { kind: 'bus', entry: { ...base, EventBusName: 'default' }, label: 'bus default' };
  }
  if (source === ENRICHED_SOURCE && detailType === ENRICHED_DETAIL_TYPE) {
    const bus = values['event-bus'] ?? process.env.EVENT_BUS_NAME;
    if (!bus || bus === 'default') return { kind: 'skip', why: "an enriched finding belongs on the router's bus: pass --event-bus NAME" };
    if (!z.safeParse(EnrichedFindingSchema, detail).success) {
      return { kind: 'skip', why: 'the enriched finding is still invalid: it would only come back' };
    }
    return { kind: 'bus', entry: { ...base, EventBusName: bus }, label: `bus ${bus}` };
  }
  return { kind: 'skip', why: `source '${safeText(source)}' / detail-type '${safeText(detailType)}' is not an event the router consumes` };
};

const runRedrive = async (values: Values, _positionals: string[], io: Io): Promise<number> => {
  if (values.target === undefined && !values.all) throw new UsageError('dlq redrive: choose the letters: --target T, or --all');
  if (values.target !== undefined && values.all) throw new UsageError('dlq redrive: --target and --all exclude each other');
  const dryRun = values['dry-run'];
  return withLetters(values, io, REDRIVE_SECONDS, async (letters, queue, queueUrl) => {
    const selected = letters.filter((l) => values.all || l.letter?.target === values.target);
    const deleted = new Set<string>();
    const counts = { redriven: 0, kept: 0, failed: 0 };
    for (const received of selected) {
      const l = received.letter;
      const what = `${received.messageId}  ${l?.stage ?? '?'}  ${safeText(l?.target ?? '-')}  ${safeText(l?.findingId ?? '-')}`;
      const plan = planRedrive(received, values);
      if (plan.kind === 'skip') {
        counts.kept++;
        io.stdout.write(`kept      ${what}: ${plan.why}\n`);
        continue;
      }
      if (dryRun) {
        counts.redriven++;
        io.stdout.write(`would send ${what} → ${plan.label}\n`);
        continue;
      }
      try {
        if (plan.kind === 'queue') {
          await queue.send(plan.queueUrl, plan.body);
        } else {
          await queue.putEvent(plan.entry);
        }
      } catch (error) {
        counts.failed++;
        io.stdout.write(`failed    ${what}: ${safeText(`${(error as Error).name}: ${(error as Error).message}`)} (the letter stays)\n`);
        continue;
      }
      try {
        await queue.delete(queueUrl, received.receiptHandle);
        deleted.add(received.messageId);
        counts.redriven++;
        io.stdout.write(`redriven  ${what} → ${plan.label}\n`);
      } catch (error) {
        counts.failed++;
        io.stdout.write(
          `failed    ${what}: sent, but not deleted (${safeText((error as Error).message)}); it will show again — its idempotency key makes a second redrive harmless\n`,
        );
      }
    }
    const verb = dryRun ? 'would redrive' : 'redriven';
    io.stdout.write(
      `redrive${dryRun ? ' (dry run)' : ''}: ${counts.redriven} ${verb}, ${counts.kept} kept, ${counts.failed} failed (${selected.length} selected of ${letters.length} in ${queueName(queueUrl)})\n`,
    );
    return { result: counts.failed > 0 ? 1 : 0, deleted };
  });
};

// ── Entry points (registered in main.ts) ─────────────────────────────────────
const command =
  (run: (values: Values, positionals: string[], io: Io) => Promise<number>) =>
  async (argv: string[], io: Io): Promise<number> => {
    const { values, positionals } = parse(argv);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    try {
      return await run(values, positionals, io);
    } catch (error) {
      if (error instanceof UsageError) {
        io.stderr.write(`${error.message}\n${USAGE}`);
        return 2;
      }
      const failure = describeFailure(error, 'dlq');
      io.stderr.write(`${safeText(failure.message)}\n`);
      return failure.exitCode;
    }
  };

const runDlqList = command(runList);
const runDlqShow = command(runShow);
const runDlqRedrive = command(runRedrive);
const runDlqExport = command(runExport);

export { runDlqList, runDlqShow, runDlqRedrive, runDlqExport, planRedrive, redactJson, safeJson, USAGE as DLQ_USAGE };
