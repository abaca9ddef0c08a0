import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { EnrichedFindingSchema } from '../schemas/enriched.ts';
import { requireEnv } from '../shared/config/env.ts';
import { configPath, loadConfig } from '../shared/config/load.ts';
import { ROUTES_CONFIG } from '../shared/config/routes-config.ts';
import { dynamoFindingState } from '../shared/aws/dynamo-finding-state.ts';
import { sendDeadLetter, sqsPort } from '../shared/aws/queues.ts';
import { sqsJobSink } from '../shared/aws/sqs-job-sink.ts';
import { logger, metrics } from '../shared/observability.ts';
import { dispatch, route } from '../shared/pipeline.ts';
import type { ActiveRoutes, RoutesState } from '../shared/aws/ssm-routes.ts';
import { dynamoSuppressionReader } from '../shared/aws/dynamo-suppressions.ts';
import { cachedRuntimeSuppressions } from '../shared/suppressions/cache.ts';
import { redactText } from '../shared/redact.ts';
import type { CompiledSuppression } from '../shared/config/compile.ts';

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
const currentRoutes = await routesSource();
const currentRuntimeSuppressions = runtimeSuppressionsSource();

/**
 * The routes this stage runs: the bundled file, or with ROUTES_SSM_PATH the document `config
 * publish` wrote there, re-read every ROUTES_SSM_MAX_AGE_SECONDS (default 60); a published
 * document that fails the checks is refused and the last good routes stay (shared/aws/ssm-routes.ts).
 * The SSM reader is a chunk loaded only in that mode: the bundled mode's cold start does not pay for it.
 */
async function routesSource(): Promise<() => Promise<RoutesState>> {
  const file = configPath(process.env.ROUTES_FILE, 'routes.json');
  // ROUTES_HASH (serverless.yml: sha256:<hex>) is the YAML file's hash the package step printed; local runs hash the file itself.
  const bundled: ActiveRoutes = {
    config: await loadConfig(ROUTES_CONFIG, { bundled: true }),
    sha256: process.env.ROUTES_HASH?.replace(/^sha256:/, '') || createHash('sha256').update(readFileSync(file)).digest('hex'),
    origin: 'bundled',
    source: file,
  };
  logger.appendPersistentKeys({ routesSha256: bundled.sha256, routesOrigin: bundled.origin });
  const path = process.env.ROUTES_SSM_PATH;
  if (!path) return async () => ({ active: bundled, refused: undefined });
  const maxAgeSeconds = Number(process.env.ROUTES_SSM_MAX_AGE_SECONDS || '60');
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 1) throw new Error(`ROUTES_SSM_MAX_AGE_SECONDS must be a whole number of seconds >= 1, got ${process.env.ROUTES_SSM_MAX_AGE_SECONDS}`);
  const [{ publishedRoutes }, { SSMProvider }, { DEFAULT_PROVIDERS }] = await Promise.all([
    import('../shared/aws/ssm-routes.ts'),
    import('@aws-lambda-powertools/parameters/ssm'),
    import('@aws-lambda-powertools/parameters/base'),
  ]);
  // Powertools' default SSM provider: clearCaches() (@aws-lambda-powertools/parameters) empties it.
  DEFAULT_PROVIDERS.ssm ??= new SSMProvider();
  return publishedRoutes({
    provider: DEFAULT_PROVIDERS.ssm as unknown as InstanceType<typeof SSMProvider>,
    path,
    maxAgeSeconds,
    bundled,
    reports: {
      applied: (active, previous) =>
        logger.info('routes document applied', { routesSha256: active.sha256, routesOrigin: active.origin, routesSource: active.source, previousRoutesSha256: previous.sha256, ssmPath: path }),
      refused: (refusal, active) =>
        logger.error(refusal.kind === 'invalid' ? 'routes document refused: it fails config check; the last good routes stay in use' : 'routes document unreadable; the last good routes stay in use', {
          ssmPath: path,
          problems: refusal.problems.slice(0, 20),
          routesSha256: active.sha256,
          routesOrigin: active.origin,
        }),
    },
  });
}

/**
 * "Suppress similar" suppressions from SUPPRESSIONS_TABLE (read-only here; the actions function
 * writes them), re-read every SUPPRESSIONS_MAX_AGE_SECONDS (default 60; why: shared/suppressions/cache.ts).
 * Without the variable none apply. A bad row is logged and skipped; an unreadable table keeps the last good list.
 */
function runtimeSuppressionsSource(): () => Promise<readonly CompiledSuppression[]> {
  const table = process.env.SUPPRESSIONS_TABLE;
  if (!table) return async () => [];
  const maxAgeSeconds = Number(process.env.SUPPRESSIONS_MAX_AGE_SECONDS || '60');
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0) throw new Error(`SUPPRESSIONS_MAX_AGE_SECONDS must be a whole number of seconds >= 0, got ${process.env.SUPPRESSIONS_MAX_AGE_SECONDS}`);
  return cachedRuntimeSuppressions(dynamoSuppressionReader(new DynamoDBClient({}), table), {
    maxAgeMs: maxAgeSeconds * 1000,
    reports: {
      badRows: (bad) => {
        logger.error('runtime suppressions skipped: rows that fail the checks', { suppressionsTable: table, bad: bad.slice(0, 20), badCount: bad.length });
        metrics.addMetric('SuppressionRowsInvalid', MetricUnit.Count, bad.length);
      },
      readFailed: (error, kept) => {
        logger.error('runtime suppressions unreadable; the last good list stays in use', { suppressionsTable: table, error: redactText(`${error.name}: ${error.message}`), kept });
        metrics.addMetric('SuppressionsUnreadable', MetricUnit.Count, 1);
      },
      truncated: (read) => logger.error('runtime suppressions table holds more than one read takes; the rest do not apply', { suppressionsTable: table, read }),
    },
  });
}

const routeHandler = async (event: EventBridgeEvent<string, unknown>): Promise<{ outcome: string; targets: string[] }> => {
  const { active: routes, refused } = await currentRoutes();
  // Persistent keys, not appendKeys (reset after each invocation): every log line names the routes in use.
  logger.appendPersistentKeys({ routesSha256: routes.sha256, routesOrigin: routes.origin });
  if (refused) metrics.addMetric('ConfigRejected', MetricUnit.Count, 1);
  const parsed = z.safeParse(EnrichedFindingSchema, event.detail);
  if (!parsed.success) {
    const reason = `enriched event invalid: ${parsed.error.issues.map((i) => `$.detail.${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ')}`;
    logger.error('enriched event invalid', { reason, eventId: event.id });
    await sendDeadLetter(sqs, quarantineUrl, { stage: 'route', reason, payload: event, deadLetteredAt: new Date().toISOString() });
    return { outcome: 'rejected', targets: [] };
  }
  const { finding } = parsed.data;
  logger.appendKeys({ findingId: finding.id, findingType: finding.type });
  const result = await route(parsed.data, { config: routes.config, state, runtimeSuppressions: await currentRuntimeSuppressions() });
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
