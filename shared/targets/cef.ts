import { isIPv4 } from 'node:net';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { timestampMs } from '../formats/ocsf.ts';
import { truncate } from '../text.ts';

/**
 * ArcSight Common Event Format (CEF:0) for a GuardDuty finding. Pure.
 *
 * `CEF:0|AWS|GuardDuty|1.0|<type>|<title>|<0-10>|<extension>`
 *
 * Encoding (CEF Implementation Standard, "Character Encoding"):
 * - header fields: `\` → `\\`, `|` → `\|`; a header may not span lines, so CR/LF/tab become a space;
 * - extension values: `\` → `\\`, `=` → `\=`, CR → `\r`, LF → `\n` (pipes need no escaping there);
 * - other C0/C1 control characters are dropped everywhere; tabs in values become spaces (some
 *   consumers split pairs on tabs), and values are trimmed of edge spaces (the standard does not
 *   preserve trailing spaces of the last pair and leaves leading ones ambiguous).
 *
 * Lengths from the extension dictionary (name 512, deviceEventClassId 1023, act 63,
 * cs1–cs6 4000, msg/request/cat/suser 1023, deviceExternalId 255, externalId 40) are applied
 * to the unescaped value with a visible marker, so a cut never lands inside an escape.
 * Severity is the GuardDuty score floored to 0–10, which keeps CEF's bands aligned with
 * GuardDuty's (0–3 Low, 4–6 Medium, 7–8 High, 9–10 Very-High).
 */
const CEF_VENDOR = 'AWS';
const CEF_PRODUCT = 'GuardDuty';
const CEF_DEVICE_VERSION = '1.0';
const NAME_LIMIT = 512;
const SIGNATURE_LIMIT = 1023;

/**
 * What a cut through a CEF line must not split: an escape sequence, or an extension key with
 * its `=` (a key cut in half would read as text of the previous value, or as no pair at all).
 */
const CEF_ESCAPE = /\\[\\|=nr]|(?<![^ |])[A-Za-z0-9]+=/;

interface CefHeader {
  signatureId: string;
  name: string;
  severity: number;
}

interface CefEvent {
  header: CefHeader;
  /** Ordered `[key, value]` pairs, values unescaped (what a parser must give back). */
  extension: [string, string][];
}

const OTHER_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** A header value as it will read after parsing: one line, no control characters, no edge spaces. */
const headerText = (value: string): string =>
  value.replace(OTHER_CONTROLS, '').replace(/[\r\n\t]/g, ' ').replace(/^ +| +$/g, '');

/** An extension value as it will read after parsing: CR/LF kept, tabs as spaces, no edge spaces. */
const cleanValue = (value: string, limit: number): string =>
  truncate(value.replace(OTHER_CONTROLS, '').replace(/\t/g, ' ').replace(/^ +| +$/g, ''), limit);

const escapeHeader = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');

const escapeExtensionValue = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r/g, '\\r').replace(/\n/g, '\\n');

const cefSeverity = (severity: number): number => Math.min(10, Math.max(0, Math.floor(severity)));

/** The CEF event for a finding, with every value already cut to its dictionary length. */
const cefEvent = (enriched: EnrichedFinding): CefEvent => {
  const { finding, enrichment: e } = enriched;
  const action = finding.service?.action;
  const network = action?.networkConnectionAction;
  const remote =
    network?.remoteIpDetails ??
    action?.awsApiCallAction?.remoteIpDetails ??
    action?.kubernetesApiCallAction?.remoteIpDetails ??
    action?.rdsLoginAttemptAction?.remoteIpDetails ??
    action?.portProbeAction?.portProbeDetails?.[0]?.remoteIpDetails;
  const localIp = finding.resource.instanceDetails?.networkInterfaces?.[0]?.privateIpAddress;
  const remotePort = network?.remotePortDetails?.port;
  const localPort = network?.localPortDetails?.port ?? action?.portProbeAction?.portProbeDetails?.[0]?.localPortDetails?.port;
  // GuardDuty reports the remote party; it is the source unless the instance connected out.
  const outbound = network?.connectionDirection === 'OUTBOUND';
  const [srcIp, dstIp, srcPort, dstPort] = outbound ? [localIp, remote?.ipAddressV4, localPort, remotePort] : [remote?.ipAddressV4, localIp, remotePort, localPort];
  const blocked = [network?.blocked, action?.portProbeAction?.blocked, action?.dnsRequestAction?.blocked].includes(true);
  const user =
    finding.resource.accessKeyDetails?.userName ??
    finding.resource.kubernetesDetails?.kubernetesUserDetails?.username ??
    finding.resource.rdsDbUserDetails?.user;

  const pairs: [string, string | number | undefined, number?][] = [
    ['rt', timestampMs(finding.updatedAt)],
    ['start', timestampMs(finding.service?.eventFirstSeen)],
    ['end', timestampMs(finding.service?.eventLastSeen)],
    ['cat', e.typeParts.threatPurpose, 1023],
    ['act', blocked ? 'blocked' : undefined, 63],
    ['src', srcIp !== undefined && isIPv4(srcIp) ? srcIp : undefined],
    ['spt', validPort(srcPort)],
    ['dst', dstIp !== undefined && isIPv4(dstIp) ? dstIp : undefined],
    ['dpt', validPort(dstPort)],
    ['proto', network?.protocol, 31],
    ['suser', user, 1023],
    ['cnt', Number.isSafeInteger(e.count) ? e.count : undefined],
    ['cs1Label', 'AWS Account'],
    ['cs1', finding.accountId, 4000],
    ['cs2Label', 'AWS Region'],
    ['cs2', finding.region, 4000],
    ['cs3Label', 'Finding ID'],
    ['cs3', finding.id, 4000],
    ['cs5Label', 'Account Name'],
    ['cs5', e.account.name, 4000],
    ['cs6Label', 'Finding ARN'],
    ['cs6', finding.arn, 4000],
    ['cfp1Label', 'GuardDuty Severity'],
    ['cfp1', finding.severity],
    ['deviceExternalId', finding.service?.detectorId, 255],
    // externalId holds 40 characters: a cut id would be a wrong id, so longer ones stay in cs3 only.
    ['externalId', finding.id.length <= 40 ? finding.id : undefined, 40],
    ['request', e.consoleUrl, 1023],
    ['cs4Label', 'Resource'],
    ['cs4', e.resourceSummary, 4000],
    // Last: the longest free text, so that a frame limit cuts it before anything else.
    ['msg', finding.description, 1023],
  ];
  const extension: [string, string][] = [];
  for (const [key, raw, limit] of pairs) {
    if (raw === undefined) continue;
    const value = typeof raw === 'number' ? String(raw) : cleanValue(raw, limit ?? 1023);
    if (value !== '') extension.push([key, value]);
  }
  // A custom field's label only goes with its value.
  const keys = new Set(extension.map(([key]) => key));
  const labelled = extension.filter(([key]) => !key.endsWith('Label') || keys.has(key.slice(0, -'Label'.length)));
  const type = headerText(finding.type);
  const title = headerText(finding.title ?? '') || type;
  return {
    header: {
      signatureId: truncate(type, SIGNATURE_LIMIT),
      name: truncate(`${e.sample ? '[SAMPLE] ' : ''}${title}`, NAME_LIMIT),
      severity: cefSeverity(finding.severity),
    },
    extension: labelled,
  };
};

const validPort = (port: number | undefined): number | undefined =>
  port !== undefined && Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;

/** Serialises a CEF event; keys must be CEF key names (letters and digits). */
const formatCef = (event: CefEvent): string => {
  const header = [
    'CEF:0',
    CEF_VENDOR,
    CEF_PRODUCT,
    CEF_DEVICE_VERSION,
    escapeHeader(event.header.signatureId),
    escapeHeader(event.header.name),
    String(event.header.severity),
  ].join('|');
  const extension = event.extension
    .map(([key, value]) => {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) throw new Error(`invalid CEF key ${JSON.stringify(key)}`);
      return `${key}=${escapeExtensionValue(value)}`;
    })
    .join(' ');
  return `${header}|${extension}`;
};

/** The CEF line for a finding (no syslog prefix, no newline). */
const renderCef = (enriched: EnrichedFinding): string => formatCef(cefEvent(enriched));

export { renderCef, cefEvent, formatCef, escapeHeader, escapeExtensionValue, cefSeverity, CEF_ESCAPE };
