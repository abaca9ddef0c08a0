import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One logger and metrics per Lambda (module scope, created at cold start). Tracing is
 * Lambda's active tracing (TracingConfig: Active in serverless.yml); the Powertools tracer
 * was dropped: no code created subsegments with it, and aws-xray-sdk-core cost ~120 KB of
 * bundle and a large share of the import time at every cold start.
 */
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'findings-router' });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'FindingsRouter', serviceName: 'findings-router' });

export { logger, metrics };
