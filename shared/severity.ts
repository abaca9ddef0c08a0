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
