'use strict';
// The CloudWatch alarms of both stacks, from one short list each (serverless.yml: ${file(./deploy/alarms.cjs):router},
// deploy/forwarder.yml: ${file(./alarms.cjs):forwarder}). CommonJS because osls only resolves .js/.cjs files.
// Alarm actions are written only when alarmTopicArn is set: the topic is known at packaging time, so
// no CloudFormation condition (whose unused branch would hold an invalid empty ARN) is needed.

/** Every alarm fires on the first non-zero minute; missing data (these metrics are sparse) is fine. */
const alarm = ({ description, namespace, metric, dimensions, statistic = 'Sum', period = 60, topic, condition }) => ({
  Type: 'AWS::CloudWatch::Alarm',
  ...(condition ? { Condition: condition } : {}),
  Properties: {
    AlarmDescription: description,
    Namespace: namespace,
    MetricName: metric,
    Dimensions: dimensions,
    Statistic: statistic,
    Period: period,
    EvaluationPeriods: 1,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    ...(topic ? { AlarmActions: [topic], OKActions: [topic] } : {}),
  },
});

/** Dead-letter and quarantine queues: any message visible is a finding that needs a person. */
const queueDepth = (queue, description, options) => ({
  [`${queue}DepthAlarm`]: alarm({
    ...options,
    description,
    namespace: 'AWS/SQS',
    metric: 'ApproximateNumberOfMessagesVisible',
    statistic: 'Maximum',
    dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
  }),
});

const functionErrors = (fn, description, period, options) => ({
  [`${fn}ErrorsAlarm`]: alarm({ ...options, description, period, namespace: 'AWS/Lambda', metric: 'Errors', dimensions: [{ Name: 'FunctionName', Value: { Ref: `${fn}LambdaFunction` } }] }),
});

/**
 * FailedInvocations (the target could not be invoked) and InvocationsFailedToBeSentToDlq (events lost).
 * Default-bus rules use the RuleName dimension; custom-bus rules use EventBusName + RuleName.
 */
const ruleFailures = (id, ruleName, what, bus, options) => {
  const dimensions = [...(bus ? [{ Name: 'EventBusName', Value: bus }] : []), { Name: 'RuleName', Value: ruleName }];
  return {
    [`${id}FailedInvocationsAlarm`]: alarm({ ...options, description: `EventBridge could not invoke ${what}`, namespace: 'AWS/Events', metric: 'FailedInvocations', dimensions }),
    [`${id}DlqFailuresAlarm`]: alarm({ ...options, description: `EventBridge could not write to the DLQ of ${what} (events lost)`, namespace: 'AWS/Events', metric: 'InvocationsFailedToBeSentToDlq', dimensions }),
  };
};

const router = async ({ resolveVariable }) => {
  const topic = await resolveVariable('param:alarmTopicArn');
  const [ingestRule, routeRule, watchRule] = await Promise.all(
    ['ingestRuleName', 'routeRuleName', 'watchMembersRuleName'].map((name) => resolveVariable(`self:custom.${name}`)),
  );
  const options = { topic };
  return {
    Resources: {
      ...queueDepth('IngestDLQ', 'Events EventBridge or Lambda could not deliver to enrich (IngestDLQ not empty)', options),
      ...queueDepth('RouteDLQ', 'Events EventBridge or Lambda could not deliver to route (RouteDLQ not empty)', options),
      ...queueDepth('QuarantineQueue', 'Invalid findings were quarantined (QuarantineQueue not empty)', options),
      ...queueDepth('DeliveryDLQ', 'Deliveries failed permanently (DeliveryDLQ not empty)', options),
      ...queueDepth('WatchMembersDLQ', 'Membership checks EventBridge or Lambda could not run (WatchMembersDLQ not empty)', options),
      ...queueDepth('ActionsDLQ', 'Chat button presses that could not be done after 5 tries (ActionsDLQ not empty)', options),
      ...functionErrors('Enrich', 'enrich function errors', 60, options),
      ...functionErrors('Route', 'route function errors', 60, options),
      // SSM mode only: the EMF metric the route stage emits while it refuses the published routes document.
      RouteConfigRejectedAlarm: alarm({
        ...options,
        condition: 'RoutesFromSsm',
        description: 'The route stage refuses the routes document in SSM (fails config check, edited by hand, or unreadable) and keeps the last good routes: findings-router config status, then config publish or config rollback',
        namespace: 'FindingsRouter',
        metric: 'ConfigRejected',
        dimensions: [{ Name: 'service', Value: 'findings-router' }],
      }),
      ...functionErrors('Deliver', 'deliver function errors (whole-batch failures; per-item failures are retried via SQS)', 60, options),
      ...functionErrors('WatchMembers', 'watchMembers function errors (membership not checked, or an alert not published)', 900, options),
      ...functionErrors('Actions', 'actions function errors (a chat button press failed outside the engine)', 60, options),
      ...ruleFailures('IngestRule', ingestRule, 'enrich (ingest rule)', undefined, options),
      ...ruleFailures('RouteRule', routeRule, 'route (route rule on FindingsBus)', { Ref: 'FindingsBus' }, options),
      ...ruleFailures('WatchMembersRule', watchRule, 'watchMembers (its schedule)', undefined, options),
    },
  };
};

const forwarder = async ({ resolveVariable }) => {
  const [topic, homeRegion, ruleName] = await Promise.all(['param:alarmTopicArn', 'param:homeRegion', 'self:custom.ruleName'].map((name) => resolveVariable(name)));
  const options = { topic, condition: 'IsNotHomeRegion' };
  return {
    Resources: {
      ...queueDepth('ForwarderDLQ', `GuardDuty findings this region could not forward to ${homeRegion} (ForwarderDLQ not empty)`, options),
      ...ruleFailures('Forwarder', ruleName, `the home region's default bus (${homeRegion})`, undefined, options),
    },
  };
};

module.exports = { router, forwarder };
