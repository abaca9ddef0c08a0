import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { DestinationRefusedError } from '../../../shared/errors.ts';
import type { SecretRef } from '../../../shared/secrets.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { buildSlackMessage, slackTarget } from '../../../shared/targets/slack.ts';
import type { RenderedPayload, Target } from '../../../shared/targets/types.ts';
import { withHostileActor } from '../../helpers/hostile-actor.ts';
import { enrichedFrom, FILLER_SHIFTS, hostileAccount, hostileFinding, loadFinding } from '../../helpers/findings.ts';
import { closedPort, delivery, expectNoLeak, failure, findingJob, targetContext } from '../../helpers/target-contract.ts';

// ── Representative findings (fixtures copied verbatim into test/events/targets) ──

/** Published GuardDuty examples (see /work/shared/guardduty/examples/README.md for provenance). */
const REPRESENTATIVE: { name: string; file: string; account?: Parameters<typeof enrichedFrom>[1] }[] = [
  {
    name: 'ssh-bruteforce',
    file: 'targets/ssh-bruteforce.sample.eventbridge.json',
    account: { name: 'security-sandbox', email: 'secops@example.com', tags: { owner: 'secops', env: 'sandbox' } },
  },
  {
    name: 'iam-accesskey',
    file: 'targets/iam-stealth-loggingconfigurationmodified.sample.eventbridge.json',
    account: { name: 'payments-prod', ou: 'Root/Workloads/Prod', tags: { owner: 'payments', env: 'prod' } },
  },
  { name: 's3-bucket', file: 'targets/s3-pentest-parrotlinux.sample.detail.json', account: { name: 'data-lake', email: 'data@example.com', tags: {} } },
  // Composed for these tests: a type the router does not know, resourceType only, no description, unknown account.
  { name: 'unknown-type', file: 'targets/unknown-type-no-resource.COMPOSED.detail.json' },
];

const representative = (name: string): Promise<EnrichedFinding> => {
  const entry = REPRESENTATIVE.find((candidate) => candidate.name === name);
  if (entry === undefined) throw new Error(`no representative finding ${name}`);
  return enrichedFrom(loadFinding(entry.file), entry.account);
};

// ── Walking a Block Kit message ──────────────────────────────────────────────

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface TextObject {
  type: string;
  text: string;
}

/** Every text object (`{ type: 'mrkdwn' | 'plain_text', text }`) anywhere in the message. */
const textObjects = (node: Json): TextObject[] => {
  if (Array.isArray(node)) return node.flatMap(textObjects);
  if (node === null || typeof node !== 'object') return [];
  const own = (node.type === 'mrkdwn' || node.type === 'plain_text') && typeof node.text === 'string' ? [node as unknown as TextObject] : [];
  return [...own, ...Object.values(node).flatMap(textObjects)];
};

/** The one link the router writes itself. */
const CONSOLE_LINK = /<https:\/\/console\.aws\.amazon\.com\/guardduty\/home\?[^<>|\s]*\|Open in the GuardDuty console>/g;
const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BARE_AMPERSAND = /&(?!amp;|lt;|gt;)/;

interface SlackMessage {
  text: string;
  blocks: { type: string; text?: TextObject; fields?: TextObject[]; elements?: TextObject[] }[];
}

/** Asserts every mrkdwn string of the message is inert and within Slack's limits. */
const slackMessage = (enriched: EnrichedFinding): SlackMessage => buildSlackMessage(enriched) as SlackMessage;

const assertInertAndWithinLimits = (message: SlackMessage): void => {
  const texts = [message.text, ...textObjects(message as unknown as Json).map((object) => object.text)];
  const consoleLinks = texts.flatMap((text) => text.match(CONSOLE_LINK) ?? []);
  expect(consoleLinks).toHaveLength(1);
  for (const text of texts) {
    const outsideLink = text.replace(CONSOLE_LINK, '');
    expect(outsideLink, 'no link or mention outside the console link').not.toMatch(/[<>]/);
    expect(text, 'every & starts an entity').not.toMatch(BARE_AMPERSAND);
    expect(text, 'no code span can open').not.toContain('`');
    expect(text, 'no broken surrogate pair').not.toMatch(BROKEN_SURROGATE);
  }
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  expect(message.text.length).toBeLessThanOrEqual(3000);
  for (const block of message.blocks) {
    if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
    for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
  }
};

// ── A loopback Slack incoming webhook ───────────────────────────────────────

const WEBHOOK_PATH = '/services/T000/B000/XXXXSECRETTOKEN';
const SECRET_PARTS = ['XXXXSECRETTOKEN', '/services/T000/B000'];

interface SlackAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface SlackReceiver {
  url: string;
  origin: string;
  requests: { method: string; path: string; headers: IncomingHttpHeaders; body: string }[];
  /** Forces the next answers (the channel was archived, Slack is throttling...). */
  answer: SlackAnswer | 'hang' | 'reset' | undefined;
  close(): Promise<void>;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What Slack checks before posting: a message, ≤ 50 blocks, section text ≤ 3,000, ≤ 10 fields of ≤ 2,000. */
const slackProblem = (message: unknown): string | undefined => {
  if (!isRecord(message)) return 'invalid_payload';
  if (typeof message.text !== 'string' && !Array.isArray(message.blocks)) return 'no_text';
  if (message.blocks === undefined) return undefined;
  if (!Array.isArray(message.blocks) || message.blocks.length > 50) return 'invalid_blocks';
  const textOk = (object: unknown, max: number) =>
    isRecord(object) && (object.type === 'mrkdwn' || object.type === 'plain_text') && typeof object.text === 'string' && object.text.length > 0 && object.text.length <= max;
  for (const block of message.blocks) {
    if (!isRecord(block)) return 'invalid_blocks';
    if (block.type === 'section') {
      if (block.text === undefined && block.fields === undefined) return 'invalid_blocks';
      if (block.text !== undefined && !textOk(block.text, 3000)) return 'invalid_blocks';
      if (block.fields !== undefined && (!Array.isArray(block.fields) || block.fields.length > 10 || !block.fields.every((f) => textOk(f, 2000)))) {
        return 'invalid_blocks';
      }
    } else if (block.type === 'context') {
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) return 'invalid_blocks';
    } else {
      return 'invalid_blocks';
    }
  }
  return undefined;
};

/** Answers like Slack incoming webhooks: `ok`, or a short error code in a text/html body. */
const startSlack = async (): Promise<SlackReceiver> => {
  const receiver = { requests: [], answer: undefined } as unknown as SlackReceiver;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    receiver.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    const reply = ({ status, body: text, headers }: SlackAnswer) => {
      res.writeHead(status, { 'content-type': 'text/html', ...headers });
      res.end(text);
    };
    const forced = receiver.answer;
    if (forced === 'hang') return;
    if (forced === 'reset') {
      req.socket.destroy();
      return;
    }
    if (req.method !== 'POST') return reply({ status: 405, body: 'invalid_method' });
    if (req.url !== WEBHOOK_PATH) return reply({ status: 404, body: 'no_service' });
    if (!req.headers['content-type']?.startsWith('application/json')) return reply({ status: 400, body: 'invalid_payload' });
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      return reply({ status: 400, body: 'invalid_payload' });
    }
    const problem = slackProblem(message);
    if (problem !== undefined) return reply({ status: 400, body: problem });
    reply(forced ?? { status: 200, body: 'ok' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.origin = `http://127.0.0.1:${port}`;
  receiver.url = `${receiver.origin}${WEBHOOK_PATH}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
};

/** A port with nothing listening (bound, then released). */

// ── The real target ──────────────────────────────────────────────────────────

const makeSlack = (webhookUrl: SecretRef, options: { allowPrivateNetwork?: boolean; env?: NodeJS.ProcessEnv } = {}): Target =>
  slackTarget.create(
    'soc-slack',
    { type: 'slack', webhookUrl, ...(options.allowPrivateNetwork === undefined ? {} : { allowPrivateNetwork: options.allowPrivateNetwork }) },
    targetContext({ env: options.env }),
  );

/** The DeliveryError a send fails with (fails the test if it succeeds). */

/** Nothing of the webhook URL's path (its token) in the message, the stack, or anything inspect shows. */

const receivers: SlackReceiver[] = [];
const slackReceiver = async (): Promise<SlackReceiver> => {
  const receiver = await startSlack();
  receivers.push(receiver);
  return receiver;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: slack', () => {
  describe('buildSlackMessage golden files', () => {
    it.each(REPRESENTATIVE.map((entry) => entry.name))('renders %s as in test/golden/slack', async (name) => {
      // Prepare
      const enriched = await representative(name);

      // Act
      const message = slackMessage(enriched);

      // Assess
      await expect(`${JSON.stringify(message, null, 2)}\n`).toMatchFileSnapshot(`../../golden/slack/${name}.json`);
      assertInertAndWithinLimits(message);
    });

    it('render() sends exactly the built message, the same bytes every time', async () => {
      // Prepare
      const enriched = await representative('ssh-bruteforce');
      const target = makeSlack({ value: 'https://hooks.slack.com/services/T000/B000/XXXXSECRETTOKEN' });

      // Act
      const first = target.render(enriched);
      const second = target.render(structuredClone(enriched));

      // Assess
      expect(first).toEqual({ body: JSON.stringify(buildSlackMessage(enriched)), contentType: 'application/json', extension: 'json' });
      expect(second.body).toBe(first.body);
    });

    it('the heading is one bold line even when the title has a trailing space or line breaks', async () => {
      // Prepare
      const sample = await representative('ssh-bruteforce'); // title ends with '. ' in the published sample
      const hostile = await enrichedFrom(hostileFinding(), hostileAccount());

      // Act
      const headings = [sample, hostile].map((enriched) => slackMessage(enriched).blocks[0]?.text?.text ?? '');

      // Assess
      expect(headings[0]).toBe(':large_blue_circle: *[SAMPLE] 198.51.100.0 is performing SSH brute force attacks against i-99999999.*');
      for (const heading of headings) expect(heading).toMatch(/^:[a-z_]+: \*\S[^\r\n\u2028\u2029]*\S\*$/);
    });

    it('unknown type without description or account: type as title, placeholder, unknown account', async () => {
      // Prepare
      const enriched = await representative('unknown-type');

      // Act
      const message = slackMessage(enriched);

      // Assess
      expect(message.blocks[0]?.text?.text).toBe(':red_circle: *A finding type the router has never seen*');
      expect(message.blocks[2]?.text?.text).toBe('_no description_');
      expect(message.blocks[1]?.fields?.map((field) => field.text)).toContain('*Account*\n123456789012 (unknown account)');
      expect(message.blocks[1]?.fields?.map((field) => field.text)).toContain('*Resource*\nFutureResource');
    });

    // enrich.ts summarizeResource looks at instanceDetails before resourceType, and GuardDuty's
    // sample S3 finding carries a stray instanceDetails block: the Resource field says
    // "Instance i-99999999". `.fails` keeps this visible; when enrich.ts is fixed this test
    // fails: drop `.fails` and update test/golden/slack/s3-bucket.json with -u.
    it('S3 finding: the Resource field names the bucket, not the stray instance', async () => {
      // Prepare
      const enriched = await representative('s3-bucket');

      // Act
      const message = slackMessage(enriched);

      // Assess
      expect(message.blocks[1]?.fields?.map((field) => field.text)).toContain('*Resource*\nS3Bucket bucketName');
    });
  });

  describe('hostile finding', () => {
    it.each(Array.from({ length: FILLER_SHIFTS }, (_, shift) => shift))(
      'every mrkdwn text is inert, within limits and cut cleanly (filler shift %i)',
      async (shift) => {
        // Prepare
        const enriched = await enrichedFrom(withHostileActor(hostileFinding({ shift })), hostileAccount());

        // Act
        const message = slackMessage(enriched);
        const parsed = JSON.parse(JSON.stringify(message)) as SlackMessage;

        // Assess
        assertInertAndWithinLimits(parsed);
        const [title, fields, description, actor, context] = parsed.blocks;
        // Who did what from where: shown, escaped like every other finding string.
        expect(actor?.text?.text).toContain('*What* AWS API call: ListBuckets&lt;!here&gt; on s3.amazonaws.com∗bold∗ _it_ ~strike~');
        expect(actor?.text?.text).toContain('*From* 203.0.113.252, Bucharest');
        expect(actor?.text?.text).toContain('AS9009 M247 &lt;https://evil.example|Approve&gt;');
        expect(actor?.text?.text).toContain('*Seen* first 2026-11-01T09:00:00Z, last 2026-11-01T10:00:00Z, 3 times');
        const field = (label: string) => fields?.fields?.find((f) => f.text.startsWith(`*${label}*`))?.text ?? '';
        expect(title?.text?.text.endsWith(`${TRUNCATION_MARKER}*`)).toBe(true);
        expect(description?.text?.text.endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(field('Resource').endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(field('Account').endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(parsed.text.endsWith(TRUNCATION_MARKER)).toBe(true);
        // Escaped, not dropped: the hostile text is still there for a human to read.
        expect(description?.text?.text).toContain('&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;https://evil.example|Approve&gt;');
        expect(description?.text?.text).toContain('&amp;lt;b&amp;gt; &amp;amp;');
        expect(field('Region')).toContain('&lt;!channel&gt;');
        // The link targets the finding: its id is percent-encoded, the region falls back to a valid one.
        const href = context?.elements?.[0]?.text.match(/^<([^|]*)\|/)?.[1]?.replace(/&amp;/g, '&');
        expect(href).toBe(enriched.enrichment.consoleUrl);
        expect(href).toContain('region=us-east-1#');
        expect(href).toContain(`fId=${encodeURIComponent(enriched.finding.id)}`);
      },
    );

    it('is accepted by a receiver that enforces the Block Kit limits', async () => {
      // Prepare
      const receiver = await slackReceiver();
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });
      const payload = target.render(await enrichedFrom(hostileFinding(), hostileAccount()));

      // Act
      await target.send(findingJob(target, await enrichedFrom(hostileFinding(), hostileAccount()), delivery()));

      // Assess
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]?.body).toBe(payload.body);
    });
  });

  describe('delivery to a Slack incoming webhook', () => {
    it('posts the rendered JSON to the webhook URL and succeeds on 200 ok', async () => {
      // Prepare
      const receiver = await slackReceiver();
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });
      const payload = target.render(await representative('ssh-bruteforce'));

      // Act
      await target.send(findingJob(target, await representative('ssh-bruteforce'), delivery()));

      // Assess
      expect(receiver.requests).toHaveLength(1);
      const [request] = receiver.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe(WEBHOOK_PATH);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request?.body ?? '')).toEqual(JSON.parse(payload.body));
    });

    it('resolves the webhook URL from an environment reference', async () => {
      // Prepare
      const receiver = await slackReceiver();
      const target = makeSlack({ env: 'SOC_SLACK_WEBHOOK' }, { allowPrivateNetwork: true, env: { SOC_SLACK_WEBHOOK: receiver.url } });

      // Act
      await target.send(findingJob(target, await representative('unknown-type'), delivery()));

      // Assess
      expect(receiver.requests.map((request) => request.path)).toEqual([WEBHOOK_PATH]);
    });

    it('a Slack-compatible relay answering 204 No Content counts as delivered, not as a failure to retry', async () => {
      // Prepare
      const receiver = await slackReceiver();
      receiver.answer = { status: 204, body: '' };
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const sending = target.send(findingJob(target, await representative('ssh-bruteforce'), delivery()));

      // Assess
      await expect(sending).resolves.toBeUndefined();
      expect(receiver.requests).toHaveLength(1);
    });

    it('429 rate_limited is retryable after Retry-After', async () => {
      // Prepare
      const receiver = await slackReceiver();
      receiver.answer = { status: 429, body: 'rate_limited', headers: { 'retry-after': '3' } };
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, await representative('ssh-bruteforce'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 3000, target: 'soc-slack' });
      expect(error.message).toContain('rate_limited');
      expectNoLeak(error, [...SECRET_PARTS, receiver.url]);
    });

    it.each([
      { status: 400, body: 'invalid_payload' },
      { status: 403, body: 'action_prohibited' },
      { status: 410, body: 'channel_is_archived' },
    ])('$status $body is permanent', async ({ status, body }) => {
      // Prepare
      const receiver = await slackReceiver();
      receiver.answer = { status, body };
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, await representative('iam-accesskey'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status });
      expect(error.message).toContain(body);
      expectNoLeak(error, [...SECRET_PARTS, receiver.url]);
    });

    it('404 no_service (a revoked webhook) is permanent and its token stays hidden', async () => {
      // Prepare
      const receiver = await slackReceiver();
      const revoked = `${receiver.origin}/services/T000/B000/REVOKEDSECRETTOKEN`;
      const target = makeSlack({ value: revoked }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, await representative('iam-accesskey'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 404 });
      expect(error.message).toContain('no_service');
      expectNoLeak(error, ['REVOKEDSECRETTOKEN', '/services/T000/B000', revoked]);
    });

    it('400 invalid_blocks for a message Slack would refuse is permanent', async () => {
      // Prepare
      const receiver = await slackReceiver();
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });
      const tooMany = { text: 'x', blocks: Array.from({ length: 51 }, () => ({ type: 'section', text: { type: 'mrkdwn', text: 'x' } })) };
      const payload: RenderedPayload = { body: JSON.stringify(tooMany), contentType: 'application/json', extension: 'json' };

      // Act
      // The send carries the payload it is given (not one rendered again): a message Slack refuses reaches Slack.
      const error = await failure(target.send({ ...findingJob(target, await representative('ssh-bruteforce'), delivery()), payload }));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('invalid_blocks');
    });

    it('500 is retryable', async () => {
      // Prepare
      const receiver = await slackReceiver();
      receiver.answer = { status: 500, body: 'rollup_error' };
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, await representative('s3-bucket'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 500 });
      expect(error.retryAfterMs).toBeUndefined();
      expectNoLeak(error, [...SECRET_PARTS, receiver.url]);
    });

    it('connection refused is retryable and hides the URL', async () => {
      // Prepare
      const url = `http://127.0.0.1:${await closedPort()}${WEBHOOK_PATH}`;
      const target = makeSlack({ value: url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, await representative('ssh-bruteforce'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toContain('ECONNREFUSED');
      expectNoLeak(error, [...SECRET_PARTS, url]);
    });

    it('connection reset is retryable and hides the URL', async () => {
      // Prepare
      const receiver = await slackReceiver();
      receiver.answer = 'reset';
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });

      // Act
      const error = await failure(target.send(findingJob(target, await representative('ssh-bruteforce'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toMatch(/^request failed: /);
      expectNoLeak(error, [...SECRET_PARTS, receiver.url]);
    });

    it('a server that never answers times out at the deadline, retryable', async () => {
      // Prepare
      const receiver = await slackReceiver();
      receiver.answer = 'hang';
      const target = makeSlack({ value: receiver.url }, { allowPrivateNetwork: true });
      const payload = target.render(await representative('ssh-bruteforce'));
      const started = Date.now();

      // Act
      const error = await failure(target.send(findingJob(target, await representative('ssh-bruteforce'), delivery(300))));

      // Assess
      const elapsed = Date.now() - started;
      expect(error).toMatchObject({ retryable: true, message: 'request failed: timed out' });
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(2_000);
      expect(receiver.requests).toHaveLength(1);
      expectNoLeak(error, [...SECRET_PARTS, receiver.url]);
    });
  });

  describe('destination checks', () => {
    it('refuses plain http without allowPrivateNetwork and sends nothing', async () => {
      // Prepare
      const receiver = await slackReceiver();
      const target = makeSlack({ value: receiver.url });

      // Act
      const error = await failure(target.send(findingJob(target, await representative('ssh-bruteforce'), delivery())));

      // Assess
      expect(error).toBeInstanceOf(DestinationRefusedError);
      expect(error.retryable).toBe(false);
      expect(receiver.requests).toHaveLength(0);
      expectNoLeak(error, [...SECRET_PARTS, receiver.url]);
    });

    it('refuses plain http to a public host too', async () => {
      // Prepare
      const url = `http://hooks.slack.com${WEBHOOK_PATH}`;
      const target = makeSlack({ value: url });

      // Act
      const error = await failure(target.send(findingJob(target, await representative('ssh-bruteforce'), delivery())));

      // Assess
      expect(error).toBeInstanceOf(DestinationRefusedError);
      expect(error.message).toContain('https only');
      expectNoLeak(error, [...SECRET_PARTS, url]);
    });

    it.each(['https://127.0.0.1', 'https://[::1]', 'https://[::ffff:127.0.0.1]', 'https://10.1.2.3', 'https://169.254.169.254'])(
      'refuses %s (https to a loopback, private or link-local address)',
      async (origin) => {
        // Prepare
        const url = `${origin}${WEBHOOK_PATH}`;
        const target = makeSlack({ value: url });

        // Act
        const error = await failure(target.send(findingJob(target, await representative('ssh-bruteforce'), delivery())));

        // Assess
        expect(error).toBeInstanceOf(DestinationRefusedError);
        expect(error.retryable).toBe(false);
        expect(error.message).toContain('allowPrivateNetwork');
        expectNoLeak(error, [...SECRET_PARTS, url]);
      },
    );
  });
});
