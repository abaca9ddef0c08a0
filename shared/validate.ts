import * as z from 'zod/mini';
import { ENRICHED_DETAIL_TYPE, ENRICHED_SOURCE, EventBridgeEnvelopeSchema, GUARDDUTY_FINDING_DETAIL_TYPE, GUARDDUTY_SOURCE } from '../schemas/envelope.ts';
import { GuardDutyFindingSchema, type GuardDutyFinding } from '../schemas/finding.ts';
import { acceptedFindingView, findingView } from '../schemas/finding-view.ts';
import { compileGuard } from '../schemas/guard.ts';
import './config/problems.ts';

/**
 * Decides what an input event is: a GuardDuty finding (an EventBridge event or a bare
 * finding), something to ignore (another detail-type), or a rejection naming the JSON
 * path at fault. Never throws on bad input.
 */
type Validated =
  | { kind: 'finding'; finding: GuardDutyFinding }
  | { kind: 'ignored'; reason: string }
  | { kind: 'rejected'; path: string; reason: string; findingId?: string; type?: string };

const MAX_ISSUES = 3;

const validateEvent = (input: unknown): Validated => {
  const deep = tooDeep(input);
  if (deep !== undefined) return { kind: 'rejected', path: deep, reason: `${deep}: nested more than ${MAX_DEPTH} levels deep`, ...identityOf(input) };
  return isDeadLetter(input) ? validateLetter(input) : validateAt(input, '$');
};

/**
 * GuardDuty findings nest about a dozen levels (a dead letter adds three); serialisers
 * (JSON.stringify, structuredClone) overflow the stack a few thousand levels down. An
 * event deeper than this is rejected here, before anything recurses into it.
 */
const MAX_DEPTH = 64;

/** The JSON path of a value nested deeper than MAX_DEPTH, or undefined when none is. */
const tooDeep = (input: unknown): string | undefined => {
  const path: (string | number)[] = [];
  return typeof input === 'object' && input !== null && nestsTooDeep(input, 0, path) ? jsonPath('$', path) : undefined;
};

/**
 * Recursion is bounded by MAX_DEPTH, so the stack is safe. The path is only built on the
 * way back up from a hit: the walk over a valid finding allocates nothing.
 */
const nestsTooDeep = (value: object, depth: number, path: (string | number)[]): boolean => {
  if (depth >= MAX_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && nestsTooDeep(item, depth + 1, path)) return path.unshift(i) > 0;
    }
    return false;
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && nestsTooDeep(item, depth + 1, path)) return path.unshift(key) > 0;
  }
  return false;
};

const identityOf = (input: unknown): { findingId?: string; type?: string } => {
  const record = isObject(input) ? input : {};
  const detail = isObject(record.detail) ? record.detail : record;
  return {
    ...(typeof detail.id === 'string' ? { findingId: detail.id } : {}),
    ...(typeof detail.type === 'string' ? { type: detail.type } : {}),
  };
};

const validateAt = (input: unknown, prefix: string): Validated => {
  if (!isObject(input)) return { kind: 'rejected', path: prefix, reason: `${prefix}: expected a JSON object, got ${describe(input)}` };
  if ('detail-type' in input || 'source' in input) {
    const envelope = isEnvelope(input) ? { success: true as const, data: input } : z.safeParse(EventBridgeEnvelopeSchema, input);
    if (!envelope.success) return rejected(envelope.error, prefix, input);
    const { source, 'detail-type': detailType } = envelope.data;
    if (source !== GUARDDUTY_SOURCE || detailType !== GUARDDUTY_FINDING_DETAIL_TYPE) {
      return { kind: 'ignored', reason: `not a GuardDuty finding event (source ${source}, detail-type ${detailType})` };
    }
    return validateFinding(envelope.data.detail, `${prefix}.detail`);
  }
  // A Lambda test event of the shape { detail: {...} } without an envelope.
  if (isObject(input.detail) && !('id' in input)) return validateFinding(input.detail, `${prefix}.detail`);
  return validateFinding(input, prefix);
};

/** A dead letter as `dlq export` writes it (shared/aws/queues.ts DeadLetter): judged by what it carries. */
const DEAD_LETTER_STAGES: readonly unknown[] = ['enrich', 'route', 'deliver'];
const isDeadLetter = (value: unknown): value is Record<string, unknown> =>
  isObject(value) &&
  typeof value.reason === 'string' &&
  DEAD_LETTER_STAGES.includes(value.stage) &&
  typeof value.deadLetteredAt === 'string' &&
  'payload' in value;

/** A delivery job → its finding; an enriched event or `{ finding }` → the finding; anything else → the event. One level only. */
const validateLetter = (letter: Record<string, unknown>): Validated => {
  const payload = letter.payload;
  if (isObject(payload) && typeof payload.idempotencyKey === 'string' && isObject(payload.enriched)) {
    return validateFinding(payload.enriched.finding, '$.payload.enriched.finding');
  }
  if (isObject(payload) && payload.source === ENRICHED_SOURCE && payload['detail-type'] === ENRICHED_DETAIL_TYPE) {
    return validateFinding(isObject(payload.detail) ? payload.detail.finding : undefined, '$.payload.detail.finding');
  }
  if (isObject(payload) && isObject(payload.finding) && !('detail' in payload) && !('source' in payload)) {
    return validateFinding(payload.finding, '$.payload.finding');
  }
  return validateAt(payload, '$.payload');
};

/** Valid input passes the envelope guard untouched (no copy); anything else goes through zod for its error. */
const isEnvelope = compileGuard(EventBridgeEnvelopeSchema) as (value: unknown) => value is z.infer<typeof EventBridgeEnvelopeSchema>;

/**
 * A valid finding becomes its view (no copy unless an optional field is `null`: then it
 * reads as absent, and the view's JSON is still the finding as sent); anything the view
 * refuses goes through zod, which names the path (or, for the odd input only zod accepts,
 * such as an own `__proto__` key, returns the copy the view is then read from).
 */
const validateFinding = (detail: unknown, prefix: string): Validated => {
  let finding = findingView(detail);
  if (finding === undefined) {
    const parsed = z.safeParse(GuardDutyFindingSchema, detail);
    if (!parsed.success) return rejected(parsed.error, prefix, detail);
    finding = acceptedFindingView(parsed.data);
  }
  // The id goes into URLs, keys and file names: encodeURIComponent throws on a lone surrogate.
  if (LONE_SURROGATE.test(finding.id)) {
    return { kind: 'rejected', path: `${prefix}.id`, reason: `${prefix}.id: not well-formed Unicode (a lone surrogate)`, ...identityOf(detail) };
  }
  return { kind: 'finding', finding };
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const rejected = (error: z.core.$ZodError, prefix: string, value: unknown): Validated => {
  const issues = error.issues.slice(0, MAX_ISSUES).map((issue) => `${jsonPath(prefix, issue.path)}: ${issue.message}`);
  const more = error.issues.length > MAX_ISSUES ? ` (+${error.issues.length - MAX_ISSUES} more)` : '';
  const first = error.issues[0];
  return { kind: 'rejected', path: jsonPath(prefix, first?.path ?? []), reason: issues.join('; ') + more, ...identityOf(value) };
};

const jsonPath = (prefix: string, path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, segment) => {
    if (typeof segment === 'number') return `${acc}[${segment}]`;
    const key = String(segment);
    return /^[A-Za-z_$][\w$]*$/.test(key) ? `${acc}.${key}` : `${acc}[${JSON.stringify(key)}]`;
  }, prefix);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

export { validateEvent, jsonPath };
