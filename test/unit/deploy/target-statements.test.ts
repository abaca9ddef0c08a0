import { describe, expect, it } from 'vitest';
import { addDeliverStatements, deliverTargetStatements, TargetPermissionError } from '../../../deploy/target-statements.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';

/** The deliver role's generated statements, from routes files given as text (the packaged template: serverless-package.test.ts). */
const statementsFor = (targets: string) =>
  deliverTargetStatements(parseConfig(ROUTES_CONFIG, `targets:\n${targets}\n  fallback: { type: console }\ndefault: { targets: [fallback] }\n`, 'routes.yml'));

describe('deliver role statements from the routes file', () => {
  it('merges targets with the same actions into one statement, each resource once, sorted', () => {
    // Act
    const statements = statementsFor(
      [
        '  b: { type: sns, topicArn: "arn:aws:sns:eu-west-1:111111111111:zeta" }',
        '  a: { type: sns, topicArn: "arn:aws:sns:eu-west-1:111111111111:alpha" }',
        '  c: { type: sns, topicArn: "arn:aws:sns:eu-west-1:111111111111:alpha", format: json }',
      ].join('\n'),
    );
    // Assess
    expect(statements).toEqual([
      { Sid: 'RoutesFileTargets1', Effect: 'Allow', Action: ['sns:Publish'], Resource: ['arn:aws:sns:eu-west-1:111111111111:alpha', 'arn:aws:sns:eu-west-1:111111111111:zeta'] },
    ]);
  });

  it('grants nothing to targets that call no AWS API (webhooks, chat, an API-key cluster)', () => {
    // Act
    const statements = statementsFor(
      [
        '  chat: { type: console }',
        '  hook: { type: webhook, url: "https://hooks.example.com/guardduty" }',
        '  es: { type: elasticsearch, url: "https://search-findings-abcdefghijklmnopqrstuvwxyz.eu-west-1.es.amazonaws.com", apiKey: { ssm: /findings-router/es } }',
      ].join('\n'),
    );
    // Assess
    expect(statements).toEqual([]);
  });

  it('refuses a SigV4 cluster whose URL names no domain or collection, naming the target, rather than grant a wildcard', () => {
    // Act
    const attempt = () => statementsFor('  search: { type: elasticsearch, url: "https://search.example.com", sigv4: { region: eu-west-1, service: es } }');
    // Assess
    expect(attempt).toThrow(TargetPermissionError);
    expect(attempt).toThrow("routes.yml: target 'search': sigv4 es: cannot tell the domain from search.example.com");
  });

  it('replaces earlier generated statements in DeliverRole and keeps the hand-written ones', () => {
    // Prepare
    const handWritten = { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:eu-west-1:111111111111:dlq' };
    const resources = { Resources: { DeliverRole: { Properties: { Policies: [{ PolicyDocument: { Statement: [handWritten] as unknown[] } }] } } } };
    const first = statementsFor('  a: { type: sns, topicArn: "arn:aws:sns:eu-west-1:111111111111:alpha" }');
    const second = statementsFor('  a: { type: firehose, deliveryStreamName: archive }');
    // Act
    addDeliverStatements(resources, first);
    addDeliverStatements(resources, second);
    // Assess
    expect(resources.Resources.DeliverRole.Properties.Policies[0]!.PolicyDocument.Statement).toEqual([handWritten, ...second]);
  });
});
