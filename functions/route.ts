import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { EnrichedFindingSchema } from '../schemas/enriched.ts';
import { loadBundledRoutes, requireEnv } from '../shared/aws/config-files.ts';
import { dynamoFindingState } from '../shared/aws/dynamo-finding-state.ts';
import { sendDeadLetter, sendJobs } from '../shared/aws/queues.ts';
import { logger, metrics } from '../shared/observability.ts';
import { route } from '../shared/pipeline.ts';

/** Stage 2: enriched finding (project bus) → one delivery job per target on the delivery queue. */
const sqs = new SQSClient({});
const deliveryQueueUrl = requireEnv('DELIVERY_QUEUE_URL');
const deadLetterUrl = requireEnv('DELIVERY_DLQ_URL');
const quarantineUrl = requireEnv('QUARANTINE_QUEUE_URL');
const digestQueueUrl = process.env.DIGEST_QUEUE_URL || undefined;
const withoutDigest = <T extends { digest?: unknown }>(job: T): T => {
  const { digest: _digest, ...rest } = job;
  return rest as T;
};
const state = dynamoFindingState(new DynamoDBClient({}), requireEnv('STATE_TABLE'));
const config = await loadBundledRoutes();

const routeHandler = async (event: EventBridgeEvent<string, unknown>): Promise<{ outcome: string; targets: string[] }> => {
  const parsed = z.safeParse(EnrichedFindingSchema, event.detail);
  if (!parsed.success) {
    const reason = `enriched event invalid: ${parsed.error.issues.map((i) => `$.detail.${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ')}`;
    logger.error('enriched event invalid', { reason, eventId: event.id });
    await sendDeadLetter(sqs, quarantineUrl, { stage: 'route', reason, payload: event, deadLetteredAt: new Date().toISOString() });
    return { outcome: 'rejected', targets: [] };
  }
  const { finding } = parsed.data;
  logger.appendKeys({ findingId: finding.id, findingType: finding.type });
  const result = await route(parsed.data, { config, state });
  for (const refusal of result.refused) {
    // Refused by the jurisdiction guard: never sent, kept where an operator sees it.
    await sendDeadLetter(sqs, deadLetterUrl, {
      stage: 'route',
      reason: `jurisdiction: ${refusal.reason}`,
      target: refusal.target,
      findingId: finding.id,
      payload: { finding: { id: finding.id, accountId: finding.accountId, region: finding.region, type: finding.type } },
      deadLetteredAt: new Date().toISOString(),
    });
    metrics.addMetric('JurisdictionRefused', MetricUnit.Count, 1);
  }
  // Digest jobs wait in the digest queue, whose batching window gathers each group.
  const held = result.jobs.filter((job) => job.digest !== undefined);
  const now = result.jobs.filter((job) => job.digest === undefined || digestQueueUrl === undefined);
  if (now.length > 0) await sendJobs(sqs, deliveryQueueUrl, now.map((job) => (digestQueueUrl === undefined ? withoutDigest(job) : job)));
  if (held.length > 0 && digestQueueUrl !== undefined) await sendJobs(sqs, digestQueueUrl, held);
  const targets = result.jobs.map((job) => job.target);
  metrics.addMetric('DeliveryJobsQueued', MetricUnit.Count, result.jobs.length);
  if (result.outcome === 'suppressed') metrics.addMetric('FindingsSuppressed', MetricUnit.Count, 1);
  logger.info(`finding ${result.outcome}`, {
    relation: result.relation,
    routes: result.decision.routes,
    targets,
    ...(result.suppression ? { suppression: result.suppression.name, suppressionReason: result.suppression.reason } : {}),
    quieted: result.quieted,
  });
  return { outcome: result.outcome, targets };
};

const handler = middy(routeHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

export { handler };
