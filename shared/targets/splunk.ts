import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { idempotencyKey } from '../delivery/job.ts';
import { DeliveryError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { SecretRefSchema } from '../secrets.ts';
import type { HttpClient, HttpResponse } from './http.ts';
import { byteLength, fitJson, jsonLine, timestampMs } from './siem-json.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';

/**
 * Splunk HTTP Event Collector: one JSON event per finding update to
 * `POST {url}/services/collector/event` with `Authorization: Splunk <token>`.
 * Success is HTTP 200 with `{"text":"Success","code":0}`; a non-zero `code` is a failure
 * even on 200 and is classified by code. HEC has no server-side dedup, so every event
 * carries `fields.event_id` (the delivery idempotency key) for `| dedup event_id`.
 * With `useAck`, the event is only delivered once `/services/collector/ack` says so.
 */
const HEC_EVENT_PATH = 'services/collector/event';
const HEC_ACK_PATH = 'services/collector/ack';

/** Conservative request cap: the historical `max_content_length` default (1,000,000 bytes). */
const DEFAULT_MAX_REQUEST_BYTES = 1_000_000;

/** Splunk index names: lowercase letters, digits, `_` and `-`, not starting with `_` or `-`. */
const INDEX_NAME = /^[a-z0-9][a-z0-9_-]*$/;

const HttpUrl = z.string().check(
  z.url(),
  z.refine((url) => /^https?:\/\//i.test(url), { message: 'expected an http(s) URL' }),
  z.refine((url) => !/[?#]/.test(url), { message: 'expected the HEC base URL, without query or fragment' }),
);

const SplunkConfigSchema = z.strictObject({
  type: z.literal('splunk'),
  /** HEC base URL, e.g. https://splunk.example.com:8088 (the path is appended). */
  url: HttpUrl,
  token: SecretRefSchema,
  index: z.optional(z.string().check(z.regex(INDEX_NAME, 'expected a Splunk index name (lowercase letters, digits, _ and -)'))),
  source: z.optional(z.string().check(z.minLength(1))),
  sourcetype: z.optional(z.string().check(z.minLength(1))),
  host: z.optional(z.string().check(z.minLength(1))),
  format: z.optional(z.enum(['raw', 'enriched'])),
  useAck: z.optional(z.boolean()),
  maxRequestBytes: z.optional(z.number().check(z.int(), z.minimum(4_096))),
  allowPrivateNetwork: z.optional(z.boolean()),
});
type SplunkConfig = z.infer<typeof SplunkConfigSchema>;

interface HecEvent {
  time?: number;
  host: string;
  source: string;
  sourcetype: string;
  index?: string;
  event: unknown;
  fields: Record<string, string>;
}

/** The HEC JSON event for one finding update; pure. `time` is epoch seconds with milliseconds. */
const buildHecEvent = (enriched: EnrichedFinding, config: SplunkConfig, eventId: string): HecEvent => {
  const { finding, enrichment } = enriched;
  const ms = timestampMs(finding.updatedAt);
  const fields: Record<string, string> = { severity_label: enrichment.severityLabel, account_id: finding.accountId, event_id: eventId };
  if (enrichment.account.name !== undefined) fields.account_name = enrichment.account.name;
  const event: HecEvent = {
    ...(ms === undefined ? {} : { time: Math.round(ms) / 1000 }),
    host: config.host ?? finding.accountId,
    source: config.source ?? 'guardduty',
    sourcetype: config.sourcetype ?? 'aws:cloudwatch:guardduty',
    ...(config.index === undefined ? {} : { index: config.index }),
    event: (config.format ?? 'raw') === 'enriched' ? enriched : finding,
    fields,
  };
  const limit = config.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (byteLength(jsonLine(event)) <= limit) return event;
  // Over the cap: cut the longest strings of the whole event (marker visible) until it fits.
  const fitted = fitJson(event, limit);
  if (fitted === undefined) throw new Error(`finding ${finding.id} cannot be made to fit ${limit} bytes`);
  return fitted.value;
};

/** A stable channel GUID per target (UUID v5 layout over SHA-1), so acks survive cold starts. */
const CHANNEL_NAMESPACE = Buffer.from('6f1c1a0e5b1d4c4a9d3e2f7a8b9c0d1e', 'hex');
const requestChannel = (targetName: string): string => {
  const hash = createHash('sha1').update(CHANNEL_NAMESPACE).update(targetName, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * HEC status codes (Splunk "Troubleshoot HTTP Event Collector"): true = worth retrying.
 * 8 internal error, 9 server busy, 18/19 unhealthy (queues full / ack service unavailable).
 */
const HEC_CODE_RETRYABLE: Record<number, boolean> = {
  1: false, // Token disabled (403)
  2: false, // Token is required (401)
  3: false, // Invalid authorization (401)
  4: false, // Invalid token (403)
  5: false, // No data (400)
  6: false, // Invalid data format (400)
  7: false, // Incorrect index (400)
  8: true, // Internal server error (500)
  9: true, // Server is busy (503)
  10: false, // Data channel is missing (400)
  11: false, // Invalid data channel (400)
  12: false, // Event field is required (400)
  13: false, // Event field cannot be blank (400)
  14: false, // ACK is disabled (400)
  15: false, // Error in handling indexed fields (400)
  16: false, // Query string authorization is not enabled (400)
  18: true, // HEC is unhealthy, queues are full (503)
  19: true, // HEC is unhealthy, ack service unavailable (503)
};

interface HecReply {
  text?: unknown;
  code?: unknown;
  ackId?: unknown;
  acks?: unknown;
}

const parseReply = (body: string): HecReply | undefined => {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as HecReply) : undefined;
  } catch {
    return undefined;
  }
};

/** The HEC `code` inside an error message built by the HTTP client (it quotes the body). */
const codeInMessage = (message: string): number | undefined => {
  const match = /"code"\s*:\s*(\d+)/.exec(message);
  return match ? Number(match[1]) : undefined;
};

/** Re-classifies a non-2xx HEC answer by its body `code` when it carries one. */
const reclassify = (name: string, error: unknown): unknown => {
  if (!(error instanceof DeliveryError) || error.status === undefined) return error;
  const code = codeInMessage(error.message);
  const retryable = code === undefined ? undefined : HEC_CODE_RETRYABLE[code];
  if (retryable === undefined || retryable === error.retryable) return error;
  return new DeliveryError(name, `${error.message} (HEC code ${code})`, {
    retryable,
    status: error.status,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  });
};

/** 200 with a HEC body: code 0 is success; any other code is a failure classified by code. */
const checkReply = (name: string, response: HttpResponse, secrets: readonly string[]): HecReply => {
  const reply = parseReply(response.body);
  if (reply === undefined || typeof reply.code !== 'number') {
    const snippet = redactText(response.body, secrets, { oneLine: true, maxLength: 100 });
    throw new DeliveryError(name, `HTTP ${response.status} is not a Splunk HEC answer (check url)${snippet ? `: ${snippet}` : ''}`, {
      retryable: false,
      status: response.status,
    });
  }
  if (reply.code !== 0) {
    const text = typeof reply.text === 'string' ? redactText(reply.text, secrets, { oneLine: true, maxLength: 100 }) : 'unknown';
    throw new DeliveryError(name, `HTTP ${response.status} with HEC code ${reply.code}: ${text}`, {
      retryable: HEC_CODE_RETRYABLE[reply.code] ?? false,
      status: response.status,
    });
  }
  return reply;
};

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 2_000;
/** Leave at least this much of the deadline for one ack request. */
const MIN_REQUEST_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface AckContext {
  name: string;
  http: HttpClient;
  url: string;
  headers: Record<string, string>;
  deadline: number;
  allowPrivateNetwork: boolean;
  secrets: readonly string[];
}

/** Polls `/services/collector/ack` until `ackId` is true; `false` means "not yet / unknown". */
const awaitAck = async (context: AckContext, ackId: number): Promise<void> => {
  let interval = FIRST_POLL_MS;
  for (;;) {
    if (Date.now() + interval + MIN_REQUEST_MS >= context.deadline) {
      throw new DeliveryError(context.name, `HEC did not acknowledge ackId ${ackId} before the deadline`, { retryable: true });
    }
    await sleep(interval);
    interval = Math.min(interval * 2, MAX_POLL_MS);
    let response: HttpResponse;
    try {
      response = await context.http.send({
        target: context.name,
        url: context.url,
        headers: context.headers,
        body: JSON.stringify({ acks: [ackId] }),
        deadline: context.deadline,
        allowPrivateNetwork: context.allowPrivateNetwork,
        secrets: context.secrets,
      });
    } catch (error) {
      throw reclassify(context.name, error);
    }
    const reply = parseReply(response.body);
    const acks = reply?.acks;
    if (acks === null || typeof acks !== 'object') {
      if (reply !== undefined && typeof reply.code === 'number') checkReply(context.name, response, context.secrets);
      throw new DeliveryError(context.name, `HTTP ${response.status}: unrecognised HEC ack answer`, { retryable: true, status: response.status });
    }
    if ((acks as Record<string, unknown>)[String(ackId)] === true) return;
  }
};

const joinUrl = (base: string, path: string): string => `${base.replace(/\/+$/, '')}/${path}`;

const splunkSpec: TargetSpec<SplunkConfig> = {
  type: 'splunk',
  category: 'siem',
  updates: 'every-update',
  digest: false,
  local: false,
  configSchema: SplunkConfigSchema,
};

const splunkTarget: TargetDefinition<SplunkConfig> = /* @__PURE__ */ defineTarget(splunkSpec, {
  // HEC always answers with a JSON status: a 204 is not HEC (a proxy, a wrong path), and will not become HEC.
  statusExceptions: { 204: 'permanent' },
  example: { type: 'splunk', url: 'https://splunk.example.com:8088', token: { env: 'SPLUNK_HEC_TOKEN' } },
  summary: 'Splunk HTTP Event Collector: one JSON event per finding update, optional indexer acknowledgement.',
  create: (name, config, { secrets, http }) => {
    const channel = requestChannel(name);
    return {
      name,
      render: (enriched) => ({
        body: jsonLine(buildHecEvent(enriched, config, idempotencyKey(name, enriched))),
        contentType: 'application/json',
        extension: 'json',
      }),
      send: async ({ payload, ...delivery }) => {
        const token = await secrets.resolve(config.token);
        const tokenSecrets = [token];
        const headers: Record<string, string> = {
          authorization: `Splunk ${token}`,
          'content-type': 'application/json',
          'user-agent': 'findings-router',
        };
        if (config.useAck === true) headers['x-splunk-request-channel'] = channel;
        const allowPrivateNetwork = config.allowPrivateNetwork === true;
        let response: HttpResponse;
        try {
          response = await http.send({
            target: name,
            url: joinUrl(config.url, HEC_EVENT_PATH),
            headers,
            body: payload.body,
            deadline: delivery.deadline,
            allowPrivateNetwork,
            secrets: tokenSecrets,
          });
        } catch (error) {
          throw reclassify(name, error);
        }
        const reply = checkReply(name, response, tokenSecrets);
        // A token without indexer acknowledgement answers without ackId: HTTP 200 is then the strongest signal.
        if (config.useAck !== true || typeof reply.ackId !== 'number') return;
        await awaitAck(
          { name, http, url: joinUrl(config.url, HEC_ACK_PATH), headers, deadline: delivery.deadline, allowPrivateNetwork, secrets: tokenSecrets },
          reply.ackId,
        );
      },
    };
  },
});

export { splunkTarget, splunkSpec, SplunkConfigSchema, buildHecEvent, requestChannel };
export type { SplunkConfig };
