import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { ACCOUNTS_CONFIG } from '../shared/accounts/directory.ts';
import { bundledAccountChain } from '../shared/aws/account-chain.ts';
import { requireEnv } from '../shared/config/env.ts';
import { loadConfig } from '../shared/config/load.ts';
import { publishEnriched } from '../shared/aws/publisher.ts';
import { dynamoMembershipState } from '../shared/aws/dynamo-membership-state.ts';
import { parseExpectedFrom, parseSeverity, runMembershipWatch } from '../shared/members/watch.ts';
import { logger, metrics } from '../shared/observability.ts';

/**
 * Scheduled: the administrator's GuardDuty members against the expected accounts; one
 * `FindingsRouter:Membership/MemberNotMonitored` event on the project bus per account that
 * stopped being monitored (once per change of state), routed like any finding.
 */
const guardDuty = new GuardDutyClient({});
const eventBridge = new EventBridgeClient({});
const busName = requireEnv('EVENT_BUS_NAME');
const state = dynamoMembershipState(new DynamoDBClient({}), requireEnv('STATE_TABLE'));
const severity = parseSeverity(process.env.MEMBERSHIP_SEVERITY);
const expectedFrom = parseExpectedFrom(process.env.EXPECTED_ACCOUNTS);
// Every run lists the organization's accounts when the expected accounts come from it: the client is
// created here. Otherwise only the account metadata source may use it, which creates it on first use.
const organizations = expectedFrom === 'accounts' ? undefined : new (await import('../shared/aws/lazy/organizations.ts')).OrganizationsClient({});
const detectorId = process.env.GUARDDUTY_DETECTOR_ID || undefined;
const registry = await loadConfig(ACCOUNTS_CONFIG, { bundled: true });
const accounts = await bundledAccountChain({
  registry,
  ...(organizations ? { organizations } : {}),
  guardDuty,
  onSourceError: (e) => logger.warn('account metadata source failed; enrichment partial', e),
});

const watchHandler = async (): Promise<{ fired: number; quiet: number; rearmed: number }> => {
  const result = await runMembershipWatch({
    guardDuty,
    ...(organizations ? { organizations } : {}),
    registry,
    expectedFrom,
    ...(detectorId ? { detectorId } : {}),
    state,
    accounts,
    publish: (enriched) => publishEnriched(eventBridge, busName, enriched),
    region: requireEnv('AWS_REGION'),
    severity,
  });
  for (const f of result.fired) logger.warn('member not monitored', f);
  for (const r of result.rearmed) logger.info('member monitored again; alert re-armed', r);
  logger.info('membership checked', { detectorId: result.detectorId, expected: result.expected, monitored: result.monitored, pending: result.pending, quiet: result.quiet.length });
  metrics.addMetric('MembersNotMonitoredFired', MetricUnit.Count, result.fired.length);
  metrics.addMetric('MembersNotMonitored', MetricUnit.Count, result.fired.length + result.quiet.length);
  return { fired: result.fired.length, quiet: result.quiet.length, rearmed: result.rearmed.length };
};

const handler = middy(watchHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

export { handler };
