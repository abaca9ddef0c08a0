import * as z from 'zod/mini';
import { EventBridgeEnvelopeSchema, GUARDDUTY_FINDING_DETAIL_TYPE, GUARDDUTY_SOURCE } from '../schemas/envelope.ts';
import { GuardDutyFindingSchema, type GuardDutyFinding } from '../schemas/finding.ts';
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
  if (!isObject(input)) return { kind: 'rejected', path: '$', reason: `$: expected a JSON object, got ${describe(input)}` };
  if ('detail-type' in input || 'source' in input) {
    const envelope = z.safeParse(EventBridgeEnvelopeSchema, input);
    if (!envelope.success) return rejected(envelope.error, '$', input);
    const { source, 'detail-type': detailType } = envelope.data;
    if (source !== GUARDDUTY_SOURCE || detailType !== GUARDDUTY_FINDING_DETAIL_TYPE) {
      return { kind: 'ignored', reason: `not a GuardDuty finding event (source ${source}, detail-type ${detailType})` };
    }
    return validateFinding(envelope.data.detail, '$.detail');
  }
  // A Lambda test event of the shape { detail: {...} } without an envelope.
  if (isObject(input.detail) && !('id' in input)) return validateFinding(input.detail, '$.detail');
  return validateFinding(input, '$');
};

const validateFinding = (detail: unknown, prefix: string): Validated => {
  const parsed = z.safeParse(GuardDutyFindingSchema, detail);
  if (!parsed.success) return rejected(parsed.error, prefix, detail);
  return { kind: 'finding', finding: parsed.data };
};

const rejected = (error: z.core.$ZodError, prefix: string, value: unknown): Validated => {
  const issues = error.issues.slice(0, MAX_ISSUES).map((issue) => `${jsonPath(prefix, issue.path)}: ${issue.message}`);
  const more = error.issues.length > MAX_ISSUES ? ` (+${error.issues.length - MAX_ISSUES} more)` : '';
  const first = error.issues[0];
  const record = isObject(value) ? value : {};
  const detail = isObject(record.detail) ? record.detail : record;
  return {
    kind: 'rejected',
    path: jsonPath(prefix, first?.path ?? []),
    reason: issues.join('; ') + more,
    ...(typeof detail.id === 'string' ? { findingId: detail.id } : {}),
    ...(typeof detail.type === 'string' ? { type: detail.type } : {}),
  };
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
export type { Validated };
