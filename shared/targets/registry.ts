import type { AnyTargetDefinition } from './types.ts';
import { consoleTarget } from './console.ts';
import { fileTarget } from './file.ts';
import { slackTarget } from './slack.ts';
import { webhookTarget } from './webhook.ts';

/** Every target type. Adding a target is one file plus one entry here. */
const TARGET_DEFINITIONS: readonly AnyTargetDefinition[] = [
  consoleTarget,
  fileTarget,
  slackTarget,
  webhookTarget,
];

const targetDefinition = (type: string): AnyTargetDefinition | undefined =>
  TARGET_DEFINITIONS.find((definition) => definition.type === type);

export { TARGET_DEFINITIONS, targetDefinition };
