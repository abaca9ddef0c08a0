import { fromApiFinding } from '../../input/api-finding.ts';
import type { InputItem } from './item.ts';
import { WIRE_SHAPES } from '../../input/wire-names.generated.ts';

/**
 * What one parsed input value is, and the events it holds. Accepted:
 *
 * | shape                                   | where from                                  |
 * |-----------------------------------------|---------------------------------------------|
 * | EventBridge event, `{ detail }`         | the bus, Lambda test events                 |
 * | finding (wire names)                    | `detail`, the S3 export, camelCase API JSON |
 * | finding (SDK member names, PascalCase)  | the SDKs' and the CLI's GetFindings output  |
 * | `{ "Findings": [...] }`                 | `aws guardduty get-findings`, SDK GetFindings |
 * | `{ "findings": [...] }`                 | the GetFindings response on the wire        |
 * | dead letter                             | `dlq export`                                |
 * | an array of these                       |                                             |
 *
 * SDK-form findings are converted to the wire form here; everything else goes to validation
 * as it is, which names the JSON path at fault. An object that is none of these is reported
 * with what it looks like instead of a list of schema complaints.
 */

const memberNames = (shape: string): Set<string> => new Set(Object.keys(WIRE_SHAPES[shape] ?? {}));
const wireNames = (shape: string): Set<string> =>
  new Set(Object.values(WIRE_SHAPES[shape] ?? {}).map((member) => (typeof member === 'string' ? member : member[0])));

const FINDING_MEMBERS = memberNames('Finding');
const FINDING_WIRE_NAMES = wireNames('Finding');
/** Keys by which validation recognises an event, a Lambda test event or a dead letter. */
const EVENT_KEYS = ['detail-type', 'source', 'detail', 'payload'];

const ACCEPTED =
  'accepted: an EventBridge event, a GuardDuty finding (wire or SDK/CLI form), a GetFindings response ({"Findings": [...]} or {"findings": [...]}), or an array of these';

/**
 * The events one parsed value holds. `document`: the value is a whole file or line (an array
 * is opened); `element`: it is an array's element (a GetFindings response still is, as
 * `jq -s` makes of several pages).
 */
function* eventsOf(value: unknown, source: string, level: 'document' | 'element' = 'document'): Generator<InputItem> {
  if (Array.isArray(value) && level === 'document') {
    for (const [index, element] of value.entries()) yield* eventsOf(element, `${source}[${index}]`, 'element');
    return;
  }
  if (!isObject(value)) {
    yield { source, value }; // validation says what it is instead of an object
    return;
  }
  if (Object.hasOwn(value, 'Findings') || (Object.hasOwn(value, 'findings') && !hasAny(value, FINDING_WIRE_NAMES))) {
    yield* wrapperEvents(value, source);
    return;
  }
  if (hasAny(value, FINDING_WIRE_NAMES) || EVENT_KEYS.some((key) => Object.hasOwn(value, key))) {
    yield { source, value };
    return;
  }
  if (hasAny(value, FINDING_MEMBERS)) {
    yield { source, value: fromApiFinding(value) };
    return;
  }
  yield { source, error: unknownShape(value) };
}

/** A GetFindings response: its findings flow, its unprocessed findings are reported. */
function* wrapperEvents(value: Record<string, unknown>, source: string): Generator<InputItem> {
  const key = Object.hasOwn(value, 'Findings') ? 'Findings' : 'findings';
  const findings = value[key];
  if (!Array.isArray(findings)) {
    yield { source, error: `looks like a GetFindings response, but "${key}" is ${describe(findings)}, not an array of findings` };
    return;
  }
  for (const [index, finding] of findings.entries()) {
    const at = `${source}.${key}[${index}]`;
    if (!isObject(finding)) yield { source: at, value: finding };
    else if (hasAny(finding, FINDING_WIRE_NAMES)) yield { source: at, value: finding };
    else if (hasAny(finding, FINDING_MEMBERS)) yield { source: at, value: fromApiFinding(finding) };
    else yield { source: at, error: unknownShape(finding) };
  }
  const unprocessed = unprocessedOf(value);
  for (const [index, entry] of unprocessed.entries()) {
    yield { source: `${source}.${unprocessed.key}[${index}]`, error: `GetFindings did not return this finding: ${describeUnprocessed(entry)}` };
  }
  if (findings.length === 0 && unprocessed.length === 0) yield { source, error: 'looks like a GetFindings response with no findings' };
}

const unprocessedOf = (value: Record<string, unknown>): unknown[] & { key?: string } => {
  for (const key of ['UnprocessedFindings', 'unprocessedFindings']) {
    const entries = value[key];
    if (Array.isArray(entries)) return Object.assign([...entries], { key });
  }
  return [];
};

/** An unprocessed entry's id and reason, whatever their member names; the text is input, so it is quoted. */
const describeUnprocessed = (entry: unknown): string => {
  if (!isObject(entry)) return quote(String(entry));
  const pick = (pattern: RegExp) =>
    Object.entries(entry).find(([name, v]) => pattern.test(name) && (typeof v === 'string' || typeof v === 'number'))?.[1];
  const id = pick(/^(finding)?_?id$/i);
  const reason = [pick(/^(error)?_?code$/i), pick(/^(reason|result|error_?message|message)$/i)].filter((v) => v !== undefined);
  return `${id === undefined ? 'no finding id' : `finding ${quote(String(id))}`}${reason.length > 0 ? `: ${reason.map((r) => quote(String(r))).join(' ')}` : ''}`;
};

const unknownShape = (value: Record<string, unknown>): string => {
  const keys = Object.keys(value);
  if (keys.length === 0) return `an empty object, not a GuardDuty finding; ${ACCEPTED}`;
  if (Object.hasOwn(value, 'FindingIds') || Object.hasOwn(value, 'findingIds')) {
    return 'looks like a ListFindings response (finding ids only): get the findings themselves with `aws guardduty get-findings` or `findings-router pull`';
  }
  const shown = keys.slice(0, 5).map(quote).join(', ') + (keys.length > 5 ? `, … (${keys.length} keys)` : '');
  return `not a GuardDuty finding: no id/type/resource (keys: ${shown}); ${ACCEPTED}`;
};

const MAX_QUOTED = 80;
/** Input text in a reason: JSON-quoted (control characters escaped) and bounded. */
const quote = (text: string): string => JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text);

const hasAny = (value: Record<string, unknown>, keys: ReadonlySet<string>): boolean => {
  for (const key in value) if (keys.has(key) && Object.hasOwn(value, key)) return true;
  return false;
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

export { eventsOf };
