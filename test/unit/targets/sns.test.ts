import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { DeliveryError, DestinationRefusedError } from '../../../shared/errors.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { buildSnsPublish, SNS_MAX_BYTES, SnsConfigSchema, snsDeliveryError, snsSubject, snsTarget, type SnsPublishInput } from '../../../shared/targets/sns.ts';
import type { DeliveryContext, Target } from '../../../shared/targets/types.ts';
import { enrichedFrom, HOSTILE, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { SNS_ACCESS_KEY_ID, SNS_SECRET_ACCESS_KEY, startSnsLoopback, type SnsForcedAnswer, type SnsLoopback } from '../../helpers/sns-loopback.ts';
import { withHostileActor } from '../../helpers/hostile-actor.ts';
import { closedPort, expectNoLeak, failure, findingJob, targetContext } from '../../helpers/target-contract.ts';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:guardduty-findings';
const FIFO_TOPIC = 'arn:aws:sns:us-east-1:123456789012:guardduty-findings.fifo';
const SESSION_TOKEN = 'SESSIONTOKENSECRET-FwoGZXIvYXdzEJr';

// ── A strict reader for the plain-text message ───────────────────────────────

const LABELS = ['Account', 'Owner', 'Resource', 'Type', 'Region', 'Count', 'What', 'From', 'Caller', 'Process', 'Container', 'Signals', 'Seen', 'Updated'] as const;
type Label = (typeof LABELS)[number];

interface ParsedText {
  severity: string;
  title: string;
  fields: Partial<Record<Label, string>>;
  description: string;
  consoleUrl: string;
  findingId: string;
}

/** Every character a reader or mail client could treat as a line break, a control or a direction change. */
const UNSAFE_IN_VALUE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/**
 * Parses the text message by its exact layout and fails on anything else: a value can never
 * add a line, a label or a second console link.
 */
const parseText = (message: string): ParsedText => {
  expect(message.endsWith('\n')).toBe(true);
  expect(message, 'only LF line breaks, no control, bidi or separator characters').not.toMatch(UNSAFE_IN_VALUE);
  expect(message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  const lines = message.slice(0, -1).split('\n');
  const take = (): string => {
    const next = lines.shift();
    expect(next, 'message ended early').toBeDefined();
    return next!;
  };
  const head = /^GuardDuty finding: (.+) severity$/.exec(take());
  expect(head).not.toBeNull();
  const title = take();
  expect(take()).toBe('');
  const fields: Partial<Record<Label, string>> = {};
  let order = 0;
  for (let row = take(); row !== ''; row = take()) {
    const match = new RegExp(`^(${LABELS.join('|')}): +(.*)$`).exec(row);
    expect(match, `not a field line: ${row.slice(0, 60)}`).not.toBeNull();
    const label = match![1] as Label;
    expect(LABELS.indexOf(label), 'fields in order, each once').toBeGreaterThanOrEqual(order);
    order = LABELS.indexOf(label) + 1;
    fields[label] = match![2]!;
  }
  const description = take();
  expect(take()).toBe('');
  expect(take()).toBe('Open in the GuardDuty console:');
  const consoleUrl = take();
  expect(take()).toBe('');
  const id = /^Finding ID: (.*)$/.exec(take());
  expect(id).not.toBeNull();
  expect(lines).toEqual([]);
  return { severity: head![1]!, title, fields, description, consoleUrl, findingId: id![1]! };
};

/** What a value becomes on one line: line breaks to spaces, control and bidi characters dropped. */
const oneLine = (text: string): string =>
  text
    .replace(/[\r\n\u000b\u000c\u0085\u2028\u2029]+/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    .replace(/\t/g, ' ')
    .replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();

const expectValue = (rendered: string | undefined, source: string, label: string): boolean => {
  expect(rendered, label).toBeDefined();
  if (rendered!.endsWith(TRUNCATION_MARKER)) {
    expect(oneLine(source).startsWith(rendered!.slice(0, -TRUNCATION_MARKER.length)), `${label}: prefix`).toBe(true);
    return true;
  }
  expect(rendered, label).toBe(oneLine(source));
  return false;
};

/** The Subject rules SNS enforces. */
const expectValidSubject = (subject: string | undefined): void => {
  expect(subject).toMatch(/^[A-Za-z0-9\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e][\x20-\x7e]{0,98}$/);
};

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');
const publishBytes = (input: SnsPublishInput): number =>
  utf8(input.Message ?? '') +
  Object.entries(input.MessageAttributes ?? {}).reduce((sum, [k, v]) => sum + utf8(k) + utf8(v.DataType ?? '') + utf8(v.StringValue ?? ''), 0);

/** Asserts a whole Publish input: subject, text layout, every value, attributes and size. */
const assertPublish = (input: SnsPublishInput, enriched: EnrichedFinding): { truncated: string[] } => {
  const { finding, enrichment: e } = enriched;
  expectValidSubject(input.Subject);
  expect(publishBytes(input)).toBeLessThanOrEqual(SNS_MAX_BYTES);
  const parsed = parseText(input.Message ?? '');
  const truncated: string[] = [];
  const check = (rendered: string | undefined, source: string, label: string) => {
    if (expectValue(rendered, source, label)) truncated.push(label);
  };
  check(parsed.title, `${e.sample ? '[SAMPLE] ' : ''}${finding.title ?? finding.type}`, 'title');
  check(parsed.fields.Account, e.account.name ? `${e.account.name} (${finding.accountId})` : `${finding.accountId} (unknown account)`, 'account');
  const owner = e.account.tags.owner ?? e.account.email;
  if (owner === undefined) expect(parsed.fields.Owner).toBeUndefined();
  else check(parsed.fields.Owner, owner, 'owner');
  check(parsed.fields.Resource, e.resourceSummary, 'resource');
  check(parsed.fields.Type, finding.type, 'type');
  check(parsed.fields.Region, finding.region, 'region');
  expect(parsed.fields.Count).toBe(String(e.count));
  if (finding.description) check(parsed.description, finding.description, 'description');
  else expect(parsed.description).toBe('(no description)');
  expect(parsed.consoleUrl).toBe(e.consoleUrl);
  check(parsed.findingId, finding.id, 'finding id');
  const attributes = input.MessageAttributes ?? {};
  expect(Object.keys(attributes)).toEqual(['severity', 'severityScore', 'findingType', 'accountId', 'region']);
  for (const [name, value] of Object.entries(attributes)) {
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(value.StringValue, name).toMatch(/^\S/);
    expect(value.StringValue, name).not.toMatch(UNSAFE_IN_VALUE);
    expect(value.StringValue!.length).toBeLessThanOrEqual(256);
  }
  expect(attributes.severity).toEqual({ DataType: 'String', StringValue: e.severityLabel });
  expect(attributes.severityScore).toEqual({ DataType: 'Number', StringValue: String(finding.severity) });
  return { truncated };
};

// ── The real target against the loopback ────────────────────────────────────

const loopbacks: SnsLoopback[] = [];
const sns = async (): Promise<SnsLoopback> => {
  const loopback = await startSnsLoopback();
  loopback.addTopic('guardduty-findings');
  loopback.addTopic('guardduty-findings.fifo');
  loopbacks.push(loopback);
  return loopback;
};
beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', SNS_ACCESS_KEY_ID);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', SNS_SECRET_ACCESS_KEY);
  vi.stubEnv('AWS_SESSION_TOKEN', SESSION_TOKEN);
  vi.stubEnv('AWS_PROFILE', undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(loopbacks.splice(0).map((loopback) => loopback.close()));
});

const makeSns = (settings: Record<string, unknown>): Target =>
  snsTarget.create('soc-sns', z.parse(snsTarget.configSchema, { type: 'sns', ...settings }), targetContext());

const loopbackSns = (loopback: SnsLoopback, settings: Record<string, unknown> = {}): Target =>
  makeSns({ topicArn: TOPIC, endpoint: loopback.endpoint, allowPrivateNetwork: true, ...settings });

const delivery = (deadlineMs = 5_000, idempotencyKey = 'a'.repeat(64)): DeliveryContext => ({ idempotencyKey, attempt: 1, deadline: Date.now() + deadlineMs });

const SECRETS = [SNS_SECRET_ACCESS_KEY, SESSION_TOKEN, 'AWS4-HMAC-SHA256', 'Signature='];

let representative: [string, EnrichedFinding][] = [];
const REPRESENTATIVE_NAMES = ['instance', 'access-key', 's3-bucket', 'eks', 'ecs-container', 'rds', 'lambda', 'malware-scan', 'attack-sequence', 'unknown-type'];
const named = (name: string): EnrichedFinding => {
  const found = representative.find(([candidate]) => candidate === name);
  if (found === undefined) throw new Error(`no representative finding ${name}`);
  return found[1];
};
beforeAll(async () => {
  representative = await representativeFindings();
});

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: sns', () => {
  describe('config', () => {
    it.each([
      [{ topicArn: TOPIC }, true],
      [{ topicArn: FIFO_TOPIC, format: 'json' }, true],
      [{ topicArn: 'arn:aws-cn:sns:cn-north-1:123456789012:t_1-x' }, true],
      [{ topicArn: TOPIC, region: 'us-east-1' }, true],
      [{ topicArn: TOPIC, region: 'eu-west-1' }, false],
      [{ topicArn: TOPIC, region: 'EU' }, false],
      [{ topicArn: 'arn:aws:sqs:us-east-1:123456789012:queue' }, false],
      [{ topicArn: 'arn:aws:sns:us-east-1:1234:t' }, false],
      [{ topicArn: 'guardduty-findings' }, false],
      [{ topicArn: TOPIC, format: 'html' }, false],
      [{ topicArn: TOPIC, endpoint: 'not a url' }, false],
      [{ topicArn: TOPIC, subject: 'x' }, false],
    ])('%j → valid: %s', (settings, valid) => {
      // Prepare
      const config = { type: 'sns', ...settings };

      // Act
      const result = z.safeParse(SnsConfigSchema, config);

      // Assess
      expect(result.success).toBe(valid);
    });
  });

  describe('buildSnsPublish golden files', () => {
    it('covers every representative finding', () => {
      // Prepare
      const names = representative.map(([name]) => name);

      // Act
      const missing = REPRESENTATIVE_NAMES.filter((name) => !names.includes(name));

      // Assess
      expect(missing).toEqual([]);
    });

    it.each(REPRESENTATIVE_NAMES)('renders %s as in test/golden/sns', async (name) => {
      // Prepare
      const enriched = named(name);

      // Act
      const input = buildSnsPublish(enriched, { topicArn: TOPIC });

      // Assess
      await expect(`${JSON.stringify(input, null, 2)}\n`).toMatchFileSnapshot(`../../golden/sns/${name}.json`);
      expect(assertPublish(input, enriched).truncated).toEqual([]);
    });

    it('JSON format and FIFO topic: renders as in test/golden/sns/instance.fifo-json.json', async () => {
      // Prepare
      const enriched = named('instance');

      // Act
      const input = buildSnsPublish(enriched, { topicArn: FIFO_TOPIC, format: 'json' });

      // Assess
      await expect(`${JSON.stringify(input, null, 2)}\n`).toMatchFileSnapshot('../../golden/sns/instance.fifo-json.json');
      const message = JSON.parse(input.Message ?? '') as Record<string, unknown>;
      const asJson = JSON.parse(JSON.stringify(enriched)) as EnrichedFinding;
      expect(message).toMatchObject({ findingId: enriched.finding.id, consoleUrl: enriched.enrichment.consoleUrl, finding: asJson.finding, enrichment: asJson.enrichment });
      expect(input.MessageGroupId).toBe(`${enriched.finding.accountId}/${enriched.finding.region}/${enriched.finding.id}`);
      expectValidSubject(input.Subject);
    });

    it('render() is the Publish input, the same bytes every time', () => {
      // Prepare
      const enriched = named('eks');
      const target = makeSns({ topicArn: TOPIC });

      // Act
      const first = target.render(enriched);
      const second = target.render(structuredClone(enriched));

      // Assess
      expect(first).toEqual({ body: JSON.stringify(buildSnsPublish(enriched, { topicArn: TOPIC })), contentType: 'application/json', extension: 'json' });
      expect(second.body).toBe(first.body);
    });
  });

  describe('subject', () => {
    it.each([
      ['GuardDuty High 8: ok', 'GuardDuty High 8: ok'],
      ['Crème brûlée 中文 😀', 'Creme brulee ?? ??'],
      [' \r\n\u2028 leading', 'leading'],
      ['', 'GuardDuty finding'],
      ['x'.repeat(150), `${'x'.repeat(96)}...`],
      [`${HOSTILE.channel}${HOSTILE.crlf}${HOSTILE.ansi}${HOSTILE.c1}\u202Eevil`, '<!channel>line1 line2 line3 [31mRED[0m2Jevil'],
    ])('%j → %j', (input, output) => {
      // Prepare
      const text = input;

      // Act
      const subject = snsSubject(text);

      // Assess
      expect(subject).toBe(output);
      expectValidSubject(subject);
    });
  });

  describe('hostile finding', () => {
    it('every value stays on its own line, plain, cut cleanly; the subject is valid ASCII', async () => {
      // Prepare
      const enriched = await enrichedFrom(withHostileActor(hostileFinding()), hostileAccount());

      // Act
      const input = buildSnsPublish(enriched, { topicArn: TOPIC });

      // Assess
      const { truncated } = assertPublish(input, enriched);
      expect(truncated).toEqual(expect.arrayContaining(['title', 'resource']));
      const parsed = parseText(input.Message ?? '');
      expect(parsed.description).toContain('<!channel> <!here> <@U123> <https://evil.example|Approve>');
      // The actor facts are lines of their own; a hostile value cannot add one.
      expect(parsed.fields.What).toBe('AWS API call: ListBuckets<!here> on s3.amazonaws.com*bold* _it_ ~strike~');
      expect(parsed.fields.From).toMatch(/^203\.0\.113\.252, Bucharest\[31mRED\[0ma b c, Romania /);
      expect(parsed.fields.Seen).toBe('first 2026-11-01T09:00:00Z, last 2026-11-01T10:00:00Z, 3 times');
      expect(parsed.severity).toBe('High 8.9');
    });

    it('JSON format: hostile strings survive as data and the message parses', async () => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());

      // Act
      const input = buildSnsPublish(enriched, { topicArn: TOPIC, format: 'json' });

      // Assess
      const message = JSON.parse(input.Message ?? '') as { title: string; finding: { description: string } };
      expect(message.finding.description).toBe(enriched.finding.description);
      expect(message.title.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(`${enriched.enrichment.sample ? '[SAMPLE] ' : ''}${enriched.finding.title}`.startsWith(message.title.slice(0, -TRUNCATION_MARKER.length))).toBe(true);
      expectValidSubject(input.Subject);
      expect(publishBytes(input)).toBeLessThanOrEqual(SNS_MAX_BYTES);
    });

    it('very long multi-byte text everywhere stays within 256 KB (text and JSON)', async () => {
      // Prepare
      const huge = '中😀<&'.repeat(40_000);
      const base = await enrichedFrom(hostileFinding(), hostileAccount());
      const enriched = {
        ...base,
        finding: { ...base.finding, title: huge, description: huge, type: huge, region: huge, id: huge, padding: huge },
        enrichment: { ...base.enrichment, resourceSummary: huge, account: { ...base.enrichment.account, name: huge, tags: { owner: huge } } },
      };

      // Act
      const text = buildSnsPublish(enriched, { topicArn: FIFO_TOPIC });
      const json = buildSnsPublish(enriched, { topicArn: TOPIC, format: 'json' });

      // Assess
      const { truncated } = assertPublish(text, enriched);
      expect(truncated).toEqual(expect.arrayContaining(['title', 'account', 'owner', 'resource', 'type', 'region', 'description', 'finding id']));
      expect(text.MessageGroupId).toMatch(/^finding-[0-9a-f]{64}$/);
      expect(publishBytes(json)).toBeLessThanOrEqual(SNS_MAX_BYTES);
      expect(JSON.parse(json.Message ?? '')).toMatchObject({ findingOmitted: expect.any(String) });
    });

    it('is accepted by the loopback, which enforces the SNS limits', async () => {
      // Prepare
      const loopback = await sns();
      const target = loopbackSns(loopback);
      const payload = target.render(await enrichedFrom(hostileFinding(), hostileAccount()));

      // Act
      await target.send(findingJob(target, await enrichedFrom(hostileFinding(), hostileAccount()), delivery()));

      // Assess
      expect(loopback.delivered).toHaveLength(1);
      expect(loopback.delivered[0]?.Message).toBe((JSON.parse(payload.body) as SnsPublishInput).Message);
    });
  });

  describe('delivery with the AWS SDK (Query protocol, SigV4)', () => {
    it('publishes the rendered input: form-encoded Publish, signed for sns in the topic region', async () => {
      // Prepare
      const loopback = await sns();
      const target = loopbackSns(loopback);
      const payload = target.render(named('instance'));
      const rendered = JSON.parse(payload.body) as SnsPublishInput;

      // Act
      await target.send(findingJob(target, named('instance'), delivery()));

      // Assess
      expect(loopback.requests).toHaveLength(1);
      const [request] = loopback.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/');
      expect(request?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      expect(request?.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${SNS_ACCESS_KEY_ID}/\\d{8}/us-east-1/sns/aws4_request, SignedHeaders=\\S*host\\S*, Signature=[0-9a-f]{64}$`));
      expect(request?.headers['x-amz-security-token']).toBe(SESSION_TOKEN);
      expect(request?.params).toMatchObject({ Action: 'Publish', Version: '2010-03-31', TopicArn: TOPIC, Subject: rendered.Subject, Message: rendered.Message });
      expect(request?.params.MessageDeduplicationId).toBeUndefined();
      expect(loopback.delivered).toEqual([
        expect.objectContaining({ TopicArn: TOPIC, Subject: rendered.Subject, Message: rendered.Message, MessageAttributes: rendered.MessageAttributes }),
      ]);
    });

    it('FIFO topic: one group per finding, the idempotency key deduplicates a repeated delivery', async () => {
      // Prepare
      const loopback = await sns();
      const target = loopbackSns(loopback, { topicArn: FIFO_TOPIC });
      const enriched = named('rds');
      const payload = target.render(enriched);
      const key = 'f'.repeat(64);

      // Act
      await target.send(findingJob(target, enriched, delivery(5_000, key)));
      await target.send(findingJob(target, enriched, delivery(5_000, key)));

      // Assess
      expect(loopback.accepted).toHaveLength(2);
      expect(loopback.delivered).toHaveLength(1);
      expect(loopback.delivered[0]).toMatchObject({
        MessageDeduplicationId: key,
        MessageGroupId: `${enriched.finding.accountId}/${enriched.finding.region}/${enriched.finding.id}`,
      });
    });

    it('FIFO topic: a key SNS would refuse is hashed into a valid deduplication id', async () => {
      // Prepare
      const loopback = await sns();
      const target = loopbackSns(loopback, { topicArn: FIFO_TOPIC });

      // Act
      await target.send(findingJob(target, named('lambda'), delivery(5_000, `key with spaces ${'x'.repeat(200)}`)));

      // Assess
      expect(loopback.delivered[0]?.MessageDeduplicationId).toMatch(/^dedup-[0-9a-f]{64}$/);
    });

    const ERRORS: [string, SnsForcedAnswer, boolean][] = [
      ['Throttling (400)', { status: 400, code: 'Throttling', message: 'Rate exceeded' }, true],
      ['Throttled (429)', { status: 429, code: 'Throttled', message: 'Rate exceeded' }, true],
      ['KMSThrottling (400)', { status: 400, code: 'KMSThrottling', message: 'KMS throttled the request' }, true],
      ['InternalError (500)', { status: 500, code: 'InternalError', type: 'Receiver', message: 'Internal failure' }, true],
      ['ServiceUnavailable (503)', { status: 503, code: 'ServiceUnavailable', type: 'Receiver', message: 'Service unavailable' }, true],
      ['InvalidParameter (400)', { status: 400, code: 'InvalidParameter', message: 'Invalid parameter: Message' }, false],
      ['AuthorizationError (403)', { status: 403, code: 'AuthorizationError', message: 'User is not authorized to perform: SNS:Publish' }, false],
      ['KMSDisabled (400)', { status: 400, code: 'KMSDisabled', message: 'The key is disabled' }, false],
    ];
    it.each(ERRORS)('%s → retryable %s', async (_label, answer, retryable) => {
      // Prepare
      const loopback = await sns();
      loopback.answer = answer;
      const target = loopbackSns(loopback);

      // Act
      const error = await failure(target.send(findingJob(target, named('s3-bucket'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable, status: answer.status, target: 'soc-sns' });
      expect(error.message).toContain(answer.message);
      expectNoLeak(error, SECRETS);
    });

    it('NotFound for a topic that does not exist is permanent', async () => {
      // Prepare
      const loopback = await sns();
      const target = loopbackSns(loopback, { topicArn: 'arn:aws:sns:us-east-1:123456789012:deleted-topic' });

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 404 });
      expect(error.message).toContain('Topic does not exist');
      expect(loopback.requests[0]?.errorCode).toBe('NotFound');
    });

    it('wrong credentials are refused by the signature check, permanently', async () => {
      // Prepare
      const loopback = await sns();
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'WRONG-SECRET-KEY-VALUE');
      const target = loopbackSns(loopback);

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 403 });
      expect(error.message).toContain('SignatureDoesNotMatch');
      expect(error.message).not.toContain('WRONG-SECRET-KEY-VALUE');
    });

    const TABLE: [number, 'delivered' | 'retryable' | 'permanent'][] = [
      [200, 'delivered'],
      [201, 'delivered'],
      [202, 'delivered'],
      [204, 'retryable'],
      [301, 'permanent'],
      [400, 'permanent'],
      [401, 'permanent'],
      [403, 'permanent'],
      [404, 'permanent'],
      [408, 'retryable'],
      [409, 'permanent'],
      [413, 'permanent'],
      [429, 'retryable'],
      [500, 'retryable'],
      [502, 'retryable'],
      [503, 'retryable'],
      [504, 'retryable'],
    ];
    const CODES: Record<number, string> = {
      301: 'PermanentRedirect',
      400: 'InvalidParameter',
      401: 'InvalidClientTokenId',
      403: 'AuthorizationError',
      404: 'NotFound',
      408: 'RequestTimeout',
      409: 'ConcurrentAccess',
      413: 'RequestEntityTooLarge',
      429: 'Throttled',
      500: 'InternalError',
      502: 'BadGateway',
      503: 'ServiceUnavailable',
      504: 'GatewayTimeout',
    };
    it.each(TABLE)('HTTP %i → %s', async (status, outcome) => {
      // Prepare
      const loopback = await sns();
      const success = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult><ResponseMetadata><RequestId>f187a3c1</RequestId></ResponseMetadata></PublishResponse>`;
      loopback.answer =
        status < 300
          ? { status, body: status === 204 ? '' : success }
          : { status, code: CODES[status], type: status >= 500 ? 'Receiver' : 'Sender', message: `answered ${status}` };
      const target = loopbackSns(loopback);

      // Act
      const result = await target.send(findingJob(target, named('malware-scan'), delivery())).then(
        () => 'delivered' as const,
        (error: unknown) => error,
      );

      // Assess
      if (outcome === 'delivered') {
        expect(result).toBe('delivered');
      } else {
        expect(result).toBeInstanceOf(DeliveryError);
        expect((result as DeliveryError).retryable).toBe(outcome === 'retryable');
        expectNoLeak(result as DeliveryError, SECRETS);
      }
    });
  });

  describe('secret leaks and transport failures', () => {
    it('timeout: a server that never answers fails at the deadline, retryable, no credential in the error', async () => {
      // Prepare
      const loopback = await sns();
      loopback.answer = 'hang';
      const target = loopbackSns(loopback);
      const payload = target.render(named('instance'));
      const started = Date.now();

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery(300))));

      // Assess
      expect(error).toMatchObject({ retryable: true, message: 'SNS Publish failed: timed out' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(2_000);
      expectNoLeak(error, SECRETS);
    });

    it('connection refused is retryable', async () => {
      // Prepare
      const target = makeSns({ topicArn: TOPIC, endpoint: `http://127.0.0.1:${await closedPort()}`, allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toContain('ECONNREFUSED');
      expectNoLeak(error, SECRETS);
    });

    it('connection reset is retryable', async () => {
      // Prepare
      const loopback = await sns();
      loopback.answer = 'reset';
      const target = loopbackSns(loopback);

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expectNoLeak(error, SECRETS);
    });

    it.each([
      [403, 'AuthorizationError', false],
      [500, 'InternalError', true],
    ] as const)('HTTP %i %s whose message echoes the credentials keeps them hidden', async (status, code, retryable) => {
      // Prepare
      const loopback = await sns();
      loopback.answer = { status, code, message: `denied: authorization=${SNS_SECRET_ACCESS_KEY} token=${SESSION_TOKEN} see https://sns.example/${SESSION_TOKEN}` };
      const target = loopbackSns(loopback);

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable, status });
      expectNoLeak(error, SECRETS);
    });

    it('no time left before the deadline: retryable without a request', async () => {
      // Prepare
      const loopback = await sns();
      const target = loopbackSns(loopback);

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery(10))));

      // Assess
      expect(error.retryable).toBe(true);
      expect(loopback.requests).toHaveLength(0);
    });

    it('missing credentials are a permanent configuration error', () => {
      // Prepare
      const sdkError = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });

      // Act
      const error = snsDeliveryError('soc-sns', sdkError, false);

      // Assess
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toContain('no AWS credentials');
    });
  });

  describe('destination checks', () => {
    it('refuses a plain-http or private endpoint without allowPrivateNetwork and sends nothing', async () => {
      // Prepare
      const loopback = await sns();
      const target = makeSns({ topicArn: TOPIC, endpoint: loopback.endpoint });

      // Act
      const error = await failure(target.send(findingJob(target, named('instance'), delivery())));

      // Assess
      expect(error).toBeInstanceOf(DestinationRefusedError);
      expect(loopback.requests).toHaveLength(0);
    });
  });
});
