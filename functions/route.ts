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
import { sendDeadLetter, sqsPort } from '../shared/aws/queues.ts';
import { sqsJobSink } from '../shared/aws/sqs-job-sink.ts';
import { logger, metrics } from '../shared/observability.ts';
import { dispatch, route } from '../shared/pipeline.ts';

/**
 * Stage 2: enriched finding (project bus) → one delivery job per target. The pipeline
 * decides where each job goes (delivery queue, digest queue, dead-letter queue).
 */
const sqs = new SQSClient({});
const quarantineUrl = requireEnv('QUARANTINE_QUEUE_URL');
const sink = sqsJobSink(sqsPort(sqs), {
  delivery: requireEnv('DELIVERY_QUEUE_URL'),
  digest: process.env.DIGEST_QUEUE_URL || undefined,
  deadLetter: requireEnv('DELIVERY_DLQ_URL'),
});
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
  await dispatch(parsed.data, result, sink);
  if (result.refused.length > 0) metrics.addMetric('JurisdictionRefused', MetricUnit.Count, result.refused.length);
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
