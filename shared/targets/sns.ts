import { createHash } from 'node:crypto';
import type { MessageAttributeValue, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { DeliveryError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { actorFacts, actorSummary } from '../actor-summary.ts';
import { formatSeverity } from '../severity.ts';
import { stripBidi, stripControl, truncate } from '../text.ts';
import { checkDestination } from './http.ts';
import { defineTarget } from './define.ts';
import type { IamStatement, TargetDefinition, TargetSpec } from './types.ts';

/**
 * Amazon SNS topic: `Publish` with a plain-ASCII Subject (email subscribers' subject line),
 * a readable plain-text (or JSON) Message, and message attributes subscribers can filter on
 * (`severity`, `severityScore`, `findingType`, `accountId`, `region`). FIFO topics get a
 * MessageGroupId per finding and the delivery idempotency key as MessageDeduplicationId.
 *
 * SNS limits (Publish API reference): Subject is ASCII without line breaks or control
 * characters and under 100 characters; Message plus attributes at most 256 KB (262,144
 * bytes); MessageGroupId / MessageDeduplicationId up to 128 characters of `a-zA-Z0-9` and
 * ASCII punctuation. The SDK speaks the AWS Query protocol (form-encoded POST, XML answers).
 */
const TOPIC_ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):sns:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):([A-Za-z0-9_-]{1,251}(?:\.fifo)?|[A-Za-z0-9_-]{1,256})$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

const SnsConfigSchema = z
  .strictObject({
    type: z.literal('sns'),
    topicArn: z.string().check(z.regex(TOPIC_ARN, 'expected an SNS topic ARN: arn:aws:sns:<region>:<12-digit account>:<topic name>')),
    /** Defaults to the topic's region (Publish only works in the topic's region). */
    region: z.optional(z.string().check(z.regex(REGION, 'expected an AWS region such as eu-west-1'))),
    /** Another SNS endpoint (tests, VPC endpoints); plain http and private addresses need allowPrivateNetwork. */
    endpoint: z.optional(z.string().check(z.url())),
    /** `text` (default): readable for email and SMS. `json`: a summary plus the enriched finding. */
    format: z.optional(z.enum(['text', 'json'])),
    allowPrivateNetwork: z.optional(z.boolean()),
  })
  .check(
    z.refine((config) => config.region === undefined || config.region === topicRegion(config.topicArn), {
      message: 'region must be the topic ARN region (SNS publishes only within the topic region)',
      path: ['region'],
    }),
  );
type SnsConfig = z.infer<typeof SnsConfigSchema>;

const topicRegion = (arn: string): string | undefined => TOPIC_ARN.exec(arn)?.[2];
const isFifoTopic = (arn: string): boolean => arn.endsWith('.fifo');

/** "Less than 100 characters". */
const SUBJECT_LIMIT = 99;
/** Message plus attribute names, types and values. */
const SNS_MAX_BYTES = 262_144;
const TITLE_LIMIT = 1000;
const FIELD_LIMIT = 2000;
const DESCRIPTION_LIMIT = 20_000;
const ATTRIBUTE_LIMIT = 256;

const LINE_BREAKS = /[\r\n\u000b\u000c\u0085\u2028\u2029]+/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** One line of plain text: no control, bidi or line-break characters, valid UTF-16 (so valid UTF-8). */
const oneLine = (text: string | undefined): string =>
  stripBidi(stripControl((text ?? '').replace(LINE_BREAKS, ' ')))
    .replace(/\t/g, ' ')
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(/ {2,}/g, ' ')
    .trim();

const line = (text: string | undefined, limit: number): string => truncate(oneLine(text), limit);

/**
 * Printable ASCII (0x20-0x7E) only, starting with a letter, digit or punctuation, at most 99
 * characters; anything else becomes `?`, and a cut ends in `...` (the `…` marker is not ASCII).
 */
const snsSubject = (text: string): string => {
  const ascii = oneLine(text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')).replace(/[^\x20-\x7e]/g, '?').trim();
  const cut = ascii.length <= SUBJECT_LIMIT ? ascii : `${ascii.slice(0, SUBJECT_LIMIT - 3).trimEnd()}...`;
  return cut === '' ? 'GuardDuty finding' : cut;
};

const summaryFields = (enriched: EnrichedFinding) => {
  const { finding, enrichment: e } = enriched;
  return {
    severity: formatSeverity(finding.severity),
    account: e.account.name ? `${e.account.name} (${finding.accountId})` : `${finding.accountId} (unknown account)`,
    owner: e.account.tags.owner ?? e.account.email,
    title: `${e.sample ? '[SAMPLE] ' : ''}${finding.title ?? finding.type}`,
  };
};

/** A console URL is never cut (a cut link is a wrong link); an absurd one is left out instead. */
const CONSOLE_URL_LIMIT = 4096;
const consoleLink = (url: string): string =>
  url.length <= CONSOLE_URL_LIMIT && !/[\s\u0000-\u001f\u007f-\u009f]/.test(url) ? url : '(link too long to include: search the finding ID below)';

/** Bounded, valid UTF-16 text for a JSON summary field (JSON escaping keeps it inert). */
const cap = (text: string | undefined, limit: number): string => truncate((text ?? '').replace(LONE_SURROGATE, '\uFFFD'), limit);

/** The readable body for email and SMS subscribers: the key facts first, every value on one line. */
const snsTextMessage = (enriched: EnrichedFinding, scale = 1): string => {
  const { finding, enrichment: e } = enriched;
  const s = summaryFields(enriched);
  const limit = (n: number) => Math.max(80, Math.floor(n * scale));
  const lines = [
    `GuardDuty finding: ${line(s.severity, 100)} severity`,
    line(s.title, limit(TITLE_LIMIT)),
    '',
    `Account:  ${line(s.account, limit(FIELD_LIMIT))}`,
    ...(s.owner === undefined ? [] : [`Owner:    ${line(s.owner, limit(FIELD_LIMIT))}`]),
    `Resource: ${line(e.resourceSummary, limit(FIELD_LIMIT)) || 'unknown'}`,
    `Type:     ${line(finding.type, limit(FIELD_LIMIT))}`,
    `Region:   ${line(finding.region, limit(FIELD_LIMIT))}`,
    `Count:    ${e.count}`,
    // Who did what from where, since when (shared/actor-summary.ts).
    ...actorFacts(actorSummary(finding)).map(({ label, value }) => `${`${label}:`.padEnd(9)} ${line(value, limit(FIELD_LIMIT))}`),
    `Updated:  ${line(String(finding.updatedAt), 100)}`,
    '',
    line(finding.description, limit(DESCRIPTION_LIMIT)) || '(no description)',
    '',
    'Open in the GuardDuty console:',
    consoleLink(e.consoleUrl),
    '',
    `Finding ID: ${line(finding.id, limit(FIELD_LIMIT))}`,
  ];
  return `${lines.join('\n')}\n`;
};

/** The actor summary for JSON subscribers: its structured fields, every string bounded. */
const actorJson = (finding: EnrichedFinding['finding']): unknown =>
  JSON.parse(JSON.stringify(actorSummary(finding), (_key, value: unknown) => (typeof value === 'string' ? cap(value, FIELD_LIMIT) : value)));

/** JSON for programmatic subscribers (SQS, Lambda, HTTPS): a flat summary plus the enriched finding. */
const snsJsonMessage = (enriched: EnrichedFinding, withFinding = true): string => {
  const { finding, enrichment: e } = enriched;
  const s = summaryFields(enriched);
  return JSON.stringify({
    source: 'guardduty-findings-router',
    severity: finding.severity,
    severityLabel: e.severityLabel,
    severityText: s.severity,
    title: cap(s.title, TITLE_LIMIT),
    type: cap(finding.type, FIELD_LIMIT),
    accountId: cap(finding.accountId, FIELD_LIMIT),
    accountName: e.account.name === undefined ? null : cap(e.account.name, FIELD_LIMIT),
    owner: s.owner === undefined ? null : cap(s.owner, FIELD_LIMIT),
    region: cap(finding.region, FIELD_LIMIT),
    resource: cap(e.resourceSummary, FIELD_LIMIT),
    count: e.count,
    actor: actorJson(finding),
    sample: e.sample,
    findingId: cap(finding.id, FIELD_LIMIT),
    updatedAt: typeof finding.updatedAt === 'string' ? cap(finding.updatedAt, 100) : finding.updatedAt,
    consoleUrl: consoleLink(e.consoleUrl),
    ...(withFinding ? { finding, enrichment: e } : { findingOmitted: 'the finding exceeds the SNS 256 KB message limit' }),
  });
};

/** String attributes carry the same content rules as the body and must not be empty. */
const attributeValue = (text: string): string => line(text, ATTRIBUTE_LIMIT) || 'unknown';

const snsMessageAttributes = (enriched: EnrichedFinding): Record<string, MessageAttributeValue> => {
  const { finding, enrichment: e } = enriched;
  return {
    severity: { DataType: 'String', StringValue: e.severityLabel },
    severityScore: { DataType: 'Number', StringValue: String(finding.severity) },
    findingType: { DataType: 'String', StringValue: attributeValue(finding.type) },
    accountId: { DataType: 'String', StringValue: attributeValue(finding.accountId) },
    region: { DataType: 'String', StringValue: attributeValue(finding.region) },
  };
};

/** ASCII letters, digits and punctuation, 1 to 128 characters (MessageGroupId, MessageDeduplicationId). */
const FIFO_TOKEN = /^[\x21-\x7e]{1,128}$/;
const fifoToken = (value: string, prefix: string): string =>
  FIFO_TOKEN.test(value) ? value : `${prefix}-${createHash('sha256').update(value).digest('hex')}`;

/** One group per finding: updates of a finding stay in order, different findings flow in parallel. */
const messageGroupId = (enriched: EnrichedFinding): string => {
  const { finding } = enriched;
  return fifoToken(`${finding.accountId}/${finding.region}/${finding.id}`, 'finding');
};

const byteSize = (message: string, attributes: Record<string, MessageAttributeValue>): number =>
  Buffer.byteLength(message, 'utf8') +
  Object.entries(attributes).reduce(
    (sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? ''),
    0,
  );

type SnsPublishInput = Pick<PublishCommandInput, 'TopicArn' | 'Subject' | 'Message' | 'MessageAttributes' | 'MessageGroupId'>;

/** The Publish input for one finding (without MessageDeduplicationId, which comes from the delivery). */
const buildSnsPublish = (enriched: EnrichedFinding, config: Pick<SnsConfig, 'topicArn' | 'format'>): SnsPublishInput => {
  const { enrichment: e, finding } = enriched;
  const s = summaryFields(enriched);
  const attributes = snsMessageAttributes(enriched);
  const candidates =
    config.format === 'json'
      ? [snsJsonMessage(enriched), snsJsonMessage(enriched, false)]
      : [1, 0.25, 0.05, 0].map((scale) => snsTextMessage(enriched, scale));
  const message = candidates.find((text) => byteSize(text, attributes) <= SNS_MAX_BYTES) ?? candidates.at(-1)!;
  const account = oneLine(e.account.name ?? finding.accountId);
  const accountLabel = account.length <= 40 ? account : `${account.slice(0, 37)}...`;
  return {
    TopicArn: config.topicArn,
    // Severity and account first: a long title is what gets cut.
    Subject: snsSubject(`GuardDuty ${s.severity} in ${accountLabel}: ${s.title}`),
    Message: message,
    MessageAttributes: attributes,
    ...(isFifoTopic(config.topicArn) ? { MessageGroupId: messageGroupId(enriched) } : {}),
  };
};

// ── Errors ──────────────────────────────────────────────────────────────────

/** Error codes (SDK exception names and raw Query codes) worth another attempt. */
const RETRYABLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'Throttled',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'KMSThrottling',
  'KMSThrottlingException',
  'InternalError',
  'InternalErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'ExpiredToken',
  'ExpiredTokenException',
  'TimeoutError',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

/** The secret parts of the client's credentials, masked in error messages like every other target's secrets. */
const credentialSecrets = async (client: SNSClient): Promise<string[]> => {
  try {
    const identity = await client.config.credentials();
    return [identity.secretAccessKey, identity.sessionToken ?? ''].filter((value) => value.length > 0);
  } catch {
    return [];
  }
};

/**
 * An SDK failure as a DeliveryError. Throttling, 5xx, timeouts and connection errors are
 * retryable; NotFound, InvalidParameter, AuthorizationError, KMS and other 4xx are permanent;
 * missing credentials are permanent (configuration). Only name, code, status and the
 * service's message are kept, redacted: never the SDK error itself (it holds the raw response).
 */
const toDeliveryError = (target: string, error: unknown, timedOut: boolean, secrets: readonly string[] = []): DeliveryError => {
  if (error instanceof DeliveryError) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const message = redactText(String(e.message ?? ''), secrets, { oneLine: true, maxLength: 300 });
  if (timedOut || name === 'AbortError') {
    return new DeliveryError(target, 'SNS Publish failed: timed out', { retryable: true });
  }
  if (name === 'CredentialsProviderError') {
    return new DeliveryError(target, `SNS Publish failed: no AWS credentials (${message})`, { retryable: false });
  }
  if (status === undefined) {
    const code = e.code ?? '';
    const retryable = NETWORK_CODES.has(code) || RETRYABLE_CODES.has(name) || e.$fault === undefined;
    return new DeliveryError(target, `SNS Publish failed: ${[code, name, message].filter(Boolean).join(' ')}`, { retryable });
  }
  const retryable = status === 408 || status === 429 || status >= 500 || RETRYABLE_CODES.has(name) || e.$fault === 'server';
  return new DeliveryError(target, `SNS Publish failed: HTTP ${status} ${name}${message ? `: ${message}` : ''}`, { retryable, status });
};

const MIN_TIMEOUT_MS = 50;

/** Client settings: the router retries (maxAttempts 1), the region is the topic's. */
const snsClientConfig = (config: SnsConfig) => ({
  region: config.region ?? topicRegion(config.topicArn) ?? 'us-east-1',
  maxAttempts: 1,
  ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
});

const snsSpec: TargetSpec<SnsConfig> = {
  type: 'sns',
  category: 'chat',
  updates: 'notify-policy',
  digest: true,
  local: false,
  configSchema: SnsConfigSchema,
};

const snsTarget: TargetDefinition<SnsConfig> = /* @__PURE__ */ defineTarget(snsSpec, {
  example: { type: 'sns', topicArn: 'arn:aws:sns:us-east-1:111111111111:guardduty-findings' },
  summary: 'Amazon SNS topic: ASCII subject, readable text (or JSON) message, filterable attributes, FIFO-aware.',
  /** Publish on the one topic (the deliver role's only SNS permission). */
  iamStatements: (config): IamStatement[] => [{ Action: ['sns:Publish'], Resource: [config.topicArn] }],
  create: (name, config) => {
    // The SDK client loads on first send (a lazily loaded chunk in the Lambda bundles).
    let client: Promise<{ client: SNSClient; PublishCommand: typeof import('../aws/lazy/sns.ts').PublishCommand }> | undefined;
    const sdk = () =>
      (client ??= import('../aws/lazy/sns.ts').then(({ SNSClient, PublishCommand }) => ({ client: new SNSClient(snsClientConfig(config)), PublishCommand })));
    return {
      name,
      render: (enriched) => ({ body: JSON.stringify(buildSnsPublish(enriched, config)), contentType: 'application/json', extension: 'json' }),
      send: async ({ finding, deadline, idempotencyKey }) => {
        if (config.endpoint !== undefined) {
          await checkDestination({ target: name, url: config.endpoint, deadline: deadline, allowPrivateNetwork: config.allowPrivateNetwork === true });
        }
        // The publish render showed, built again from the finding (send never parses what render wrote).
        const input = buildSnsPublish(finding, config);
        const { client, PublishCommand } = await sdk();
        const command = new PublishCommand({
          ...input,
          TopicArn: config.topicArn,
          ...(isFifoTopic(config.topicArn) ? { MessageDeduplicationId: fifoToken(idempotencyKey, 'dedup') } : {}),
        });
        const timeoutMs = deadline - Date.now();
        if (timeoutMs < MIN_TIMEOUT_MS) throw new DeliveryError(name, 'no time left for the request', { retryable: true });
        const signal = AbortSignal.timeout(timeoutMs);
        let messageId: string | undefined;
        try {
          ({ MessageId: messageId } = await client.send(command, { abortSignal: signal as never }));
        } catch (error) {
          throw toDeliveryError(name, error, signal.aborted, await credentialSecrets(client));
        }
        if (messageId === undefined || messageId === '') {
          throw new DeliveryError(name, 'SNS answered without a MessageId: the publish is unconfirmed', { retryable: true });
        }
      },
    };
  },
});

export { snsTarget, snsSpec, SnsConfigSchema, buildSnsPublish, snsSubject, toDeliveryError as snsDeliveryError, SNS_MAX_BYTES };
export type { SnsPublishInput };
