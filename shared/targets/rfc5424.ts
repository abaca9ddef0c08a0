import { truncate } from '../text.ts';

/**
 * RFC 5424 syslog messages with RFC 6587 §3.4.1 octet-counting framing. Pure.
 *
 * SYSLOG-MSG = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
 * Frame      = MSG-LEN SP SYSLOG-MSG   (MSG-LEN: the octet count of SYSLOG-MSG)
 *
 * Header fields are PRINTUSASCII (%d33-126) with maximum lengths 255 (HOSTNAME), 48
 * (APP-NAME), 128 (PROCID) and 32 (MSGID); `-` is the NILVALUE. An SD-NAME (SD-ID or
 * PARAM-NAME) is 1-32 PRINTUSASCII except `=`, SP, `]` and `"`. In a PARAM-VALUE, `"`, `\`
 * and `]` MUST be escaped with a backslash (§6.3.3). MSG is sent as MSG-ANY (no BOM): many
 * SIEM parsers expect the CEF or JSON body to start the MSG.
 */
const FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  audit: 13,
  alert: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
type Facility = keyof typeof FACILITIES;
const FACILITY_NAMES = Object.keys(FACILITIES) as [Facility, ...Facility[]];

/** RFC 5424 §6.2.1 severities. */
const SEVERITIES = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  informational: 6,
  debug: 7,
} as const;
type Severity = keyof typeof SEVERITIES;

const NILVALUE = '-';
const PRINTUSASCII = /^[\x21-\x7e]+$/;
const SD_NAME = /^[\x21-\x7e]{1,32}$/;

const priority = (facility: Facility, severity: Severity): number => FACILITIES[facility] * 8 + SEVERITIES[severity];

/** A valid SD-ID or PARAM-NAME (§6.3.2, §6.3.3). */
const isSdName = (name: string): boolean => SD_NAME.test(name) && !/[= \]"]/.test(name);

/** PARAM-VALUE escaping (§6.3.3); control characters are dropped or made spaces (one-line values). */
const escapeParamValue = (value: string): string =>
  value
    .replace(/[\r\n\t]/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[\\"\]]/g, (character) => `\\${character}`);

interface SdElement {
  id: string;
  params: readonly (readonly [string, string])[];
}

/** STRUCTURED-DATA: `-`, or the elements side by side. Names are checked: they are ours, not the finding's. */
const formatStructuredData = (elements: readonly SdElement[]): string => {
  if (elements.length === 0) return NILVALUE;
  return elements
    .map(({ id, params }) => {
      if (!isSdName(id)) throw new Error(`invalid SD-ID ${JSON.stringify(id)}`);
      const body = params.map(([name, value]) => {
        if (!isSdName(name)) throw new Error(`invalid PARAM-NAME ${JSON.stringify(name)}`);
        return ` ${name}="${escapeParamValue(value)}"`;
      });
      return `[${id}${body.join('')}]`;
    })
    .join('');
};

/** A header field: PRINTUSASCII up to `max`, else NILVALUE. */
const headerField = (value: string | undefined, max: number): string =>
  value !== undefined && value.length <= max && PRINTUSASCII.test(value) ? value : NILVALUE;

/** TIMESTAMP (§6.2.3): RFC 3339 in UTC with milliseconds, or NILVALUE. */
const formatTimestamp = (ms: number | undefined): string =>
  ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > 253402300799999 ? NILVALUE : new Date(ms).toISOString();

interface SyslogHeader {
  facility: Facility;
  severity: Severity;
  timestampMs: number | undefined;
  hostname: string | undefined;
  appName: string;
  procId: string | undefined;
  msgId: string;
  structuredData: readonly SdElement[];
}

/** Everything before MSG, including the SP that separates it. */
const messagePrefix = (header: SyslogHeader): string =>
  [
    `<${priority(header.facility, header.severity)}>1`,
    formatTimestamp(header.timestampMs),
    headerField(header.hostname, 255),
    headerField(header.appName, 48),
    headerField(header.procId, 128),
    headerField(header.msgId, 32),
    formatStructuredData(header.structuredData),
  ].join(' ') + ' ';

const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/** RFC 6587 §3.4.1: `MSG-LEN SP SYSLOG-MSG`. */
const frameOctetCounted = (message: string): string => `${byteLength(message)} ${message}`;

const frameBytes = (messageBytes: number): number => String(messageBytes).length + 1 + messageBytes;

/**
 * The octet-counted frame of `prefix + msg`, with `msg` cut (by characters, marker included,
 * never inside a surrogate pair or an `atomic` escape) so the whole frame fits `maxFrameBytes`.
 * Throws when even the prefix and the marker do not fit: a configuration error.
 */
const frameWithin = (prefix: string, msg: string, maxFrameBytes: number, atomic?: RegExp): string => {
  const fits = (candidate: string): boolean => frameBytes(byteLength(prefix) + byteLength(candidate)) <= maxFrameBytes;
  if (fits(msg)) return frameOctetCounted(prefix + msg);
  // Largest character budget whose cut fits; the cut length grows with the budget.
  let low = 0;
  let high = msg.length - 1;
  let best: string | undefined;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const candidate = truncate(msg, middle, atomic);
    if (fits(candidate)) {
      best = candidate;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  if (best === undefined) throw new Error(`a syslog frame cannot fit in ${maxFrameBytes} bytes`);
  return frameOctetCounted(prefix + best);
};

export { FACILITY_NAMES, messagePrefix, frameOctetCounted, frameWithin };
export type { Facility, Severity };
