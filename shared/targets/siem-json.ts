import { truncate } from '../text.ts';

/**
 * JSON helpers shared by the SIEM targets (Splunk HEC, Elasticsearch `_bulk`, Firehose):
 * finding timestamps as epoch milliseconds, and size limits enforced on a JSON value by
 * cutting its longest strings (with the visible truncation marker) until it fits.
 */

/** GuardDuty timestamps: ISO strings, or epoch seconds / milliseconds. Undefined when unparseable. */
const timestampMs = (value: string | number | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? (Math.abs(value) >= 1e11 ? value : value * 1000) : undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
};

/** ISO-8601 (UTC, milliseconds) of a finding timestamp, or undefined. */
const isoTimestamp = (value: string | number | undefined): string | undefined => {
  const ms = timestampMs(value);
  if (ms === undefined) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};

const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * JSON for a line-oriented output (NDJSON file, Firehose records, Splunk HEC, syslog JSON,
 * `_bulk`): U+2028 and U+2029 written as `\u2028` / `\u2029`. JSON.stringify leaves them raw
 * (they are valid in JSON strings), but JavaScript line splitters and some log pipelines treat
 * them as line breaks and would cut one record in two. They only occur inside strings, where
 * the escape means the same character.
 */
const escapeLineSeparators = (json: string): string =>
  json.replace(/[\u2028\u2029]/g, (separator) => `\\u${separator.charCodeAt(0).toString(16)}`);

/** JSON.stringify for one record of a line-oriented output (see escapeLineSeparators). */
const jsonLine = (value: unknown): string => escapeLineSeparators(JSON.stringify(value));

/** Every string value in `value` cut to at most `cap` UTF-16 units (keys are left alone). */
const capStrings = (value: unknown, cap: number): unknown => {
  if (typeof value === 'string') return value.length > cap ? truncate(value, cap) : value;
  if (Array.isArray(value)) return value.map((item) => capStrings(item, cap));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = capStrings(item, cap);
    return out;
  }
  return value;
};

const longestString = (value: unknown): number => {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((max: number, item) => Math.max(max, longestString(item)), 0);
  if (value !== null && typeof value === 'object') {
    return Object.values(value).reduce((max: number, item) => Math.max(max, longestString(item)), 0);
  }
  return 0;
};

/** Shortest cap worth trying: below it a string keeps nothing but the marker. */
const MIN_CAP = 64;

/**
 * `value` whose JSON line (jsonLine) is at most `maxBytes` UTF-8 bytes: unchanged when it
 * already fits, otherwise with every string longer than the largest cap that fits cut to
 * that cap (binary search, so the result is deterministic and keeps as much as possible).
 * Undefined when even the shortest cap (`minCap`, MIN_CAP unless told) does not fit (too
 * many fields, not too much text).
 */
const fitJson = <T>(value: T, maxBytes: number, minCap = MIN_CAP): { value: T; truncated: boolean } | undefined => {
  if (byteLength(jsonLine(value)) <= maxBytes) return { value, truncated: false };
  let low = minCap;
  let high = longestString(value) - 1;
  if (high < low || byteLength(jsonLine(capStrings(value, low))) > maxBytes) return undefined;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (byteLength(jsonLine(capStrings(value, mid))) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  return { value: capStrings(value, low) as T, truncated: true };
};

export { timestampMs, isoTimestamp, fitJson, byteLength, escapeLineSeparators, jsonLine };
