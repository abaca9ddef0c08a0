import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { actorFacts, actorSummary } from '../actor-summary.ts';
import { formatSeverity } from '../severity.ts';

/**
 * What the ticketing targets (jira, servicenow) share: one remote record per finding, kept in
 * the ledger as JSON with what humans were last told (severity, count); an update is posted
 * only when it is significant, and says what changed.
 */

/** What the ledger entry remembers of the last notice. */
interface Noticed {
  severity: number;
  count: number;
}

/** Worth a comment / work note: the severity rose, or the count at least doubled, since the last notice. */
const isSignificantUpdate = (previous: Noticed, current: Noticed): boolean =>
  current.severity > previous.severity || current.count >= 2 * Math.max(1, previous.count);

/** The ledger record once `current` has been told. */
const noticed = <R extends Noticed>(record: R, current: Noticed): R => ({ ...record, severity: current.severity, count: current.count });

/** `High 8.0`: the one written form (shared/severity.ts). */
const severityText = formatSeverity;

/** The two lines an update notice opens with: severity (rose or not), then count (changed or not). */
const changeLines = (previous: Noticed, current: Noticed): [string, string] => [
  current.severity > previous.severity
    ? `Severity rose: ${severityText(previous.severity)} → ${severityText(current.severity)}`
    : `Severity: ${severityText(current.severity)}`,
  current.count !== previous.count ? `Count: ${previous.count} → ${current.count}` : `Count: ${current.count}`,
];

/** A ledger entry or an answer body as JSON, or undefined when it is not JSON. */
const parseJson = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
};

// ── Facts both ticket descriptions show ─────────────────────────────────────

/** An ISO timestamp from GuardDuty's string or epoch (seconds or milliseconds). */
const timestamp = (value: string | number | undefined): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  const date = new Date(value > 1e12 ? value : value * 1000);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
};

/** `name (id)` for a known account, `id (unknown account)` otherwise. */
const accountText = (enriched: EnrichedFinding): string => {
  const { finding, enrichment: e } = enriched;
  return e.account.name ? `${e.account.name} (${finding.accountId})` : `${finding.accountId} (unknown account)`;
};

/**
 * Who did what from where (shared/actor-summary.ts) as table rows; `Seen` is left to the
 * tickets' own Count / First seen / Last seen rows.
 */
const actorRows = (enriched: EnrichedFinding): [string, string][] =>
  actorFacts(actorSummary(enriched.finding))
    .filter((fact) => fact.label !== 'Seen')
    .map(({ label, value }) => [label === 'What' ? 'Activity' : label === 'From' ? 'Remote party' : label, value]);

export { accountText, actorRows, changeLines, isSignificantUpdate, noticed, parseJson, severityText, timestamp };
export type { Noticed };
