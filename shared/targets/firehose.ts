import type { FirehoseClient, PutRecordBatchOutput } from '@aws-sdk/client-firehose';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { DeliveryError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { checkDestination } from './http.ts';
import { fitJson, jsonLine } from './siem-json.ts';
import { defineTarget } from './define.ts';
import type { IamStatement, TargetDefinition, TargetSpec } from './types.ts';

/**
 * Amazon Data Firehose `PutRecordBatch`: one newline-terminated JSON record per finding
 * update (S3 / Athena read one JSON document per line). PutRecordBatch answers 200 even
 * when a record failed, so `FailedPutCount` and the record's `ErrorCode` are checked:
 * `ServiceUnavailableException` and `InternalFailure` are retryable. Firehose has no dedup
 * (a retry after a timeout may duplicate a record), so each record keeps the finding's
 * `id` and `updatedAt` for de-duplication at query time.
 */

/** Limits of PutRecordBatch (these cannot be changed): per record before base64, per call. */
const MAX_RECORD_BYTES = 1_000 * 1024;
const MAX_BATCH_RECORDS = 500;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** Per-record ErrorCode values worth another attempt (the documented ones, plus KMS throttling). */
const RETRYABLE_RECORD_ERRORS = new Set(['ServiceUnavailableException', 'InternalFailure', 'KMS.ThrottlingException']);
/** Whole-call errors worth another attempt besides server faults, 429 and 5xx. */
const RETRYABLE_CALL_ERRORS = new Set(['ServiceUnavailableException', 'ThrottlingException', 'ExpiredTokenException', 'RequestTimeout']);

const FirehoseConfigSchema = z.strictObject({
  type: z.literal('firehose'),
  deliveryStreamName: z.string().check(z.regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'expected a Firehose stream name (1-64 of a-z A-Z 0-9 _ . -)')),
  region: z.optional(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as eu-west-1'))),
  /** A VPC interface endpoint or a test loopback; the regional endpoint when absent. */
  endpoint: z.optional(z.string().check(z.url(), z.refine((url) => /^https?:\/\//i.test(url), { message: 'expected an http(s) URL' }))),
  format: z.optional(z.enum(['raw', 'enriched'])),
  allowPrivateNetwork: z.optional(z.boolean()),
});
type FirehoseConfig = z.infer<typeof FirehoseConfigSchema>;

/** The record: one JSON document and `\n`, at most 1,000 KiB (longest strings cut, marker visible). */
const buildRecord = (enriched: EnrichedFinding, config: FirehoseConfig): string => {
  const document = (config.format ?? 'raw') === 'enriched' ? enriched : enriched.finding;
  const fitted = fitJson(document, MAX_RECORD_BYTES - 1);
  if (fitted === undefined) throw new Error(`finding ${enriched.finding.id} cannot be made to fit ${MAX_RECORD_BYTES} bytes`);
  return `${jsonLine(fitted.value)}\n`;
};

/** Splits records into PutRecordBatch calls: at most 500 records and 4 MiB each; refuses a record over 1,000 KiB. */
const planBatches = (records: readonly Uint8Array[]): Uint8Array[][] => {
  const batches: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let bytes = 0;
  for (const record of records) {
    if (record.byteLength > MAX_RECORD_BYTES) throw new RangeError(`record of ${record.byteLength} bytes exceeds ${MAX_RECORD_BYTES}`);
    if (current.length === MAX_BATCH_RECORDS || bytes + record.byteLength > MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += record.byteLength;
  }
  if (current.length > 0) batches.push(current);
  return batches;
};

/** Throws for any record PutRecordBatch did not take. */
const checkBatchOutput = (name: string, output: PutRecordBatchOutput, sent: number): void => {
  const responses = output.RequestResponses ?? [];
  const failed = responses.filter((entry) => entry.ErrorCode !== undefined);
  if ((output.FailedPutCount ?? 0) === 0 && failed.length === 0) {
    if (responses.length !== sent) {
      throw new DeliveryError(name, `PutRecordBatch answered ${responses.length} results for ${sent} records`, { retryable: true });
    }
    return;
  }
  const first = failed[0];
  const code = first?.ErrorCode ?? 'unknown';
  const message = redactText(first?.ErrorMessage ?? '', [], { oneLine: true, maxLength: 200 });
  throw new DeliveryError(name, `PutRecordBatch rejected ${output.FailedPutCount ?? failed.length} record(s): ${code}${message ? ` ${message}` : ''}`, {
    retryable: failed.length === 0 || failed.every((entry) => RETRYABLE_RECORD_ERRORS.has(entry.ErrorCode ?? '')),
  });
};

interface SdkError {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** An SDK or transport error as a classified DeliveryError; AWS error messages carry no secrets, but are redacted anyway. */
const toDeliveryError = (name: string, cause: unknown, secrets: readonly string[]): DeliveryError => {
  if (cause instanceof DeliveryError) return cause;
  const error = (cause ?? {}) as SdkError;
  if (error.name === 'AbortError' || error.name === 'TimeoutError') {
    return new DeliveryError(name, 'PutRecordBatch failed: timed out', { retryable: true });
  }
  const status = error.$metadata?.httpStatusCode;
  const text = redactText(`${error.name ?? 'Error'}: ${error.message ?? ''}`, secrets, { oneLine: true, maxLength: 300 });
  if (status === undefined) return new DeliveryError(name, `PutRecordBatch failed: ${text}`, { retryable: true });
  const retryable =
    error.$fault === 'server' || status === 408 || status === 429 || status >= 500 || error.$retryable !== undefined || RETRYABLE_CALL_ERRORS.has(error.name ?? '');
  return new DeliveryError(name, `PutRecordBatch failed: HTTP ${status} ${text}`, { retryable, status });
};

/** The secret parts of the client's credentials, to mask in error messages (never sent anywhere). */
const credentialSecrets = async (client: FirehoseClient): Promise<string[]> => {
  try {
    const identity = await client.config.credentials();
    return [identity.secretAccessKey, identity.sessionToken ?? ''].filter((value) => value.length > 0);
  } catch {
    return [];
  }
};

const firehoseSpec: TargetSpec<FirehoseConfig> = {
  type: 'firehose',
  category: 'siem',
  updates: 'every-update',
  digest: false,
  local: false,
  configSchema: FirehoseConfigSchema,
};

const firehoseTarget: TargetDefinition<FirehoseConfig> = /* @__PURE__ */ defineTarget(firehoseSpec, {
  limits: { payloadBytes: MAX_RECORD_BYTES, source: 'Firehose: a record is at most 1,000 KiB' },
  // The SDK cannot read an empty answer as PutRecordBatch's: unconfirmed, so sent again.
  statusExceptions: { 204: 'retryable' },
  example: { type: 'firehose', deliveryStreamName: 'guardduty-findings', region: 'us-east-1' },
  summary: 'Amazon Data Firehose PutRecordBatch: one newline-delimited JSON record per finding update (S3 / Athena).',
  /** PutRecordBatch (the only call `send` makes) on the one stream, in its region or the function's. */
  iamStatements: (config): IamStatement[] => [
    {
      Action: ['firehose:PutRecordBatch'],
      Resource: [`arn:\${AWS::Partition}:firehose:${config.region ?? '${AWS::Region}'}:\${AWS::AccountId}:deliverystream/${config.deliveryStreamName}`],
    },
  ],
  create: (name, config) => {
    // The SDK loads on first send (a lazily loaded chunk in the Lambda bundles).
    let sdk: Promise<typeof import('../aws/lazy/firehose.ts')> | undefined;
    let client: FirehoseClient | undefined;
    const clientFor = async (region: string): Promise<FirehoseClient> => {
      const { FirehoseClient } = await (sdk ??= import('../aws/lazy/firehose.ts'));
      // One attempt per delivery: the router's retry policy owns backoff, as for every HTTP target.
      client ??= new FirehoseClient({ region, maxAttempts: 1, ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }) });
      return client;
    };
    return {
      name,
      render: (enriched) => ({ body: buildRecord(enriched, config), contentType: 'application/x-ndjson', extension: 'ndjson' }),
      send: async ({ payload, ...delivery }) => {
        const region = config.region ?? process.env.AWS_REGION;
        if (region === undefined || region === '') {
          throw new DeliveryError(name, 'no region: set region in the target or AWS_REGION', { retryable: false });
        }
        if (config.endpoint !== undefined) {
          await checkDestination({ target: name, url: config.endpoint, deadline: delivery.deadline, allowPrivateNetwork: config.allowPrivateNetwork === true });
        }
        const data = Buffer.from(payload.body, 'utf8');
        if (data.byteLength > MAX_RECORD_BYTES) {
          throw new DeliveryError(name, `record of ${data.byteLength} bytes exceeds the ${MAX_RECORD_BYTES}-byte Firehose limit`, { retryable: false });
        }
        const [batch = []] = planBatches([data]);
        const firehose = await clientFor(region);
        const { PutRecordBatchCommand } = await sdk!;
        const timeoutMs = delivery.deadline - Date.now();
        if (timeoutMs < 50) throw new DeliveryError(name, 'no time left for the request', { retryable: true });
        let output: PutRecordBatchOutput;
        try {
          output = await firehose.send(
            new PutRecordBatchCommand({ DeliveryStreamName: config.deliveryStreamName, Records: batch.map((record) => ({ Data: record })) }),
            { abortSignal: AbortSignal.timeout(timeoutMs) },
          );
        } catch (cause) {
          throw toDeliveryError(name, cause, await credentialSecrets(firehose));
        }
        checkBatchOutput(name, output, batch.length);
      },
    };
  },
});

export { firehoseTarget, firehoseSpec, FirehoseConfigSchema, buildRecord, planBatches, MAX_RECORD_BYTES, MAX_BATCH_BYTES };
export type { FirehoseConfig };
