import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** One logger, metrics and tracer per Lambda (module scope, created at cold start). */
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'findings-router' });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'FindingsRouter', serviceName: 'findings-router' });
const tracer = new Tracer({ serviceName: 'findings-router', enabled: process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && process.env.POWERTOOLS_TRACE_DISABLED !== 'true' });

export { logger, metrics, tracer };
