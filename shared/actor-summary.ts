import type { GuardDutyFinding, RemoteIp } from '../schemas/finding.ts';
import { summarizeResource } from './enrich.ts';

/**
 * Who did what from where, to what, since when: one summary per finding, read once from the
 * finding (format.md §2.4–2.5, §2.7) and rendered by every chat, ticket and on-call target.
 * The values are raw finding data: each renderer escapes them for its own format.
 */

type ActionKind =
  | 'network-connection'
  | 'port-probe'
  | 'dns-request'
  | 'aws-api-call'
  | 'kubernetes-api-call'
  | 'rds-login'
  | 'runtime'
  | 'malware-scan'
  | 'attack-sequence'
  | 'unknown';

/** Where the activity came from: the remote party, and the caller when the finding names one. */
interface Origin {
  ip?: string;
  city?: string;
  country?: string;
  asn?: string;
  asnOrg?: string;
  /** The identity that made the call (Kubernetes user, remote AWS account, sequence actor). */
  identity?: string;
  userAgent?: string;
}

interface ActorSummary {
  kind: ActionKind;
  /** What happened, as a reader says it: `AWS API call`, `DNS request`. */
  action: string;
  /** The API, port, protocol, domain, threat or signal count. */
  detail?: string;
  from?: Origin;
  /** Runtime findings: the process (name, path, pid, user). */
  process?: string;
  /** Runtime findings: the container (name and image). */
  container?: string;
  /** Attack sequences: their signals, most recent last (bounded). */
  signals?: string[];
  /** The affected resource (the same line as enrichment.resourceSummary). */
  target: string;
  firstSeen?: string;
  lastSeen?: string;
  count: number;
}

const ACTION_LABELS: Record<ActionKind, string> = {
  'network-connection': 'Network connection',
  'port-probe': 'Port probe',
  'dns-request': 'DNS request',
  'aws-api-call': 'AWS API call',
  'kubernetes-api-call': 'Kubernetes API call',
  'rds-login': 'RDS login',
  runtime: 'Runtime process',
  'malware-scan': 'Malware scan result',
  'attack-sequence': 'Attack sequence',
  unknown: 'Activity',
};

/** Each value is cut here: the summary is a glance, renderers cut again to their own limits. */
const VALUE_LIMIT = 300;
/** At most this many list items (signals, probed ports, threats) before "+N more". */
const LIST_LIMIT = 5;

const cache = new WeakMap<GuardDutyFinding, ActorSummary>();

/** The summary of `finding`, built once per finding object (every target of a delivery reads it). */
const actorSummary = (finding: GuardDutyFinding): ActorSummary => {
  let summary = cache.get(finding);
  if (summary === undefined) {
    summary = buildActorSummary(finding);
    cache.set(finding, summary);
  }
  return summary;
};

const buildActorSummary = (finding: GuardDutyFinding): ActorSummary => {
  const service = finding.service;
  const described = describeAction(finding);
  const runtime = record(service?.runtimeDetails);
  const process = runtime ? processText(record(runtime.process)) : undefined;
  const container = process !== undefined || described.kind === 'runtime' ? containerText(finding) : undefined;
  return compact({
    ...described,
    action: ACTION_LABELS[described.kind],
    process,
    container,
    target: summarizeResource(finding.resource),
    firstSeen: isoSecond(service?.eventFirstSeen),
    lastSeen: isoSecond(service?.eventLastSeen),
    count: service?.count ?? 1,
  });
};

type Described = Pick<ActorSummary, 'kind' | 'detail' | 'from' | 'signals'>;

const describeAction = (finding: GuardDutyFinding): Described => {
  const service = finding.service;
  const action = service?.action;
  const sequence = record(record(service?.detection)?.sequence);
  if (sequence) return describeSequence(sequence);
  if (action?.awsApiCallAction) {
    const call = action.awsApiCallAction;
    const domain = str(record(record(call)?.domainDetails)?.domain);
    const identity = [
      finding.resource.accessKeyDetails?.userName,
      call.remoteAccountDetails?.accountId ? `account ${call.remoteAccountDetails.accountId}${call.remoteAccountDetails.affiliated === false ? ' (not affiliated)' : ''}` : undefined,
    ].filter(Boolean).join(', ');
    return {
      kind: 'aws-api-call',
      detail: join([join([call.api, call.serviceName ? `on ${call.serviceName}` : undefined]), call.errorCode ? `error ${call.errorCode}` : undefined, domain ? `domain ${domain}` : undefined], ', '),
      from: origin(call.remoteIpDetails, { identity, userAgent: call.userAgent, caller: call.callerType }),
    };
  }
  if (action?.kubernetesApiCallAction) {
    const call = action.kubernetesApiCallAction;
    const status = call.statusCode === undefined ? undefined : `status ${call.statusCode}`;
    return {
      kind: 'kubernetes-api-call',
      detail: join([join([call.verb, call.requestUri]), status], ', '),
      from: origin(call.remoteIpDetails, {
        ip: call.sourceIPs?.[0],
        identity: finding.resource.kubernetesDetails?.kubernetesUserDetails?.username,
        userAgent: call.userAgent,
      }),
    };
  }
  if (action?.rdsLoginAttemptAction) {
    const call = action.rdsLoginAttemptAction;
    const logins = (call.LoginAttributes ?? []).slice(0, LIST_LIMIT).map((login) =>
      join([login.user ? `user ${login.user}` : undefined, login.application ? `via ${login.application}` : undefined,
        login.failedLoginAttempts !== undefined ? `${login.failedLoginAttempts} failed` : undefined,
        login.successfulLoginAttempts !== undefined ? `${login.successfulLoginAttempts} succeeded` : undefined], ', '),
    );
    return { kind: 'rds-login', detail: logins.filter(Boolean).join('; ') || undefined, from: origin(call.remoteIpDetails) };
  }
  if (action?.dnsRequestAction) {
    const dns = action.dnsRequestAction;
    return { kind: 'dns-request', detail: join([join([dns.domain, dns.protocol ? `over ${dns.protocol}` : undefined]), dns.blocked ? 'blocked' : undefined], ', ') };
  }
  if (action?.networkConnectionAction) {
    const connection = action.networkConnectionAction;
    const direction = connection.connectionDirection?.toLowerCase();
    return {
      kind: 'network-connection',
      detail: join([
        join([direction && direction !== 'unknown' ? direction : undefined, connection.protocol]),
        portText('remote port', connection.remotePortDetails),
        portText('local port', connection.localPortDetails),
        connection.blocked ? 'blocked' : undefined,
      ], ', '),
      from: origin(connection.remoteIpDetails),
    };
  }
  if (action?.portProbeAction) {
    const probes = action.portProbeAction.portProbeDetails ?? [];
    const ports = [...new Set(probes.map((probe) => portText('', probe.localPortDetails)).filter((p): p is string => p !== undefined))];
    return {
      kind: 'port-probe',
      detail: join([ports.length > 0 ? `ports ${listText(ports)}` : undefined, probes.length > 1 ? `from ${probes.length} addresses` : undefined, action.portProbeAction.blocked ? 'blocked' : undefined], '; '),
      from: origin(probes[0]?.remoteIpDetails),
    };
  }
  const scan = malwareText(service?.ebsVolumeScanDetails, service?.malwareScanDetails);
  if (scan !== undefined) return { kind: 'malware-scan', detail: scan };
  const runtime = record(service?.runtimeDetails);
  if (runtime) return { kind: 'runtime', detail: runtimeContextText(record(runtime.context)) };
  return { kind: 'unknown' };
};

/** Attack sequences (format.md §2.7): the signals, the first endpoint and actor. */
const describeSequence = (sequence: Record<string, unknown>): Described => {
  const signals = array(sequence.signals).map(record).filter((s): s is Record<string, unknown> => s !== undefined);
  const lines = signals.map((signal) => {
    const count = typeof signal.count === 'number' ? `count ${signal.count}` : undefined;
    const severity = typeof signal.severity === 'number' ? `severity ${signal.severity}` : undefined;
    const extra = join([severity, count], ', ');
    return cut(`${str(signal.name) ?? str(signal.type) ?? 'signal'}${extra ? ` (${extra})` : ''}`);
  });
  const shown = lines.slice(0, LIST_LIMIT);
  if (lines.length > LIST_LIMIT) shown.push(`+${lines.length - LIST_LIMIT} more`);
  const tactics = array(array(sequence.sequenceIndicators).map(record).find((i) => i?.key === 'ATTACK_TACTIC')?.values).map(str).filter(Boolean) as string[];
  const endpoint = record(array(sequence.endpoints)[0]);
  const location = record(endpoint?.location);
  const system = record(endpoint?.autonomousSystem);
  const actor = record(array(sequence.actors)[0]);
  const from = compact({
    ip: cutOptional(str(endpoint?.ip)),
    city: cutOptional(str(location?.city)),
    country: cutOptional(str(location?.country)),
    asn: asnText(system?.number),
    asnOrg: cutOptional(str(system?.name)),
    identity: cutOptional(str(actor?.id)),
  });
  return compact({
    kind: 'attack-sequence' as const,
    detail: join([`${signals.length} signal${signals.length === 1 ? '' : 's'}`, tactics.length > 0 ? `tactics ${listText(tactics.map((t) => t.toLowerCase().replace(/_/g, ' ')))}` : undefined], ', '),
    from: Object.keys(from).length > 0 ? from : undefined,
    signals: shown.length > 0 ? shown : undefined,
  });
};

const origin = (
  details: RemoteIp | undefined,
  extra: { ip?: string | undefined; identity?: string | undefined; userAgent?: string | undefined; caller?: string | undefined } = {},
): Origin | undefined => {
  const from = compact({
    ip: cutOptional(details?.ipAddressV4 ?? details?.ipAddressV6 ?? extra.ip),
    city: cutOptional(details?.city?.cityName),
    country: cutOptional(details?.country?.countryName ?? details?.country?.countryCode),
    asn: asnText(details?.organization?.asn),
    asnOrg: cutOptional(details?.organization?.asnOrg ?? details?.organization?.org ?? details?.organization?.isp),
    identity: cutOptional(extra.identity || (extra.caller && extra.caller !== 'Remote IP' ? extra.caller : undefined)),
    userAgent: cutOptional(extra.userAgent),
  });
  return Object.keys(from).length > 0 ? from : undefined;
};

/** `AS64500`; GuardDuty writes -1 for an unknown AS number, which is left out. */
const asnText = (asn: unknown): string | undefined => {
  if (typeof asn === 'number' && Number.isFinite(asn)) return asn >= 0 ? `AS${asn}` : undefined;
  if (typeof asn === 'string' && asn.trim() !== '' && !asn.trim().startsWith('-')) return cut(/^\d+$/.test(asn.trim()) ? `AS${asn.trim()}` : asn.trim());
  return undefined;
};

const portText = (prefix: string, port: { port?: number; portName?: string } | undefined): string | undefined => {
  if (port?.port === undefined) return undefined;
  const named = port.portName && port.portName !== 'Unknown' ? ` (${port.portName})` : '';
  return `${prefix ? `${prefix} ` : ''}${port.port}${named}`;
};

const processText = (process: Record<string, unknown> | undefined): string | undefined => {
  if (process === undefined) return undefined;
  const name = str(process.name);
  const path = str(process.executablePath);
  const pid = typeof process.pid === 'number' ? `pid ${process.pid}` : undefined;
  const user = str(process.user) ? `user ${str(process.user)}` : undefined;
  const head = name && path && path !== name ? `${name} (${path})` : (name ?? path);
  return join([head, join([pid, user], ', ')], ', ');
};

/** The container the runtime process ran in: the resource's container, ECS task or Kubernetes workload. */
const containerText = (finding: GuardDutyFinding): string | undefined => {
  const resource = finding.resource;
  const direct = resource.containerDetails;
  const workload = record(resource.kubernetesDetails?.kubernetesWorkloadDetails);
  const task = record(resource.ecsClusterDetails?.taskDetails);
  const candidate = direct ?? record(array(workload?.containers)[0]) ?? record(array(task?.containers)[0]);
  if (candidate === undefined) return undefined;
  const name = str(candidate.name);
  const image = str(candidate.image);
  const where = workload && str(workload.name) ? `pod ${str(workload.namespace) ?? 'default'}/${str(workload.name)}` : undefined;
  return join([join([name, image ? `image ${image}` : undefined]), where], ', ');
};

/** The runtime context field that says what the process did, first match wins. */
const RUNTIME_CONTEXT_FIELDS: readonly (readonly [string, string])[] = [
  ['toolName', 'tool'],
  ['commandLineExample', 'command'],
  ['threatFilePath', 'file'],
  ['filePath', 'file'],
  ['scriptPath', 'script'],
  ['moduleName', 'kernel module'],
  ['libraryPath', 'library'],
  ['ldPreloadValue', 'LD_PRELOAD'],
  ['socketPath', 'socket'],
  ['mountSource', 'mount'],
  ['releaseAgentPath', 'release agent'],
  ['shellHistoryFilePath', 'shell history'],
];

const runtimeContextText = (context: Record<string, unknown> | undefined): string | undefined => {
  if (context === undefined) return undefined;
  const found = RUNTIME_CONTEXT_FIELDS.find(([field]) => str(context[field]) !== undefined);
  const target = processText(record(context.targetProcess));
  return join([found ? `${found[1]} ${str(context[found[0]])}` : undefined, target ? `target ${target}` : undefined]);
};

/** EBS volume scans (highest-severity threat, files infected) and backup/S3 scans (threat and path). */
const malwareText = (ebs: unknown, scan: unknown): string | undefined => {
  const detections = record(record(ebs)?.scanDetections);
  if (detections) {
    const worst = record(detections.highestSeverityThreatDetails);
    const names = array(record(detections.threatDetectedByName)?.threatNames).map(record);
    const path = str(record(array(names[0]?.filePaths)[0])?.filePath);
    const infected = record(detections.threatsDetectedItemCount)?.files;
    const scanned = record(detections.scannedItemCount)?.files;
    return join([
      join([str(worst?.threatName) ?? str(names[0]?.name), path ? `in ${path}` : undefined]),
      typeof infected === 'number' ? `${infected} infected file${infected === 1 ? '' : 's'}${typeof scanned === 'number' ? ` of ${scanned} scanned` : ''}` : undefined,
    ], ', ');
  }
  const threats = array(record(scan)?.threats).map(record).filter((t): t is Record<string, unknown> => t !== undefined);
  if (threats.length === 0) return undefined;
  const first = threats[0]!;
  const path = str(record(array(first.itemPaths)[0])?.nestedItemPath) ?? str(record(array(first.itemDetails)[0])?.itemPath);
  return join([join([str(first.name), path ? `in ${path}` : undefined]), threats.length > 1 ? `+${threats.length - 1} more threats` : undefined], ', ');
};

// ── Reading untyped parts of the finding, bounded ────────────────────────────

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
/** At most 50 items of an array: a hostile finding cannot make a summary walk a huge list. */
const array = (value: unknown): unknown[] => (Array.isArray(value) ? value.slice(0, 50) : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
const cut = (text: string): string => (text.length > VALUE_LIMIT ? `${text.slice(0, VALUE_LIMIT - 1)}…` : text);
const cutOptional = (text: string | undefined): string | undefined => (text === undefined || text.trim() === '' ? undefined : cut(text));
const join = (parts: readonly (string | undefined)[], separator = ' '): string | undefined => {
  const text = parts.filter((part): part is string => part !== undefined && part !== '').join(separator);
  return text === '' ? undefined : cut(text);
};
const listText = (items: readonly string[]): string =>
  items.length > LIST_LIMIT ? `${items.slice(0, LIST_LIMIT).join(', ')} +${items.length - LIST_LIMIT} more` : items.join(', ');
/** Drops undefined members so golden JSON shows only what the finding has. */
const compact = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/** GuardDuty timestamps (ISO or epoch seconds/ms) as ISO to the second, UTC. */
const isoSecond = (value: string | number | undefined): string | undefined => {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? (value < 1e12 ? value * 1000 : value) : Date.parse(value);
  if (!Number.isFinite(ms)) return typeof value === 'string' ? cut(value) : undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
};

// ── The one plain-text rendering every target escapes for its own format ─────

interface ActorFact {
  label: 'What' | 'From' | 'Caller' | 'Process' | 'Container' | 'Signals' | 'Seen';
  value: string;
}

/** `203.0.113.252, Bucharest, Romania, AS9009 M247 Europe SRL` */
const originText = (from: Origin | undefined): string | undefined => {
  if (from === undefined) return undefined;
  const network = join([from.asn, from.asnOrg]);
  return join([from.ip, from.city, from.country, network], ', ');
};

const callerText = (from: Origin | undefined): string | undefined =>
  join([from?.identity, from?.userAgent ? `user agent ${from.userAgent}` : undefined], ', ');

/** `first 2026-01-30T02:29:02Z, last 2026-01-30T11:42:57Z, 12 times` */
const seenText = (summary: ActorSummary): string =>
  join([summary.firstSeen ? `first ${summary.firstSeen}` : undefined, summary.lastSeen ? `last ${summary.lastSeen}` : undefined, `${summary.count} time${summary.count === 1 ? '' : 's'}`], ', ')!;

/** The summary as labelled one-line facts, in reading order (the resource is shown by each target already). */
const actorFacts = (summary: ActorSummary): ActorFact[] => {
  const facts: (ActorFact | undefined)[] = [
    { label: 'What', value: summary.detail ? `${summary.action}: ${summary.detail}` : summary.action },
    fact('From', originText(summary.from)),
    fact('Caller', callerText(summary.from)),
    fact('Process', summary.process),
    fact('Container', summary.container),
    fact('Signals', summary.signals?.join('; ')),
    { label: 'Seen', value: seenText(summary) },
  ];
  return facts.filter((f): f is ActorFact => f !== undefined);
};

const fact = (label: ActorFact['label'], value: string | undefined): ActorFact | undefined => (value === undefined ? undefined : { label, value });

export { actorSummary, actorFacts };
export type { ActorFact, ActionKind };
