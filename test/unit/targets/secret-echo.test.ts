import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, vi } from 'vitest';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { targetDefinition } from '../../../shared/targets/registry.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { readBody, listenLoopback } from '../../helpers/receiver-kit.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { itMasksEchoesAcrossCuts, sendFinding, targetContext } from '../../helpers/target-contract.ts';

/**
 * Every target type whose receiver can answer with text, against one loopback that echoes a
 * secret in each form (raw, URL-encoded, base64, Basic) across every error-snippet cut, in the
 * place that type's receiver puts its message (plain body, JSON message, HEC text, `_bulk`
 * reason, AWS JSON and AWS Query errors, Slack's and PagerDuty's 2xx texts). No piece of
 * eight or more characters of the secret may show in the DeliveryError.
 */

const ROUTING_KEY = 'R0ut1ngKey4f9c2b7e81d04a6c9e53b1';
const OPSGENIE_KEY = 'og-5d1c9e2a-7b3f-4e60-9a81-c2d4e6f80b13';
const HEC_TOKEN = '9c1e4b7a-2d5f-4a83-b6e0-f1c3d5e7a9b2';
const JIRA_EMAIL = 'soc@example.com';
const JIRA_TOKEN = 'ATATT3xFfGF0jira-token-7Qm2Lw9Zp4';
const SN_USER = 'sn.integration';
const SN_PASSWORD = 'sn-P4ssw0rd/secret+9f2c61';
const ES_USER = 'elastic';
const ES_PASSWORD = 'es-Pw0rd-3b8e51c7d2a94f60';
const SLACK_TOKEN = 'xq7Lm2Np9Rs4Tv6Wy8Za1Bc3';
const WORKFLOW_ID = '0ec499be1a2b4c3d9e8f7a6b5c4d3e2f';
const TEAMS_SIG = 'Zx81kQ_tw9vXnB3mYp5rT7uWc2eGh4jK';
const WEBHOOK_PASSWORD = 'hook-p4ss-61e2d9c3b8a7';
const WEBHOOK_TOKEN = 'tk9Qm4Lw2Zp7Xv1Rn5Bs8Cd3';
const AWS_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const AWS_SESSION_TOKEN = 'FwoGZXIvYXdzEECHOSESSIONTOKEN0123456789abcdef';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

// ── The echoing receiver ─────────────────────────────────────────────────────

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
}
let answer: Answer = { status: 500, body: '', headers: {} };
let origin = '';
let close: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  const server = await listenLoopback(
    createServer(async (req, res) => {
      await readBody(req);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    }),
  );
  origin = server.origin;
  close = server.close;
});
afterAll(() => close());

beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAECHOEXAMPLE00001');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', AWS_SECRET_KEY);
  vi.stubEnv('AWS_SESSION_TOKEN', AWS_SESSION_TOKEN);
  vi.stubEnv('AWS_PROFILE', undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** How each type's receiver carries a message. */
const text = (status: number, message: string): Answer => ({ status, body: message, headers: { 'content-type': 'text/plain' } });
const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value), headers: { 'content-type': 'application/json' } });
const awsJson = (status: number, message: string): Answer => {
  const type = status < 500 ? 'InvalidArgumentException' : 'ServiceUnavailableException';
  return { status, body: JSON.stringify({ __type: type, message }), headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type } };
};
const awsQuery = (status: number, message: string): Answer => {
  const [type, code] = status < 500 ? ['Sender', 'InvalidParameter'] : ['Receiver', 'InternalError'];
  const xml = message.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return {
    status,
    body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xml}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
    headers: { 'content-type': 'text/xml' },
  };
};

// ── Targets ──────────────────────────────────────────────────────────────────

const ENV: NodeJS.ProcessEnv = {
  ROUTING_KEY,
  OPSGENIE_KEY,
  HEC_TOKEN,
  JIRA_EMAIL,
  JIRA_TOKEN,
  SN_USER,
  SN_PASSWORD,
  ES_USER,
  ES_PASSWORD,
  get SLACK_URL() {
    return `${origin}/services/T0A1B2C3D/B0E4F5G6H/${SLACK_TOKEN}`;
  },
  get TEAMS_URL() {
    return `${origin}/workflows/${WORKFLOW_ID}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEAMS_SIG}`;
  },
};

const make = (config: Record<string, unknown>): Target => {
  const definition = targetDefinition(String(config.type))!;
  const settings = z.parse(definition.configSchema as z.ZodMiniType<unknown>, config);
  return definition.create(`echo-${String(config.type)}`, settings, targetContext({ env: ENV }));
};

let finding: EnrichedFinding;
beforeAll(async () => {
  finding = (await representativeFindings())[0]![1];
});

interface TargetCase {
  type: string;
  what: string;
  tokens: string[];
  statuses: number[];
  config: () => Record<string, unknown>;
  answer: (status: number, message: string) => Answer;
}

const CASES: TargetCase[] = [
  {
    type: 'webhook',
    what: 'the URL password and path token',
    tokens: [WEBHOOK_PASSWORD, WEBHOOK_TOKEN, b64(`hook-user:${WEBHOOK_PASSWORD}`)],
    statuses: [400, 503],
    config: () => ({ type: 'webhook', url: origin.replace('http://', `http://hook-user:${WEBHOOK_PASSWORD}@`) + `/hooks/${WEBHOOK_TOKEN}`, allowPrivateNetwork: true }),
    answer: text,
  },
  {
    type: 'slack',
    what: 'the webhook path',
    tokens: [SLACK_TOKEN, `/services/T0A1B2C3D/B0E4F5G6H/${SLACK_TOKEN}`],
    statuses: [400, 503, 200],
    config: () => ({ type: 'slack', webhookUrl: { env: 'SLACK_URL' }, allowPrivateNetwork: true }),
    answer: text,
  },
  {
    type: 'teams',
    what: 'the signature and workflow id',
    tokens: [TEAMS_SIG, WORKFLOW_ID],
    statuses: [400, 503],
    config: () => ({ type: 'teams', webhookUrl: { env: 'TEAMS_URL' }, allowPrivateNetwork: true }),
    answer: (status, message) => json(status, { error: { code: 'WorkflowTriggerIsNotEnabled', message } }),
  },
  {
    type: 'pagerduty',
    what: 'the routing key',
    tokens: [ROUTING_KEY],
    statuses: [400, 500, 202],
    config: () => ({ type: 'pagerduty', routingKey: { env: 'ROUTING_KEY' }, url: `${origin}/v2/enqueue`, allowPrivateNetwork: true }),
    answer: (status, message) => json(status, status === 202 ? { status: message, message: 'Event processed' } : { status: 'invalid event', message, errors: [message] }),
  },
  {
    type: 'opsgenie',
    what: 'the API key',
    tokens: [OPSGENIE_KEY],
    statuses: [401, 503],
    config: () => ({ type: 'opsgenie', apiKey: { env: 'OPSGENIE_KEY' }, url: origin, allowPrivateNetwork: true }),
    answer: (status, message) => json(status, { message, took: 0, requestId: 'r' }),
  },
  {
    type: 'jira',
    what: 'the API token',
    tokens: [JIRA_TOKEN, b64(`${JIRA_EMAIL}:${JIRA_TOKEN}`)],
    statuses: [400, 503],
    config: () => ({ type: 'jira', url: origin, project: 'SEC', email: { env: 'JIRA_EMAIL' }, apiToken: { env: 'JIRA_TOKEN' }, allowPrivateNetwork: true }),
    answer: (status, message) => json(status, { errorMessages: [message], errors: {} }),
  },
  {
    type: 'servicenow',
    what: 'the password',
    tokens: [SN_PASSWORD, b64(`${SN_USER}:${SN_PASSWORD}`)],
    statuses: [400, 503],
    config: () => ({ type: 'servicenow', url: origin, username: { env: 'SN_USER' }, password: { env: 'SN_PASSWORD' }, allowPrivateNetwork: true }),
    answer: (status, message) => json(status, { error: { message, detail: null }, status: 'failure' }),
  },
  {
    type: 'splunk',
    what: 'the HEC token',
    tokens: [HEC_TOKEN],
    statuses: [403, 503],
    config: () => ({ type: 'splunk', url: origin, token: { env: 'HEC_TOKEN' }, allowPrivateNetwork: true }),
    answer: (status, message) => json(status, { text: message, code: status === 403 ? 4 : 9 }),
  },
  {
    type: 'elasticsearch',
    what: 'the password',
    tokens: [ES_PASSWORD, b64(`${ES_USER}:${ES_PASSWORD}`)],
    statuses: [401, 503, 200],
    config: () => ({ type: 'elasticsearch', url: origin, basic: { username: { env: 'ES_USER' }, password: { env: 'ES_PASSWORD' } }, allowPrivateNetwork: true }),
    answer: (status, message) =>
      status === 200
        ? json(200, { took: 1, errors: true, items: [{ create: { _index: 'guardduty', _id: 'x', status: 400, error: { type: 'mapper_parsing_exception', reason: message } } }] })
        : json(status, { error: { type: 'security_exception', reason: message }, status }),
  },
  {
    type: 'firehose',
    what: 'the secret key and session token',
    tokens: [AWS_SECRET_KEY, AWS_SESSION_TOKEN],
    statuses: [400, 503],
    config: () => ({ type: 'firehose', deliveryStreamName: 'guardduty-findings', region: 'eu-west-1', endpoint: origin, allowPrivateNetwork: true }),
    answer: awsJson,
  },
  {
    type: 'eventbridge',
    what: 'the secret key and session token',
    tokens: [AWS_SECRET_KEY, AWS_SESSION_TOKEN],
    statuses: [400, 503],
    config: () => ({ type: 'eventbridge', eventBus: 'security-automation', region: 'eu-west-1', endpoint: origin, allowPrivateNetwork: true }),
    answer: awsJson,
  },
  {
    type: 'sns',
    what: 'the secret key and session token',
    tokens: [AWS_SECRET_KEY, AWS_SESSION_TOKEN],
    statuses: [400, 503],
    config: () => ({ type: 'sns', topicArn: 'arn:aws:sns:eu-west-1:111111111111:guardduty-findings', endpoint: origin, allowPrivateNetwork: true }),
    answer: awsQuery,
  },
];

describe.each(CASES.filter((c) => targetDefinition(c.type) !== undefined))('Target $type: a secret echoed across the snippet cut', (targetCase) => {
  itMasksEchoesAcrossCuts({
    what: targetCase.what,
    tokens: targetCase.tokens,
    statuses: targetCase.statuses,
    echoing: (status, message) => {
      answer = targetCase.answer(status, message);
    },
    send: () => sendFinding(make(targetCase.config()), finding),
  });
});
