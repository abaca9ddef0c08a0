import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { stripControl, truncate } from '../text.ts';

/**
 * Plain text inside JSON, for the on-call targets (pagerduty, opsgenie): well-formed UTF-16,
 * no control characters, one line where the field is one line, within a length limit.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const wellFormed = (text: string): string => text.replace(LONE_SURROGATE, '\uFFFD');

/** One line: no CR/LF/U+2028/U+2029/NEL, no control characters, single spaces. */
const plainLine = (text: string | undefined, max: number): string =>
  truncate(
    stripControl(wellFormed(text ?? '').replace(/[\r\n\t\v\f\u0085\u2028\u2029]+/g, ' '))
      .replace(/\s+/g, ' ')
      .trim(),
    max,
  );

/** Several lines: line breaks normalised to LF, no other control characters. */
const plainText = (text: string | undefined, max: number): string =>
  truncate(stripControl(wellFormed(text ?? '').replace(/\r\n?|[\u0085\u2028\u2029]/g, '\n')).trim(), max);

/** GuardDuty timestamps arrive as ISO strings or epoch seconds/milliseconds. */
const isoTimestamp = (value: string | number | undefined): string | undefined => {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? (value < 1e12 ? value * 1000 : value) : Date.parse(value);
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};

/** `name (id)` for a known account, the bare id otherwise. */
const accountLabel = (enriched: EnrichedFinding): string => {
  const { account } = enriched.enrichment;
  return account.name ? `${account.name} (${enriched.finding.accountId})` : enriched.finding.accountId;
};

export { accountLabel, isoTimestamp, plainLine, plainText };
