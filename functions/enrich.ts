import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { ACCOUNTS_CONFIG } from '../shared/accounts/directory.ts';
import { bundledAccountChain } from '../shared/aws/account-chain.ts';
import { requireEnv } from '../shared/config/env.ts';
import { loadConfig } from '../shared/config/load.ts';
import { publishEnriched } from '../shared/aws/publisher.ts';
import { lazySqs } from '../shared/aws/dead-letters.ts';
import { logger, metrics } from '../shared/observability.ts';
import { ingest } from '../shared/pipeline.ts';

/** Stage 1: GuardDuty finding (default bus) → validated, enriched event on the project bus. */
const eventBridge = new EventBridgeClient({});
// Only rejected findings go to SQS (the quarantine): its client loads on first use.
const sqs = lazySqs();
const busName = requireEnv('EVENT_BUS_NAME');
const quarantineUrl = requireEnv('QUARANTINE_QUEUE_URL');
// accounts.yml overrides → Organizations → GuardDuty members (ACCOUNT_SOURCES); never blocks a finding.
const accounts = await bundledAccountChain({
  registry: await loadConfig(ACCOUNTS_CONFIG, { bundled: true }),
  onSourceError: (e) => logger.warn('account metadata source failed; enrichment partial', e),
});

const enrichHandler = async (event: EventBridgeEvent<string, unknown>): Promise<{ outcome: string }> => {
  const result = await ingest(event, accounts);
  if (result.kind === 'ignored') {
    logger.info('event ignored', { reason: result.reason, eventId: event.id });
    return { outcome: 'ignored' };
  }
  if (result.kind === 'rejected') {
    // Invalid events are quarantined with their reason: never retried forever, never dropped.
    logger.warn('finding rejected', { path: result.path, reason: result.reason, findingId: result.findingId, eventId: event.id });
    metrics.addMetric('FindingsRejected', MetricUnit.Count, 1);
    await sqs.sendDeadLetter(quarantineUrl, {
      stage: 'enrich',
      reason: result.reason,
      ...(result.findingId ? { findingId: result.findingId } : {}),
      payload: event,
      deadLetteredAt: new Date().toISOString(),
    });
    return { outcome: 'rejected' };
  }
  const { finding, enrichment } = result.enriched;
  logger.appendKeys({ findingId: finding.id, findingType: finding.type, accountId: finding.accountId });
  await publishEnriched(eventBridge, busName, result.enriched);
  metrics.addMetric('FindingsEnriched', MetricUnit.Count, 1);
  logger.info('finding enriched', { severity: finding.severity, accountKnown: enrichment.account.known });
  return { outcome: 'enriched' };
};

const handler = middy(enrichHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

export { handler };
