import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { loadBundledRoutes, requireEnv } from '../shared/aws/config-files.ts';
import { lazySqs } from '../shared/aws/dead-letters.ts';
import { awsSecretResolver } from '../shared/aws/secrets.ts';
import { dynamoLedger } from '../shared/aws/dynamo-ledger.ts';
import { idempotentDelivery } from '../shared/delivery/idempotency.ts';
import { DeliveryJobSchema, type DeliveryJob } from '../shared/delivery/job.ts';
import { RetryLaterError } from '../shared/delivery/retry.ts';
import { DeliveryError } from '../shared/errors.ts';
import { logger, metrics } from '../shared/observability.ts';
import { deliver, deliverDigest } from '../shared/pipeline.ts';
import { toEpochMs } from '../shared/state/finding-state.ts';
import { redactText } from '../shared/redact.ts';
import { createHttpClient } from '../shared/targets/http.ts';
import { createTargets } from '../shared/targets/create.ts';

/**
 * Stage 3: one delivery job → its one target. Retryable failures go back to the queue
 * with a visibility delay; permanent ones, and retryable ones past the receive budget,
 * go to the dead-letter queue with their classified reason. Never both.
 */
// SQS only on failure paths (dead letters, retry delays): its client loads on first use.
const sqs = lazySqs();
const deliveryQueueUrl = requireEnv('DELIVERY_QUEUE_URL');
const deadLetterUrl = requireEnv('DELIVERY_DLQ_URL');
const maxReceives = Number(process.env.MAX_RECEIVES ?? '5');
const config = await loadBundledRoutes();
const dynamo = new DynamoDBClient({});
const targets = createTargets(config, {
  secrets: awsSecretResolver(),
  http: createHttpClient(),
  stdout: process.stdout,
  ledger: dynamoLedger(dynamo, requireEnv('STATE_TABLE')),
});
const processor = new BatchProcessor(EventType.SQS);
const idempotencyStore = new DynamoDBPersistenceLayer({ tableName: requireEnv('IDEMPOTENCY_TABLE'), awsSdkV3Client: dynamo });

/** Leave this much of the invocation for bookkeeping after the last network call. */
const SAFETY_MARGIN_MS = 3_000;
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

const deliverRecord = async (record: SQSRecord, context: Context): Promise<void> => {
  const parsed = z.safeParse(DeliveryJobSchema, safeJson(record.body));
  if (!parsed.success) {
    await deadLetter(undefined, record, `delivery job invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    return;
  }
  const job = parsed.data;
  const log = { target: job.target, findingId: job.enriched.finding.id, receiveCount: receiveCount(record) };
  try {
    const deliverOnce = idempotentDelivery(
      (j) => deliver(j, targets, { deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS }),
      idempotencyStore,
      context,
    );
    const result = await deliverOnce(job);
    // Per-target figures: count, attempts, and latency from GuardDuty's updatedAt to delivery.
    const perTarget = metrics.singleMetric();
    perTarget.addDimension('target', job.target);
    perTarget.addMetric(result.duplicate ? 'DuplicatesSkipped' : 'Delivered', MetricUnit.Count, 1);
    if (!result.duplicate) {
      perTarget.addMetric('Attempts', MetricUnit.Count, result.attempts);
      perTarget.addMetric('LatencyFromUpdate', MetricUnit.Milliseconds, Math.max(0, Date.now() - toEpochMs(job.enriched.finding.updatedAt)));
    }
    logger.info(result.duplicate ? 'already delivered' : 'delivered', { ...log, attempts: result.attempts });
  } catch (error) {
    const retryable = !(error instanceof DeliveryError) || error.retryable;
    const reason = redactText(`${(error as Error).name}: ${(error as Error).message}`);
    if (!retryable || receiveCount(record) >= maxReceives) {
      await deadLetter(job, record, reason);
      return;
    }
    const delayMs = error instanceof RetryLaterError ? error.delayMs : 0;
    await requeueWithDelay(record, delayMs);
    metrics.addMetric('Retried', MetricUnit.Count, 1);
    logger.warn('delivery will be retried', { ...log, reason, delayMs });
    throw error;
  }
};

const deadLetter = async (job: DeliveryJob | undefined, record: SQSRecord, reason: string): Promise<void> => {
  await sqs.sendDeadLetter(deadLetterUrl, {
    stage: 'deliver',
    reason,
    ...(job ? { target: job.target, findingId: job.enriched.finding.id, idempotencyKey: job.idempotencyKey } : {}),
    payload: job ?? record.body,
    deadLetteredAt: new Date().toISOString(),
  });
  metrics.addMetric('DeadLettered', MetricUnit.Count, 1);
  logger.error('dead-lettered', { target: job?.target, findingId: job?.enriched.finding.id, reason });
};

const requeueWithDelay = async (record: SQSRecord, delayMs: number): Promise<void> => {
  const backoffSeconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(Math.ceil(delayMs / 1000), 2 ** receiveCount(record)));
  await sqs.changeVisibility(deliveryQueueUrl, record.receiptHandle, backoffSeconds);
};

const receiveCount = (record: SQSRecord): number => Number(record.attributes.ApproximateReceiveCount ?? '1');

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * Digest jobs (flood control) arrive from the digest queue, whose event source waits up to
 * its batching window: each (target, group) in the batch becomes one digest message. A
 * failed digest fails every member, so they come back together.
 */
const deliverDigests = async (records: SQSRecord[], context: Context): Promise<SQSBatchResponse['batchItemFailures']> => {
  const groups = new Map<string, { jobs: DeliveryJob[]; records: SQSRecord[] }>();
  for (const record of records) {
    const job = z.safeParse(DeliveryJobSchema, safeJson(record.body));
    if (!job.success || !job.data.digest) continue;
    const id = `${job.data.target}\n${job.data.digest.key}`;
    const group = groups.get(id) ?? { jobs: [], records: [] };
    group.jobs.push(job.data);
    group.records.push(record);
    groups.set(id, group);
  }
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const { jobs, records: members } of groups.values()) {
    try {
      await deliverDigest(jobs, targets, { deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS });
      metrics.addMetric('DigestsDelivered', MetricUnit.Count, 1);
      logger.info('digest delivered', { target: jobs[0]?.target, group: jobs[0]?.digest?.key, findings: jobs.length });
    } catch (error) {
      const retryable = !(error instanceof DeliveryError) || error.retryable;
      const reason = redactText(`${(error as Error).name}: ${(error as Error).message}`);
      for (const [index, record] of members.entries()) {
        if (!retryable || receiveCount(record) >= maxReceives) await deadLetter(jobs[index], record, reason);
        else failures.push({ itemIdentifier: record.messageId });
      }
    }
  }
  return failures;
};

const isDigestRecord = (record: SQSRecord): boolean => (safeJson(record.body) as { digest?: unknown } | undefined)?.digest !== undefined;

const deliverHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const isDigest = event.Records.map(isDigestRecord);
  const digestRecords = event.Records.filter((_, index) => isDigest[index]);
  const single = event.Records.filter((_, index) => !isDigest[index]);
  const digestFailures = digestRecords.length > 0 ? await deliverDigests(digestRecords, context) : [];
  if (single.length === 0) return { batchItemFailures: digestFailures };
  const response = await processPartialResponse({ Records: single }, (record: SQSRecord) => deliverRecord(record, context), processor, {
    context,
    throwOnFullBatchFailure: false,
  });
  return { batchItemFailures: [...response.batchItemFailures, ...digestFailures] };
};

const handler = middy(deliverHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

export { handler };
