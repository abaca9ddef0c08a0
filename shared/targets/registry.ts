import type { AnyTargetDefinition } from './types.ts';
import { consoleTarget } from './console.ts';
import { fileTarget } from './file.ts';
import { slackTarget } from './slack.ts';
import { webhookTarget } from './webhook.ts';
import { teamsTarget } from './teams.ts';
import { snsTarget } from './sns.ts';
import { jiraTarget } from './jira.ts';
import { serviceNowTarget } from './servicenow.ts';
import { pagerDutyTarget } from './pagerduty.ts';
import { opsgenieTarget } from './opsgenie.ts';
import { splunkTarget } from './splunk.ts';
import { elasticsearchTarget } from './elasticsearch.ts';
import { firehoseTarget } from './firehose.ts';
import { syslogTarget } from './syslog.ts';
import { eventBridgeTarget } from './eventbridge.ts';
import { googleChatTarget } from './google-chat.ts';

/** Every target type. Adding a target is one file plus one entry here. */
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

export { TARGET_DEFINITIONS, targetDefinition };
