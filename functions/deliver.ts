import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { recordRemoteRecords } from '../shared/actions/sync/record.ts';
import { requireEnv } from '../shared/config/env.ts';
import { loadConfig } from '../shared/config/load.ts';
import { ROUTES_CONFIG } from '../shared/config/routes-config.ts';
import { lazySqs } from '../shared/aws/dead-letters.ts';
import { awsSecretResolver } from '../shared/aws/secrets-manager.ts';
import { dynamoLedger } from '../shared/aws/dynamo-ledger.ts';
import { sqsJobSink } from '../shared/aws/sqs-job-sink.ts';
import { idempotentRunner } from '../shared/delivery/idempotency.ts';
import { requeueDelayMs } from '../shared/delivery/retry.ts';
import { logger, metrics } from '../shared/observability.ts';
import { deliverQueued, type QueuedMessage, type QueuedOutcome } from '../shared/pipeline.ts';
import { toEpochMs } from '../shared/state/finding-state.ts';
import { createHttpClient } from '../shared/targets/http.ts';
import { createTargets } from '../shared/targets/create.ts';

/**
 * Stage 3: delivery jobs → their targets, single jobs from the delivery queue and held jobs
 * from the digest queue through one path (shared/pipeline.ts `deliverQueued`). Retryable
 * failures go back to their queue (with a visibility delay on the delivery queue); invalid
 * jobs, permanent failures and retryable ones past the receive budget go to the dead-letter
 * queue with their reason. Never both, never neither.
 */
// SQS only on failure paths (dead letters, retry delays): its client loads on first use.
const sqs = lazySqs();
const deliveryQueueUrl = requireEnv('DELIVERY_QUEUE_URL');
const sink = sqsJobSink(sqs, { delivery: deliveryQueueUrl, deadLetter: requireEnv('DELIVERY_DLQ_URL') });
const maxReceives = Number(process.env.MAX_RECEIVES ?? '5');
const config = await loadConfig(ROUTES_CONFIG, { bundled: true });
const dynamo = new DynamoDBClient({});
const ledger = dynamoLedger(dynamo, requireEnv('STATE_TABLE'));
// Sync-back (actions.syncBack): pagerduty, opsgenie and jira deliveries remember the remote record they
// created, so its resolve/close can archive the finding; without syncBack for a platform, unchanged.
const targets = new Map(
  [...createTargets(config, { secrets: awsSecretResolver(), http: createHttpClient(), stdout: process.stdout, ledger })].map(([name, target]) => [
    name,
    recordRemoteRecords(target, config.targets.get(name)?.type ?? '', ledger, config.actions.raw.syncBack),
  ]),
);
const idempotencyStore = new DynamoDBPersistenceLayer({ tableName: requireEnv('IDEMPOTENCY_TABLE'), awsSdkV3Client: dynamo });

/** Leave this much of the invocation for bookkeeping after the last network call. */
const SAFETY_MARGIN_MS = 3_000;

const receiveCount = (record: SQSRecord): number => Number(record.attributes.ApproximateReceiveCount ?? '1');

/** The queue a record came from, by name: only the delivery queue's records get a retry delay here. */
const queueName = (arnOrUrl: string): string => arnOrUrl.split(/[:/]/).at(-1) ?? '';

const requeueWithDelay = async (record: SQSRecord, delayMs: number): Promise<void> => {
  // The digest queue's own visibility timeout (beyond its batching window) spaces its retries.
  if (queueName(record.eventSourceARN) !== queueName(deliveryQueueUrl)) return;
  const backoffSeconds = requeueDelayMs(receiveCount(record), delayMs) / 1000;
  try {
    await sqs.changeVisibility(deliveryQueueUrl, record.receiptHandle, backoffSeconds);
  } catch (error) {
    // The message still comes back for its retry, after the queue's own visibility timeout.
    logger.warn('retry delay not set', { messageId: record.messageId, reason: (error as Error).name });
  }
};

const report = (outcome: QueuedOutcome): void => {
  const [first] = outcome.jobs;
  const log = { target: first?.target, findingId: first?.enriched.finding.id, findings: outcome.jobs.length };
  if (outcome.kind === 'dead-lettered') {
    metrics.addMetric('DeadLettered', MetricUnit.Count, outcome.messages.length);
    logger.error('dead-lettered', { ...log, reason: outcome.reason });
  } else if (outcome.kind === 'retry') {
    metrics.addMetric('Retried', MetricUnit.Count, outcome.messages.length);
    logger.warn('delivery will be retried', { ...log, reason: outcome.reason, delayMs: outcome.delayMs });
  } else if (outcome.digest) {
    metrics.addMetric(outcome.duplicate ? 'DuplicatesSkipped' : 'DigestsDelivered', MetricUnit.Count, 1);
    logger.info(outcome.duplicate ? 'digest already delivered' : 'digest delivered', { ...log, group: first?.digest?.key });
  } else if (first !== undefined) {
    // Per-target figures: count, attempts, and latency from GuardDuty's updatedAt to delivery.
    const perTarget = metrics.singleMetric();
    perTarget.addDimension('target', first.target);
    perTarget.addMetric(outcome.duplicate ? 'DuplicatesSkipped' : 'Delivered', MetricUnit.Count, 1);
    if (!outcome.duplicate) {
      perTarget.addMetric('Attempts', MetricUnit.Count, outcome.attempts);
      perTarget.addMetric('LatencyFromUpdate', MetricUnit.Milliseconds, Math.max(0, Date.now() - toEpochMs(first.enriched.finding.updatedAt)));
    }
    logger.info(outcome.duplicate ? 'already delivered' : 'delivered', { ...log, attempts: outcome.attempts });
  }
};

const deliverHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const records = new Map(event.Records.map((record) => [record.messageId, record]));
  const messages: QueuedMessage[] = event.Records.map((record) => ({ id: record.messageId, body: record.body, receiveCount: receiveCount(record) }));
  const outcomes = await deliverQueued(messages, {
    targets,
    sink,
    maxReceives,
    deadline: () => Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
    once: idempotentRunner(idempotencyStore, context),
  });
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const outcome of outcomes) {
    report(outcome);
    if (outcome.kind !== 'retry') continue;
    for (const message of outcome.messages) {
      const record = records.get(message.id);
      if (record !== undefined) await requeueWithDelay(record, outcome.delayMs);
      batchItemFailures.push({ itemIdentifier: message.id });
    }
  }
  return { batchItemFailures };
};

const handler = middy(deliverHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

export { handler };
