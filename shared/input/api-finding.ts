import { WIRE_SHAPES } from './wire-names.generated.ts';
import { SCALAR, TIMESTAMP, type WireValue } from './wire-shapes.ts';

/**
 * A finding as the SDKs and the CLI return it from GetFindings (PascalCase member names,
 * timestamps as Date objects, ISO strings or epoch numbers) → the finding in GuardDuty's JSON
 * wire form, the form EventBridge delivers and the router validates.
 *
 * Names come from the service model (wire-names.generated.ts), never from case rules: the
 * model says `Code` → `productCodeId`, `SourceIps` → `sourceIPs`, `Latitude` → `lat`, and
 * keeps `LoginAttributes` as it is. Map keys (tag names, anomaly profiles) are data and stay
 * as they are. A key the model does not name (a wire name already, or a member newer than
 * the model) is kept with its value untouched, so a wire-form finding passes through unchanged.
 *
 * Timestamps take the form the model gives them on the wire: `timestamp` members (rest-json,
 * no format) are epoch seconds; string members that hold times (createdAt, updatedAt,
 * eventFirstSeen...) are ISO-8601 strings, so a Date there becomes its ISO string.
 */
const fromApiFinding = (finding: unknown): unknown => toWire(finding, 'Finding');

/** A GetFindings response in SDK form (`{ Findings: [...] }`) → its wire form (`{ findings: [...] }`). */
const fromApiResponse = (response: unknown): unknown => toWire(response, 'GetFindingsResponse');

const toWire = (value: unknown, shape: WireValue): unknown => {
  if (value === null || value === undefined) return value;
  if (shape === TIMESTAMP) return wireTimestamp(value);
  if (shape === SCALAR) return value instanceof Date ? isoString(value) : value;
  if (typeof shape !== 'string') {
    const [kind, item] = shape;
    if (kind === 'list') return Array.isArray(value) ? value.map((element) => toWire(element, item)) : value;
    return isPlainObject(value) ? Object.fromEntries(Object.entries(value).map(([key, v]) => [key, toWire(v, item)])) : value;
  }
  const members = WIRE_SHAPES[shape];
  if (members === undefined || !isPlainObject(value)) return value;
  // Object.fromEntries defines own properties: a `__proto__` key stays data, as JSON.parse left it.
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      const member = Object.hasOwn(members, key) ? members[key] : undefined;
      if (member === undefined) return [key, v];
      return typeof member === 'string' ? [member, toWire(v, SCALAR)] : [member[0], toWire(v, member[1])];
    }),
  );
};

/**
 * `timestamp` members are epoch seconds on the wire. The SDK for JavaScript gives a Date (its
 * JSON is an ISO string); CLI v1 prints the epoch number as received, CLI v2 an ISO string with
 * microseconds and `+00:00`; boto3's str() uses a space for the `T`. All become epoch seconds,
 * keeping every fractional digit that was given.
 */
const wireTimestamp = (value: unknown): unknown => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? value : value.getTime() / 1000;
  if (typeof value !== 'string') return value;
  const match = ISO_TIME.exec(value);
  if (match === null) return value;
  const [, date, time, fraction, zone] = match;
  const wholeMs = Date.parse(`${date}T${time}${zone === 'z' ? 'Z' : zone}`);
  if (Number.isNaN(wholeMs)) return value;
  const seconds = wholeMs / 1000;
  if (fraction === undefined || /^0*$/.test(fraction)) return seconds;
  // Decimal text → number: the nearest double to the written value, as JSON.parse would give.
  return seconds >= 0 ? Number(`${seconds}.${fraction}`) : seconds + Number(`0.${fraction}`);
};

const ISO_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2})$/;

const isoString = (date: Date): unknown => (Number.isNaN(date.getTime()) ? date : date.toISOString());

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

export { fromApiFinding, fromApiResponse };
