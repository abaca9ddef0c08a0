/** GuardDuty severity bands (format.md §2.6). Values below 1.0 fall into Low. */
const SEVERITY_LABELS = ['low', 'medium', 'high', 'critical'] as const;
type SeverityLabel = (typeof SEVERITY_LABELS)[number];

const severityLabel = (severity: number): SeverityLabel => {
  if (severity >= 9) return 'critical';
  if (severity >= 7) return 'high';
  if (severity >= 4) return 'medium';
  return 'low';
};

const severityTitle = (label: SeverityLabel): string => label[0]!.toUpperCase() + label.slice(1);

export { SEVERITY_LABELS, severityLabel, severityTitle };
export type { SeverityLabel };

/**
 * The one written form of a severity in every message: the band, then the score with one
 * decimal (`High 7.0`, `Medium 5.5`). A score with more decimals keeps them rather than round.
 */
const formatSeverity = (score: number): string =>
  `${severityTitle(severityLabel(score))} ${Number.isInteger(Math.round(score * 10 * 1e6) / 1e6) ? score.toFixed(1) : String(score)}`;

export { formatSeverity };
