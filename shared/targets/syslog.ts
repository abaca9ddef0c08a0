import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { readFile } from 'node:fs/promises';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { DeliveryError, DestinationRefusedError } from '../errors.ts';
import { timestampMs } from '../formats/ocsf.ts';
import type { SeverityLabel } from '../severity.ts';
import { TRUNCATION_MARKER, truncate } from '../text.ts';
import { CEF_ESCAPE, cefEvent, formatCef } from './cef.ts';
import { checkDestination, isPrivateAddress } from './http.ts';
import { jsonLine } from './siem-json.ts';
import { FACILITY_NAMES, frameOctetCounted, frameWithin, messagePrefix, type Facility, type Severity } from './rfc5424.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';

/**
 * RFC 5424 syslog over TCP (RFC 6587 octet counting) or TLS, one connection per finding:
 * connect, write the frame, close, and wait for the close within the deadline. The MSG is a
 * CEF line (default) or a compact JSON summary; the frame is cut to `maxMessageBytes`.
 *
 * TLS always verifies the collector's certificate (CA file or the system CAs); certificate
 * errors are permanent, connection errors and timeouts retryable. Plain TCP and private or
 * loopback destinations need `allowPrivateNetwork: true`, like plain http for HTTP targets.
 */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

const SyslogConfigSchema = z.strictObject({
  type: z.literal('syslog'),
  host: z.string().check(
    z.refine((host) => isIP(host) !== 0 || (host.length <= 253 && HOST.test(host)), 'expected a host name or an IP address'),
  ),
  port: z.optional(z.int().check(z.minimum(1), z.maximum(65535))),
  tls: z.optional(
    z.union([
      z.boolean(),
      z.strictObject({
        ca: z.optional(z.string().check(z.minLength(1))),
        servername: z.optional(z.string().check(z.minLength(1))),
      }),
    ]),
  ),
  facility: z.optional(z.enum(FACILITY_NAMES)),
  format: z.optional(z.enum(['cef', 'json'])),
  hostname: z.optional(z.string().check(z.regex(/^[\x21-\x7e]{1,255}$/, 'expected 1-255 printable ASCII characters, no spaces'))),
  maxMessageBytes: z.optional(z.int().check(z.minimum(2048), z.maximum(1_048_576))),
  allowPrivateNetwork: z.optional(z.boolean()),
});
type SyslogConfig = z.infer<typeof SyslogConfigSchema>;

const APP_NAME = 'findings-router';
const MSG_ID = 'GD_FINDING';
/** `32473` is the private enterprise number RFC 5612 reserves for documentation. */
const SD_ID = 'guardduty@32473';
const DEFAULT_MAX_MESSAGE_BYTES = 8192;
const DEFAULT_FACILITY: Facility = 'local4';
const SD_FINDING_ID_LIMIT = 128;
const MIN_TIMEOUT_MS = 50;
/** After the frame is flushed, how long to wait for the collector to close before calling it sent. */
const CLOSE_GRACE_MS = 2_000;

const SYSLOG_SEVERITY: Record<SeverityLabel, Severity> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'notice',
};

interface RenderOptions {
  facility?: Facility | undefined;
  format?: 'cef' | 'json' | undefined;
  hostname?: string | undefined;
  maxMessageBytes?: number | undefined;
}

/** The JSON MSG: a flat summary whose every string is at most `cap` characters (marker included). */
const jsonSummary = (enriched: EnrichedFinding, cap: number): string => {
  const { finding, enrichment: e } = enriched;
  const text = (value: string | undefined) => (value === undefined ? undefined : truncate(value, cap));
  return jsonLine({
    findingId: text(finding.id),
    arn: text(finding.arn),
    type: text(finding.type),
    title: text(finding.title),
    severity: finding.severity,
    severityLabel: e.severityLabel,
    accountId: finding.accountId,
    accountName: text(e.account.name),
    region: text(finding.region),
    resourceType: text(e.resourceType),
    resource: text(e.resourceSummary),
    count: e.count,
    sample: e.sample,
    archived: e.archived,
    createdAt: typeof finding.createdAt === 'string' ? text(finding.createdAt) : finding.createdAt,
    updatedAt: typeof finding.updatedAt === 'string' ? text(finding.updatedAt) : finding.updatedAt,
    consoleUrl: text(e.consoleUrl),
    description: text(finding.description),
  });
};

/** The JSON frame, cutting the longest strings down to a common length until it fits. */
const jsonFrame = (prefix: string, enriched: EnrichedFinding, maxFrameBytes: number): string => {
  const fits = (msg: string) => Buffer.byteLength(frameOctetCounted(prefix + msg)) <= maxFrameBytes;
  const full = jsonSummary(enriched, Number.MAX_SAFE_INTEGER);
  if (fits(full)) return frameOctetCounted(prefix + full);
  let [low, high, best] = [0, full.length, jsonSummary(enriched, 0)];
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const candidate = jsonSummary(enriched, middle);
    if (fits(candidate)) {
      best = candidate;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  if (!fits(best)) throw new Error(`a syslog frame cannot fit in ${maxFrameBytes} bytes`);
  return frameOctetCounted(prefix + best);
};

/**
 * The CEF frame. The extension is what a cut shortens; only when the frame limit cannot hold
 * the CEF header and the first pair (a long multi-byte title near the 2,048-byte minimum) is
 * the name cut too, so the seven header fields and at least one pair always arrive whole.
 */
const cefFrame = (prefix: string, enriched: EnrichedFinding, maxFrameBytes: number): string => {
  const event = cefEvent(enriched);
  const headerFits = (name: string) =>
    Buffer.byteLength(frameOctetCounted(`${prefix}${formatCef({ header: { ...event.header, name }, extension: event.extension.slice(0, 1) })} ${TRUNCATION_MARKER}`)) <=
    maxFrameBytes;
  if (!headerFits(event.header.name)) {
    let [low, high, best] = [0, event.header.name.length, truncate(event.header.name, 0)];
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      const candidate = truncate(event.header.name, middle);
      if (headerFits(candidate)) {
        best = candidate;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    event.header.name = best;
  }
  return frameWithin(prefix, formatCef(event), maxFrameBytes, CEF_ESCAPE);
};

/** The octet-counted frame for one finding. Pure. */
const renderSyslogFrame = (enriched: EnrichedFinding, options: RenderOptions = {}): string => {
  const { finding, enrichment: e } = enriched;
  const maxFrameBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const prefix = messagePrefix({
    facility: options.facility ?? DEFAULT_FACILITY,
    severity: SYSLOG_SEVERITY[e.severityLabel],
    timestampMs: timestampMs(finding.updatedAt),
    hostname: options.hostname,
    appName: APP_NAME,
    procId: undefined,
    msgId: MSG_ID,
    structuredData: [
      {
        id: SD_ID,
        params: [
          ['findingId', truncate(finding.id, SD_FINDING_ID_LIMIT)],
          ['severity', String(finding.severity)],
          ['accountId', finding.accountId],
          ['type', truncate(finding.type, 100)],
        ],
      },
    ],
  });
  return (options.format ?? 'cef') === 'cef'
    ? cefFrame(prefix, enriched, maxFrameBytes)
    : jsonFrame(prefix, enriched, maxFrameBytes);
};

// ── Sending ──────────────────────────────────────────────────────────────────

const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(?:GET|VERIFY)|ALTNAME|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH/;
const PRIVATE_REFUSED = 'EPRIVATEADDRESS';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup for net/tls.connect that refuses private, loopback and link-local answers:
 * the address actually connected to is checked, not only an earlier resolution.
 */
const publicOnlyLookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    if (addresses.length === 0 || addresses.some((entry) => isPrivateAddress(entry.address))) {
      return callback(Object.assign(new Error(`${hostname} resolves to a private, loopback or link-local address`), { code: PRIVATE_REFUSED }), []);
    }
    if (options.all) return callback(null, addresses);
    const [first] = addresses as [LookupAddress];
    callback(null, first.address, first.family);
  });
};

interface Connection {
  host: string;
  port: number;
  tls: { ca: string | undefined; servername: string | undefined } | undefined;
  allowPrivateNetwork: boolean;
}

/** Connects, writes `frame`, half-closes and resolves once the peer closed (or the data is flushed at the deadline). */
const transmit = (target: string, connection: Connection, frame: string, timeoutMs: number): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const where = `${connection.host}:${connection.port}`;
    const base = {
      host: connection.host,
      port: connection.port,
      ...(connection.allowPrivateNetwork ? {} : { lookup: publicOnlyLookup }),
    };
    const socket: Socket = connection.tls
      ? tlsConnect({
          ...base,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          ...(connection.tls.ca === undefined ? {} : { ca: connection.tls.ca }),
          ...(connection.tls.servername === undefined ? {} : { servername: connection.tls.servername }),
        })
      : netConnect(base);
    const endsAt = Date.now() + timeoutMs;
    let flushed = false;
    let settled = false;
    const settle = (error?: DeliveryError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    // Syslog has no acknowledgement: once the frame is flushed and the FIN sent, a collector that
    // keeps the connection open has the bytes anyway, and a retry would only duplicate them.
    let timer = setTimeout(() => {
      if (flushed) settle();
      else settle(new DeliveryError(target, `syslog to ${where} timed out`, { retryable: true }));
    }, timeoutMs);
    socket.once(connection.tls ? 'secureConnect' : 'connect', () => socket.end(frame));
    socket.once('finish', () => {
      flushed = true;
      clearTimeout(timer);
      timer = setTimeout(() => settle(), Math.min(CLOSE_GRACE_MS, Math.max(0, endsAt - Date.now())));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => settle(classifySocketError(target, where, error)));
    socket.once('close', () => {
      if (flushed) settle();
      else settle(new DeliveryError(target, `syslog to ${where}: connection closed before the message was sent`, { retryable: true }));
    });
  });

const classifySocketError = (target: string, where: string, error: NodeJS.ErrnoException): DeliveryError => {
  const code = error.code ?? 'error';
  if (code === PRIVATE_REFUSED) {
    return new DestinationRefusedError(target, `${where}: ${error.message} (set allowPrivateNetwork: true to allow)`);
  }
  const detail = `${code}${error.message && !error.message.includes(code) ? ` ${error.message}` : ''}`;
  if (CERTIFICATE_ERROR.test(code)) {
    return new DeliveryError(target, `syslog to ${where}: TLS certificate rejected: ${detail}`, { retryable: false });
  }
  return new DeliveryError(target, `syslog to ${where} failed: ${detail}`, { retryable: true });
};

const syslogSpec: TargetSpec<SyslogConfig> = {
  type: 'syslog',
  category: 'siem',
  updates: 'every-update',
  digest: false,
  local: false,
  configSchema: SyslogConfigSchema,
};

const syslogTarget: TargetDefinition<SyslogConfig> = /* @__PURE__ */ defineTarget(syslogSpec, {
  example: { type: 'syslog', host: 'siem.example.com' },
  summary: 'RFC 5424 syslog over TCP or TLS (octet counting), CEF or JSON message, structured data per finding.',
  create: (name, config) => {
    const tlsSettings = config.tls === undefined || config.tls === false ? undefined : config.tls === true ? {} : config.tls;
    const port = config.port ?? (tlsSettings ? 6514 : 514);
    const options: RenderOptions = {
      facility: config.facility,
      format: config.format,
      hostname: config.hostname,
      maxMessageBytes: config.maxMessageBytes,
    };
    const bracketed = isIP(config.host) === 6 ? `[${config.host}]` : config.host;
    let ca: Promise<string> | undefined;
    const readCa = (path: string): Promise<string> => {
      ca ??= readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
        ca = undefined;
        throw new DeliveryError(name, `cannot read tls.ca ${path}: ${cause.code ?? 'error'}`, { retryable: false }, { cause });
      });
      return ca;
    };
    return {
      name,
      render: (enriched) => ({ body: renderSyslogFrame(enriched, options), contentType: 'text/plain; charset=utf-8', extension: 'log' }),
      send: async ({ payload, ...delivery }) => {
        const allowPrivateNetwork = config.allowPrivateNetwork === true;
        if (!tlsSettings && !allowPrivateNetwork) {
          throw new DestinationRefusedError(
            name,
            `plain TCP to ${config.host}:${port} refused: set tls, or allowPrivateNetwork: true for a collector on a private network`,
          );
        }
        await checkDestination({ target: name, url: `https://${bracketed}:${port}/`, deadline: delivery.deadline, allowPrivateNetwork });
        const caText = tlsSettings?.ca === undefined ? undefined : await readCa(tlsSettings.ca);
        const timeoutMs = delivery.deadline - Date.now();
        if (timeoutMs < MIN_TIMEOUT_MS) throw new DeliveryError(name, 'no time left for the syslog connection', { retryable: true });
        await transmit(
          name,
          {
            host: config.host,
            port,
            tls: tlsSettings ? { ca: caText, servername: tlsSettings.servername } : undefined,
            allowPrivateNetwork,
          },
          payload.body,
          timeoutMs,
        );
      },
    };
  },
});

export { syslogTarget, syslogSpec, SyslogConfigSchema, publicOnlyLookup };
export type { SyslogConfig };
