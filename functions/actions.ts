import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { actionsChain } from '../shared/actions/chain.ts';
import { composeActions } from '../shared/actions/compose.ts';
import { lazyAuditSink, lazySyncPath, lazyTeamsPath } from '../shared/actions/lazy-parts.ts';
import { slackGroupDirectory } from '../shared/actions/slack-groups.ts';
import { dynamoActionStore } from '../shared/aws/action-store.ts';
import { sqsActionQueue } from '../shared/aws/action-queue.ts';
import { dynamoSuppressionStore } from '../shared/aws/dynamo-suppressions.ts';
import { parseDetectorArns, sdkGuardDutyAdmin } from '../shared/aws/guardduty-actions.ts';
import { awsSecretResolver } from '../shared/aws/secrets-manager.ts';
import { requireEnv } from '../shared/config/env.ts';
import { loadConfig } from '../shared/config/load.ts';
import { ROUTES_CONFIG } from '../shared/config/routes-config.ts';
import { logger } from '../shared/observability.ts';

/**
 * Issue 19: buttons in chat. Behind a Lambda Function URL (why: docs/actions-design.md), one
 * function with two event sources: the URL verifies a request and queues it (Slack's 3 s), the
 * actions queue runs it (shared/actions/handler.ts). Everything is built once per container.
 */
const config = await loadConfig(ROUTES_CONFIG, { bundled: true });
const secrets = awsSecretResolver();
const dynamo = new DynamoDBClient({});
const { slack } = config.actions;
const suppressionsTable = process.env.SUPPRESSIONS_TABLE;
const log = {
  info: (message: string, fields?: Record<string, unknown>) => logger.info(message, fields ?? {}),
  warn: (message: string, fields?: Record<string, unknown>) => logger.warn(message, fields ?? {}),
  error: (message: string, fields?: Record<string, unknown>) => logger.error(message, fields ?? {}),
};
const queue = sqsActionQueue(new SQSClient({}), requireEnv('ACTIONS_QUEUE_URL'));
const { teams, syncBack } = config.actions.raw;

export const handler = actionsChain(
  composeActions({
    policy: config.actions,
    store: dynamoActionStore(dynamo, requireEnv('IDEMPOTENCY_TABLE')),
    guardduty: sdkGuardDutyAdmin({ detectorArns: parseDetectorArns(process.env.ACTIONS_DETECTOR_ARNS) }),
    audit: lazyAuditSink(config, secrets, log),
    ...(suppressionsTable ? { suppressions: dynamoSuppressionStore(dynamo, suppressionsTable) } : {}),
    ...(slack?.botToken ? { groups: slackGroupDirectory(() => secrets.resolve(slack.botToken!)) } : {}),
    queue,
    slackSecret: async () => (slack ? secrets.resolve(slack.signingSecret) : undefined),
    log,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    paths: (engine) => [
      ...(syncBack
        ? [
            lazySyncPath(async () => {
              const [{ handleSyncHttp }, { dynamoLedger }] = await Promise.all([import('../shared/actions/sync/http.ts'), import('../shared/aws/dynamo-ledger.ts')]);
              // Sync-back reads what deliver recorded about remote tickets and incidents (FindingStateTable).
              const ledger = dynamoLedger(dynamo, requireEnv('STATE_TABLE'));
              return (request) => handleSyncHttp(request, { syncBack, secrets, ledger, queue, log, now: Date.now });
            }),
          ]
        : []),
      ...(teams ? [lazyTeamsPath(teams.appId, { engine, queue, log, now: Date.now })] : []),
    ],
  }),
);
