import { SQSClient } from '@aws-sdk/client-sqs';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { EnrichedFindingSchema } from '../schemas/enriched.ts';
import { loadBundledRoutes, requireEnv } from '../shared/aws/config-files.ts';
import { sendDeadLetter, sendJobs } from '../shared/aws/queues.ts';
import { logger, metrics } from '../shared/observability.ts';
import { route } from '../shared/pipeline.ts';

/** Stage 2: enriched finding (project bus) → one delivery job per target on the delivery queue. */
const sqs = new SQSClient({});
const deliveryQueueUrl = requireEnv('DELIVERY_QUEUE_URL');
const quarantineUrl = requireEnv('QUARANTINE_QUEUE_URL');
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
  const result = route(parsed.data, config);
  if (result.outcome === 'suppressed') {
    logger.info('finding suppressed', { routes: result.decision.routes });
    metrics.addMetric('FindingsSuppressed', MetricUnit.Count, 1);
    return { outcome: 'suppressed', targets: [] };
  }
  await sendJobs(sqs, deliveryQueueUrl, result.jobs);
  metrics.addMetric('DeliveryJobsQueued', MetricUnit.Count, result.jobs.length);
  logger.info('finding routed', { routes: result.decision.routes, targets: result.decision.targets });
  return { outcome: 'routed', targets: result.decision.targets };
};

const handler = middy(routeHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

export { handler };
