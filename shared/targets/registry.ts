import type { AnyTargetDefinition, AnyTargetSpec } from './types.ts';
import { consoleSpec, consoleTarget } from './console.ts';
import { fileSpec, fileTarget } from './file.ts';
import { slackSpec, slackTarget } from './slack.ts';
import { webhookSpec, webhookTarget } from './webhook.ts';
import { teamsSpec, teamsTarget } from './teams.ts';
import { snsSpec, snsTarget } from './sns.ts';
import { jiraSpec, jiraTarget } from './jira.ts';
import { serviceNowSpec, serviceNowTarget } from './servicenow.ts';
import { pagerDutySpec, pagerDutyTarget } from './pagerduty.ts';
import { opsgenieSpec, opsgenieTarget } from './opsgenie.ts';
import { splunkSpec, splunkTarget } from './splunk.ts';
import { elasticsearchSpec, elasticsearchTarget } from './elasticsearch.ts';
import { firehoseSpec, firehoseTarget } from './firehose.ts';
import { syslogSpec, syslogTarget } from './syslog.ts';
import { eventBridgeSpec, eventBridgeTarget } from './eventbridge.ts';
import { googleChatSpec, googleChatTarget } from './google-chat.ts';

/** Every target type. Adding a target is one file plus one entry here and one in TARGET_SPECS. */
const TARGET_DEFINITIONS: readonly AnyTargetDefinition[] = [
  consoleTarget,
  fileTarget,
  slackTarget,
  webhookTarget,
  teamsTarget,
  snsTarget,
  jiraTarget,
  serviceNowTarget,
  pagerDutyTarget,
  opsgenieTarget,
  splunkTarget,
  elasticsearchTarget,
  firehoseTarget,
  syslogTarget,
  eventBridgeTarget,
  googleChatTarget,
];

const targetDefinition = (type: string): AnyTargetDefinition | undefined =>
  TARGET_DEFINITIONS.find((definition) => definition.type === type);

/**
 * The same types in the same order, each the part its definition spreads in (test/unit/targets/specs.test.ts
 * holds the two lists together). Config compilation reads only these, so the route Lambda's bundle carries
 * each target's settings schema and delivery policy but none of its rendering or sending code.
 */
const TARGET_SPECS: readonly AnyTargetSpec[] = [
  consoleSpec,
  fileSpec,
  slackSpec,
  webhookSpec,
  teamsSpec,
  snsSpec,
  jiraSpec,
  serviceNowSpec,
  pagerDutySpec,
  opsgenieSpec,
  splunkSpec,
  elasticsearchSpec,
  firehoseSpec,
  syslogSpec,
  eventBridgeSpec,
  googleChatSpec,
];

const targetSpec = (type: string): AnyTargetSpec | undefined => TARGET_SPECS.find((spec) => spec.type === type);

export { TARGET_DEFINITIONS, targetDefinition, TARGET_SPECS, targetSpec };
