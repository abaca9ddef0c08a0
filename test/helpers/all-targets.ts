import { Writable } from 'node:stream';
import * as z from 'zod/mini';
import { localSecretResolver } from '../../shared/secrets.ts';
import { createHttpClient } from '../../shared/targets/http.ts';
import { memoryLedger } from '../../shared/targets/ledger.ts';
import { TARGET_DEFINITIONS } from '../../shared/targets/registry.ts';
import type { Target, TargetContext } from '../../shared/targets/types.ts';

/**
 * One instance of every registered target type, for render-only tests (fuzzing, hostile
 * input): each built from a dummy configuration checked by the type's own configSchema.
 * Nothing here sends; secrets are env references that are never resolved.
 */
const DUMMY_CONFIGS: Record<string, readonly Record<string, unknown>[]> = {
  console: [{ type: 'console' }],
  file: [{ type: 'file', path: 'out/never-written-by-render.ndjson' }],
  slack: [{ type: 'slack', webhookUrl: { env: 'DUMMY_SLACK_WEBHOOK' } }],
  webhook: [{ type: 'webhook', url: 'https://hooks.example.com/guardduty' }],
  teams: [{ type: 'teams', webhookUrl: { env: 'DUMMY_TEAMS_WEBHOOK' } }],
  pagerduty: [{ type: 'pagerduty', routingKey: { env: 'DUMMY_ROUTING_KEY' } }],
  opsgenie: [{ type: 'opsgenie', apiKey: { env: 'DUMMY_OPSGENIE_KEY' } }],
  jira: [{ type: 'jira', url: 'https://example.atlassian.net', project: 'SEC', email: { env: 'DUMMY_JIRA_EMAIL' }, apiToken: { env: 'DUMMY_JIRA_TOKEN' } }],
  servicenow: [
    { type: 'servicenow', url: 'https://example.service-now.com', token: { env: 'DUMMY_SN_TOKEN' } },
    { type: 'servicenow', url: 'https://example.service-now.com', username: { env: 'DUMMY_SN_USER' }, password: { env: 'DUMMY_SN_PASSWORD' } },
  ],
  splunk: [{ type: 'splunk', url: 'https://splunk.example.com:8088', token: { env: 'DUMMY_HEC_TOKEN' } }],
  elasticsearch: [
    { type: 'elasticsearch', url: 'https://es.example.com:9200', apiKey: { env: 'DUMMY_ES_KEY' } },
    { type: 'elasticsearch', url: 'https://es.example.com:9200' },
  ],
  firehose: [{ type: 'firehose', deliveryStreamName: 'guardduty-findings', region: 'us-east-1' }],
  sns: [{ type: 'sns', topicArn: 'arn:aws:sns:us-east-1:111111111111:guardduty-findings' }],
  syslog: [{ type: 'syslog', host: 'siem.example.com' }],
  eventbridge: [{ type: 'eventbridge', eventBus: 'security-automation', region: 'us-east-1' }],
};

const nullStream = (): NodeJS.WritableStream => new Writable({ write: (_chunk, _encoding, done) => done() });

const targetContext = (): TargetContext => ({
  secrets: localSecretResolver({}),
  http: createHttpClient(),
  stdout: nullStream(),
  ledger: memoryLedger(),
});

/** The first dummy configuration the type's schema accepts, or undefined. */
const dummyConfig = (type: string, schema: z.ZodMiniType<unknown>): Record<string, unknown> | undefined =>
  (DUMMY_CONFIGS[type] ?? [{ type }]).find((candidate) => z.safeParse(schema, candidate).success);

/** Every registered type that can be configured here; the others are named in `skipped`. */
const renderableTargets = (): { targets: Target[]; configs: Map<string, Record<string, unknown>>; skipped: string[] } => {
  const targets: Target[] = [];
  const configs = new Map<string, Record<string, unknown>>();
  const skipped: string[] = [];
  for (const definition of TARGET_DEFINITIONS) {
    const candidate = dummyConfig(definition.type, definition.configSchema as z.ZodMiniType<unknown>);
    if (candidate === undefined) {
      skipped.push(definition.type);
      continue;
    }
    const config = z.parse(definition.configSchema as z.ZodMiniType<unknown>, candidate);
    targets.push(definition.create(`fuzz-${definition.type}`, config, targetContext()));
    configs.set(definition.type, candidate);
  }
  return { targets, configs, skipped };
};

/** A routes file (YAML flow = JSON) sending every finding to one target of every configurable type. */
const routesForAllTargets = (configs: ReadonlyMap<string, Record<string, unknown>>): string => {
  const targets = Object.fromEntries([...configs].map(([type, config]) => [`all-${type}`, config]));
  return [`targets: ${JSON.stringify(targets)}`, `default: { targets: ${JSON.stringify(Object.keys(targets))} }`, 'routes: []'].join('\n');
};

export { renderableTargets, routesForAllTargets, targetContext, DUMMY_CONFIGS };
