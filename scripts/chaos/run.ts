import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { startAwsLoopback } from '../../test/helpers/aws-loopback.ts';
import { startDynalite } from '../../test/helpers/dynalite.ts';
import { lambdaContext } from '../../test/helpers/lambda-context.ts';
import { startEnvironment, type Environment } from './environments.ts';
import { runEventSource, type EventSourceStats } from './event-source.ts';
import { applyMutation, type Mutation } from './mutations.ts';
import { planFor, RETRY_BUDGET, TARGETS } from './plan.ts';
import { startReceiverProcess } from './receivers.ts';
import { reconcile, type Reconciliation } from './reconcile.ts';
import { chaosEvents, chaosRoutes, expectedJobs, URL_SECRET } from './scenario.ts';

/**
 * One chaos run, in this process: the real enrich, route and deliver Lambdas (their middy
 * chains, AWS SDK clients, Powertools idempotency in DynamoDB, the node:http transport)
 * against the SQS/EventBridge loopback, dynalite, and fault receivers in a child process.
 * The handlers read their configuration once, at import: one run per process.
 */
interface ChaosOptions {
  findings: number;
  seed: number;
  mutation?: Mutation;
  /** Execution environments of the deliver function (its concurrency), and records per batch. */
  environments?: number;
  batchSize?: number;
  /** The deliver function's timeout in ms: its per-invocation deadline is this less its 3 s margin. */
  functionTimeoutMs?: number;
  /** Real time after which the run stops and counts what is left as lost. */
  giveUpMs?: number;
}

interface ChaosResult extends Reconciliation {
  seed: number;
  findings: number;
  mutation?: Mutation;
  elapsedMs: number;
  eventSource: EventSourceStats;
}

const ROOT = join(import.meta.dirname, '../..');
let ran = false;

const runChaos = async (options: ChaosOptions): Promise<ChaosResult> => {
  if (ran) throw new Error('a chaos run imports the Lambda handlers with its own configuration: one run per process');
  ran = true;
  const started = Date.now();
  const { seed } = options;
  const aws = await startAwsLoopback({ queues: ['quarantine', 'delivery-dlq'] });
  const dlq = aws.queue('delivery-dlq');
  aws.createQueue('delivery', {
    VisibilityTimeout: '180',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: RETRY_BUDGET }),
  });
  const dynamo = await startDynalite();
  const receivers = await startReceiverProcess({ seed, targets: TARGETS });
  const dir = mkdtempSync(join(tmpdir(), 'chaos-'));
  const sqs = new SQSClient({ ...aws.clientConfig, maxAttempts: 3 });
  let environments: Promise<Environment[]> | undefined;
  try {
    await dynamo.createTable('idempotency', 'id');
    await dynamo.createTable('state', 'findingKey');
    const routesYaml = chaosRoutes(receivers.origins);
    writeFileSync(join(dir, 'routes.yml'), routesYaml);
    writeFileSync(join(dir, 'accounts.yml'), readFileSync(join(ROOT, 'accounts.example.yml'), 'utf8'));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: aws.clientConfig.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.clientConfig.credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      EVENT_BUS_NAME: 'findings-router-bus',
      QUARANTINE_QUEUE_URL: aws.queueUrl('quarantine'),
      DELIVERY_QUEUE_URL: aws.queueUrl('delivery'),
      DELIVERY_DLQ_URL: aws.queueUrl('delivery-dlq'),
      STATE_TABLE: 'state',
      IDEMPOTENCY_TABLE: 'idempotency',
      MAX_RECEIVES: String(RETRY_BUDGET),
      AWS_LAMBDA_FUNCTION_NAME: 'findings-router-deliver',
      ROUTES_FILE: join(dir, 'routes.yml'),
      ACCOUNTS_FILE: join(dir, 'accounts.yml'),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    delete process.env.DIGEST_QUEUE_URL;
    const mutationContext = {
      seed,
      deliveryQueueUrl: aws.queueUrl('delivery'),
      receiverPorts: new Set(Object.values(receivers.origins).map((origin) => new URL(origin).port)),
    };
    if (options.mutation) applyMutation(options.mutation, mutationContext);
    // The deliver function's execution environments start while stages 1 and 2 run here.
    const booting = Promise.all(
      Array.from({ length: options.environments ?? 3 }, () =>
        startEnvironment({ ...(options.mutation ? { mutation: options.mutation } : {}), mutationContext }),
      ),
    );
    environments = booting;
    type Handler<E, R> = (event: E, context: Context) => Promise<R>;
    const enrich = (await import('../../functions/enrich.ts')).handler as unknown as Handler<unknown, { outcome: string }>;
    const route = (await import('../../functions/route.ts')).handler as unknown as Handler<EventBridgeEvent<string, unknown>, unknown>;

    // Stage 1: every event through the enrich Lambda onto the (loopback) project bus.
    for (const event of chaosEvents(options.findings)) {
      const outcome = await enrich(event, lambdaContext('findings-router-enrich'));
      if (outcome.outcome !== 'enriched') throw new Error(`chaos event ${event.id} was not enriched: ${JSON.stringify(outcome)}`);
    }
    const published = [...aws.events];
    const expected = expectedJobs(
      routesYaml,
      published.map((e) => e.detail as EnrichedFinding),
    );

    // Stage 2 (route, as EventBridge invokes it: async, two retries) feeds stage 3 while it runs.
    let routing = true;
    const routeAll = async () => {
      const pending = [...published];
      const worker = async () => {
        for (let event = pending.shift(); event !== undefined; event = pending.shift()) {
          const invocation = { version: '0', id: event.EventId ?? 'chaos', 'detail-type': event.DetailType, source: event.Source, account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: event.detail };
          for (let attempt = 1; ; attempt++) {
            try {
              await route(invocation as EventBridgeEvent<string, unknown>, lambdaContext('findings-router-route'));
              break;
            } catch (error) {
              if (attempt === 3) throw error;
            }
          }
        }
      };
      try {
        await worker(); // one execution environment: one event at a time
      } finally {
        routing = false;
      }
    };
    const [, eventSource] = await Promise.all([
      routeAll(),
      runEventSource({
        sqs,
        aws,
        queueUrl: aws.queueUrl('delivery'),
        environments: await booting,
        functionTimeoutMs: options.functionTimeoutMs ?? 4_500,
        batchSize: options.batchSize ?? 10,
        planOf: (body) => {
          const job = parseJob(body);
          return job && { key: job.key, target: job.target, findingId: job.findingId, plan: planFor(seed, job) };
        },
        onDone: async (records) => {
          const byTarget = Map.groupBy(records, (r) => r.target);
          for (const [target, done] of byTarget) await receivers.markDone(target, done.map((r) => r.key));
        },
        onAdvance: (offsetMs) => receivers.setClockOffset(offsetMs),
        producing: () => routing,
        giveUpAt: started + (options.giveUpMs ?? 120_000),
      }),
    ]);

    const result = reconcile({
      expected,
      planOf: (job) => planFor(seed, job),
      ledgers: await receivers.ledgers(),
      deadLetters: dlq.messages.map((m) => m.Body),
      quarantined: aws.queue('quarantine').messages.length,
      secret: URL_SECRET,
      disturbed: eventSource.disturbed,
      receives: (job) => eventSource.receivesByJob.get(JSON.stringify([job.target, job.findingId])) ?? 0,
    });
    if (eventSource.gaveUp) result.failures.push(`gave up after ${options.giveUpMs ?? 120_000} ms with ${aws.queue('delivery').messages.length} message(s) in the queue`);
    return { ...result, seed, findings: options.findings, ...(options.mutation ? { mutation: options.mutation } : {}), elapsedMs: Date.now() - started, eventSource };
  } finally {
    await Promise.all((await environments?.catch(() => []))?.map((e) => e.close()) ?? []);
    sqs.destroy();
    await receivers.close();
    await dynamo.close();
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Target, key and finding update of a job body (the wire format the route stage sends). */
const parseJob = (body: string): { key: string; target: string; findingId: string; updatedAt: string } | undefined => {
  try {
    const job = JSON.parse(body) as { idempotencyKey?: unknown; target?: unknown; enriched?: { finding?: { id?: unknown; updatedAt?: unknown } } };
    const finding = job.enriched?.finding;
    if (typeof job.idempotencyKey !== 'string' || typeof job.target !== 'string' || typeof finding?.id !== 'string') return undefined;
    return { key: job.idempotencyKey, target: job.target, findingId: finding.id, updatedAt: String(finding.updatedAt) };
  } catch {
    return undefined;
  }
};

export { runChaos };
export type { ChaosResult };
