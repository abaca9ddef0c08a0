/**
 * The named queries' answers computed in TypeScript from the records the firehose target sent,
 * independently of SQL: what each query promises in its comment, written out by hand. The DuckDB
 * test compares the engine's rows with these.
 */
type Json = any;

interface StoredRecord {
  /** The partition the record landed in (yyyy-MM-dd). */
  dt: string;
  record: { finding: Json; enrichment: Json };
}

type Row = Record<string, string | number | boolean | null>;

const SEVERE = new Set(['high', 'critical']);

/** `today` minus `days`, as yyyy-MM-dd (the queries' CAST(current_date - INTERVAL 'n' DAY)). */
const daysBefore = (today: string, days: number): string => new Date(Date.parse(`${today}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

const groupBy = <T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
};

/** SQL max over strings: nulls ignored, binary order; null when none. */
const maxString = (values: readonly unknown[]): string | null => {
  const present = values.filter((value) => value !== undefined && value !== null).map(String);
  return present.length === 0 ? null : present.reduce((a, b) => (b > a ? b : a));
};
const maxNumber = (values: readonly number[]): number => Math.max(...values);
const distinct = (values: readonly unknown[]): number => new Set(values.filter((value) => value !== undefined && value !== null)).size;
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const within = (records: readonly StoredRecord[], today: string, days: number) => records.filter(({ dt }) => dt >= daysBefore(today, days));

const findingsPerDayBySeverity = (records: readonly StoredRecord[], today: string): Row[] =>
  [...groupBy(within(records, today, 30), ({ dt, record }) => `${dt} ${record.enrichment.severityLabel}`).values()]
    .map((group) => ({
      day: group[0]!.dt,
      severity_label: group[0]!.record.enrichment.severityLabel as string,
      findings: distinct(group.map(({ record }) => record.finding.id)),
      worst: maxNumber(group.map(({ record }) => record.finding.severity)),
    }))
    .sort((a, b) => byText(b.day, a.day) || b.worst - a.worst || byText(a.severity_label, b.severity_label))
    .map(({ worst: _worst, ...row }) => row);

const findingsPerAccount = (records: readonly StoredRecord[], today: string): Row[] =>
  [...groupBy(within(records, today, 30), ({ record }) => record.finding.accountId).entries()]
    .map(([accountId, group]) => ({
      account_id: accountId,
      account_name: maxString(group.map(({ record }) => record.enrichment.account.name)),
      findings: distinct(group.map(({ record }) => record.finding.id)),
      high_or_critical: distinct(group.filter(({ record }) => SEVERE.has(record.enrichment.severityLabel)).map(({ record }) => record.finding.id)),
      max_severity: maxNumber(group.map(({ record }) => record.finding.severity)),
    }))
    .sort((a, b) => b.findings - a.findings || byText(a.account_id, b.account_id));

const topFindingTypesThisWeek = (records: readonly StoredRecord[], today: string): Row[] =>
  [...groupBy(within(records, today, 7), ({ record }) => record.finding.type).entries()]
    .map(([type, group]) => ({
      finding_type: type,
      findings: distinct(group.map(({ record }) => record.finding.id)),
      accounts: distinct(group.map(({ record }) => record.finding.accountId)),
      max_severity: maxNumber(group.map(({ record }) => record.finding.severity)),
    }))
    .sort((a, b) => b.findings - a.findings || byText(a.finding_type, b.finding_type))
    .slice(0, 20);

const newFindingTypes = (records: readonly StoredRecord[], today: string): Row[] =>
  [...groupBy(within(records, today, 90), ({ record }) => record.finding.type).entries()]
    .map(([type, group]) => ({
      finding_type: type,
      first_seen: group.map(({ dt }) => dt).reduce((a, b) => (b < a ? b : a)),
      findings: distinct(group.map(({ record }) => record.finding.id)),
      accounts: distinct(group.map(({ record }) => record.finding.accountId)),
      max_severity: maxNumber(group.map(({ record }) => record.finding.severity)),
    }))
    .filter(({ first_seen }) => first_seen >= daysBefore(today, 7))
    .sort((a, b) => byText(b.first_seen, a.first_seen) || byText(a.finding_type, b.finding_type));

/** The ASN GuardDuty gives for the remote party of network, API, Kubernetes and RDS actions (a number or a string). */
const remoteAsn = (finding: Json): unknown => {
  const action = finding.service?.action ?? {};
  for (const variant of ['networkConnectionAction', 'awsApiCallAction', 'kubernetesApiCallAction', 'rdsLoginAttemptAction']) {
    const asn = action[variant]?.remoteIpDetails?.organization?.asn;
    if (asn !== undefined && asn !== null) return asn;
  }
  return null;
};

const topRemoteIps = (records: readonly StoredRecord[], today: string): Row[] =>
  [...groupBy(within(records, today, 7).filter(({ record }) => typeof record.enrichment.remote?.ip === 'string'), ({ record }) => record.enrichment.remote.ip).entries()]
    .map(([ip, group]) => ({
      remote_ip: ip,
      asn: maxString(group.map(({ record }) => remoteAsn(record.finding))),
      asn_org: maxString(group.map(({ record }) => record.enrichment.remote.asnOrg)),
      country: maxString(group.map(({ record }) => record.enrichment.remote.countryName)),
      findings: distinct(group.map(({ record }) => record.finding.id)),
      accounts: distinct(group.map(({ record }) => record.finding.accountId)),
    }))
    .sort((a, b) => b.findings - a.findings || byText(a.remote_ip, b.remote_ip))
    .slice(0, 20);

const activeFindings = (records: readonly StoredRecord[], today: string): Row[] =>
  [...groupBy(within(records, today, 90), ({ record }) => `${record.finding.accountId}/${record.finding.region}/${record.finding.id}`).values()]
    .map((group) => group.reduce((latest, candidate) => {
      const order = byText(candidate.record.finding.updatedAt, latest.record.finding.updatedAt) || byText(candidate.dt, latest.dt);
      return order > 0 ? candidate : latest;
    }))
    .filter(({ record }) => record.finding.service?.archived !== true)
    .map(({ record }) => ({
      finding_id: record.finding.id as string,
      finding_type: record.finding.type as string,
      account_id: record.finding.accountId as string,
      account_name: (record.enrichment.account.name as string | undefined) ?? null,
      region: record.finding.region as string,
      severity: record.finding.severity as number,
      severity_label: record.enrichment.severityLabel as string,
      updated_at: record.finding.updatedAt as string,
      console_url: record.enrichment.consoleUrl as string,
    }))
    .sort((a, b) => b.severity - a.severity || byText(b.updated_at, a.updated_at) || byText(a.finding_id, b.finding_id))
    .slice(0, 1000);

/** Query file name (deploy/queries/<name>.sql) → its answer. */
const SOC_ANSWERS: Record<string, (records: readonly StoredRecord[], today: string) => Row[]> = {
  'findings-per-day-by-severity': findingsPerDayBySeverity,
  'findings-per-account': findingsPerAccount,
  'top-finding-types-this-week': topFindingTypesThisWeek,
  'new-finding-types': newFindingTypes,
  'top-remote-ips': topRemoteIps,
  'active-findings': activeFindings,
};

export { SOC_ANSWERS, daysBefore };
export type { StoredRecord, Row };
