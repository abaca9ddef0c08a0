import * as z from 'zod/mini';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import type { SecretRef } from '../../../shared/secrets.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import type { HttpClient, HttpRequest } from '../../../shared/targets/http.ts';
import {
  buildPagerDutyEvent,
  eventBytes,
  findingDedupKey,
  fitEventSize,
  MAX_EVENT_BYTES,
  pagerDutyTarget,
  PagerDutyConfigSchema,
  type PagerDutyConfig,
  type PagerDutyEvent,
  type PagerDutyTrigger,
} from '../../../shared/targets/pagerduty.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { withHostileActor } from '../../helpers/hostile-actor.ts';
import { enrichedFrom, FILLER_SHIFTS, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { eventErrors, startPagerDuty, type PagerDutyReceiver } from '../../helpers/pagerduty-receiver.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { delivery, expectNoLeak, failure, findingJob, itClassifiesStatuses, itNeverLeaks, pick, statusTable, targetContext, updated } from '../../helpers/target-contract.ts';

// ── Fixtures ────────────────────────────────────────────────────────────────

const REPRESENTATIVE = await representativeFindings();
const representative = (name: string): EnrichedFinding => pick(REPRESENTATIVE, name);

/** A 32-character integration key (what PagerDuty issues); it must never show up in an error. */
const ROUTING_KEY = 'R0UT1NGKEYSECRET0123456789abcdef';
const OTHER_KEY = 'ffffffffffffffffffffffffffffffff';

/** Strings that attack other renderers; here they must stay inert plain text. */
const EXTRA_HOSTILE = '<script>alert(1)</script> <!channel> a|b c=d e\\f [link|https://evil.example] {{template}} ${env} \r\nnext\u2028line';

/** The shared hostile finding with the extra attacks in front of title, description and region. */
const hostileEnriched = async (shift = 0): Promise<EnrichedFinding> => {
  const base = withHostileActor(hostileFinding({ shift }));
  return enrichedFrom(
    { ...base, title: `${EXTRA_HOSTILE} ${base.title}`, description: `${EXTRA_HOSTILE} ${base.description}` },
    hostileAccount(),
  );
};

// ── Strict checks of the event ──────────────────────────────────────────────

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const LINE_BREAK = /[\r\n\t\u0085\u2028\u2029]/;
const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** Every string of the event with its JSON path. */
const strings = (node: Json, path = ''): [string, string][] => {
  if (typeof node === 'string') return [[path, node]];
  if (Array.isArray(node)) return node.flatMap((item, index) => strings(item, `${path}[${index}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => strings(value, path ? `${path}.${key}` : key));
};

/** Parses the rendered bytes strictly and checks every string and every documented limit. */
const assertValidEvent = (body: string): PagerDutyEvent => {
  const event = JSON.parse(body) as PagerDutyEvent;
  expect(body).not.toContain(ROUTING_KEY);
  expect(eventErrors({ routing_key: ROUTING_KEY, ...event }, new Set([ROUTING_KEY]))).toEqual([]);
  expect(eventBytes(event)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  expect(event.dedup_key).toMatch(/^guardduty-\d{12}-[0-9a-f]{64}$/);
  for (const [path, text] of strings(event as unknown as Json)) {
    expect(text, `${path}: no control character`).not.toMatch(CONTROL);
    expect(text, `${path}: no broken surrogate pair`).not.toMatch(BROKEN_SURROGATE);
    if (path !== 'payload.custom_details.description') expect(text, `${path}: one line`).not.toMatch(LINE_BREAK);
    else expect(text, `${path}: only LF line breaks`).not.toMatch(/[\r\u0085\u2028\u2029]/);
  }
  return event;
};

const asTrigger = (event: PagerDutyEvent): PagerDutyTrigger => {
  if (event.event_action !== 'trigger') throw new Error(`expected a trigger, got ${event.event_action}`);
  return event;
};

// ── The target, receivers and helpers ───────────────────────────────────────

const makePagerDuty = (
  url: string,
  options: Partial<Omit<PagerDutyConfig, 'type' | 'url'>> & { routingKey?: SecretRef; env?: NodeJS.ProcessEnv; http?: HttpClient } = {},
): Target => {
  const { env, http, routingKey, ...rest } = options;
  return pagerDutyTarget.create(
    'oncall-pd',
    { type: 'pagerduty', routingKey: routingKey ?? { value: ROUTING_KEY }, url, allowPrivateNetwork: true, ...rest },
    targetContext({ env, http }),
  );
};




/** An HttpClient that records the request and answers like PagerDuty, for URL and header checks. */
const recordingClient = (answer = '{"status":"success","message":"Event processed","dedup_key":"k"}') => {
  const requests: HttpRequest[] = [];
  const http: HttpClient = {
    send: async (request) => {
      requests.push(request);
      return { status: 202, headers: new Headers(), body: answer };
    },
  };
  return { http, requests };
};

const receivers: PagerDutyReceiver[] = [];
const pagerDuty = async (): Promise<PagerDutyReceiver> => {
  const receiver = await startPagerDuty({ routingKeys: [ROUTING_KEY, OTHER_KEY] });
  receivers.push(receiver);
  return receiver;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: pagerduty', () => {
  describe('golden events', () => {
    it.each(REPRESENTATIVE.map(([name]) => name))('renders %s as in test/golden/pagerduty', async (name) => {
      // Prepare
      const enriched = representative(name);

      // Act
      const payload = buildPagerDutyEvent(enriched);

      // Assess
      await expect(JSON.stringify(payload, null, 2)).toMatchFileSnapshot(`../../golden/pagerduty/${name}.json`);
      const event = asTrigger(assertValidEvent(JSON.stringify(payload)));
      expect(event.links).toEqual([{ href: enriched.enrichment.consoleUrl, text: 'Open the finding in the GuardDuty console' }]);
      expect(event.client_url).toBe(enriched.enrichment.consoleUrl);
      expect(event.payload.class).toBe(enriched.finding.type);
    });

    it('render() is the built event without the routing key, the same bytes every time', () => {
      // Prepare
      const enriched = representative('instance');
      const target = makePagerDuty('https://events.pagerduty.com/v2/enqueue');

      // Act
      const first = target.render(enriched);
      const second = target.render(structuredClone(enriched));

      // Assess
      expect(first).toEqual({ body: JSON.stringify(buildPagerDutyEvent(enriched)), contentType: 'application/json', extension: 'json' });
      expect(second.body).toBe(first.body);
      expect(first.body).not.toContain('routing_key');
      expect(first.body).not.toContain(ROUTING_KEY);
    });

    it('summary leads with severity, account and region; sample findings are marked', () => {
      // Prepare
      const known = representative('s3-bucket');
      known.enrichment.sample = false;
      known.enrichment.account = { id: known.finding.accountId, known: true, name: 'data-lake', tags: {} };
      const sample = representative('s3-bucket');

      // Act
      const [plain, marked] = [known, sample].map((finding) => asTrigger(buildPagerDutyEvent(finding)).payload.summary);

      // Assess
      expect(plain).toBe(`[GuardDuty High 8.0] data-lake (${known.finding.accountId}) ${known.finding.region}: ${known.finding.title}`);
      expect(marked).toBe(`[SAMPLE] [GuardDuty High 8.0] ${sample.finding.accountId} ${sample.finding.region}: ${sample.finding.title}`);
    });
  });

  describe('dedup_key', () => {
    it('is the same for every update of a finding and differs between findings', () => {
      // Prepare
      const enriched = representative('access-key');
      const others = [
        { ...enriched.finding, id: `${enriched.finding.id}x` },
        { ...enriched.finding, accountId: '999999999999' },
        { ...enriched.finding, region: 'eu-west-3' },
      ];

      // Act
      const keys = [0, 1, 2, 3].map((step) => buildPagerDutyEvent(updated(enriched, step)).dedup_key);
      const otherKeys = others.map(findingDedupKey);

      // Assess
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).toBe(findingDedupKey(enriched.finding));
      expect(keys[0]!.length).toBeLessThanOrEqual(255);
      expect(new Set([keys[0], ...otherKeys]).size).toBe(4);
    });

    it('a hostile finding id or region never reaches the key', async () => {
      // Prepare
      const enriched = await hostileEnriched();

      // Act
      const key = buildPagerDutyEvent(enriched).dedup_key;

      // Assess
      expect(key).toMatch(/^guardduty-111122223333-[0-9a-f]{64}$/);
    });
  });

  describe('severity', () => {
    it.each([
      { label: 'low', severity: 2, expected: 'info' },
      { label: 'medium', severity: 5, expected: 'warning' },
      { label: 'high', severity: 8, expected: 'error' },
      { label: 'critical', severity: 9.5, expected: 'critical' },
    ] as const)('maps the GuardDuty $label band to $expected by default', ({ label, severity, expected }) => {
      // Prepare
      const enriched = representative('instance');
      enriched.finding.severity = severity;
      enriched.enrichment.severityLabel = label;

      // Act
      const event = asTrigger(buildPagerDutyEvent(enriched));

      // Assess
      expect(event.payload.severity).toBe(expected);
    });

    it('severityMap overrides the bands it lists and keeps the others', () => {
      // Prepare
      const high = representative('instance');
      high.enrichment.severityLabel = 'high';
      const low = representative('instance');
      low.enrichment.severityLabel = 'low';
      const severityMap = { high: 'critical' } as const;

      // Act
      const [h, l] = [high, low].map((enriched) => asTrigger(buildPagerDutyEvent(enriched, { severityMap })).payload.severity);

      // Assess
      expect(h).toBe('critical');
      expect(l).toBe('info');
    });
  });

  describe('archived findings', () => {
    it('resolveOnArchive: an archived finding renders a resolve for the same dedup_key', () => {
      // Prepare
      const enriched = updated(representative('instance'), 1, { archived: true });

      // Act
      const resolve = buildPagerDutyEvent(enriched, { resolveOnArchive: true });
      const trigger = buildPagerDutyEvent(enriched);

      // Assess
      expect(resolve).toEqual({ event_action: 'resolve', dedup_key: findingDedupKey(enriched.finding) });
      expect(trigger.event_action).toBe('trigger');
      expect(assertValidEvent(JSON.stringify(resolve))).toEqual(resolve);
    });
  });

  describe('hostile finding', () => {
    it.each(Array.from({ length: FILLER_SHIFTS }, (_, shift) => shift))(
      'every string is clean plain text within the limits (filler shift %i)',
      async (shift) => {
        // Prepare
        const enriched = await hostileEnriched(shift);
        const target = makePagerDuty('https://events.pagerduty.com/v2/enqueue');

        // Act
        const event = asTrigger(assertValidEvent(target.render(enriched).body));

        // Assess
        const details = event.payload.custom_details as Record<string, string>;
        expect(event.payload.summary.length).toBeGreaterThanOrEqual(1023); // 1,023 when the cut would split a surrogate pair
        expect(event.payload.summary.length).toBeLessThanOrEqual(1024);
        expect(event.payload.summary.endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(details.description?.length).toBeLessThanOrEqual(4096);
        expect(details.description?.endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(details.title?.endsWith(TRUNCATION_MARKER)).toBe(true);
        // Kept as literal text (PagerDuty shows plain text), line breaks folded in one-line fields.
        expect(details.title).toContain('<script>alert(1)</script> <!channel> a|b c=d e\\f [link|https://evil.example] {{template}} ${env} next line');
        expect(details.description).toContain('{{template}} ${env} \nnext\nline');
        expect(event.payload.source.startsWith('aws:111122223333:eu-west-1 <!channel>line1 line2 line3 [31mRED[0m:')).toBe(true);
        // The only links are the router's own.
        expect(event.links).toEqual([{ href: enriched.enrichment.consoleUrl, text: 'Open the finding in the GuardDuty console' }]);
        expect(event.client_url).toBe(enriched.enrichment.consoleUrl);
        expect(event.links[0]?.href).toContain(`fId=${encodeURIComponent(enriched.finding.id)}`);
      },
    );

    it('is accepted by a receiver that enforces the Events API rules', async () => {
      // Prepare
      const receiver = await pagerDuty();
      const target = makePagerDuty(receiver.url);

      // Act
      await target.send(findingJob(target, await hostileEnriched(), delivery()));

      // Assess
      expect(receiver.alerts).toHaveLength(1);
    });

    it('an event over 512 KB loses its custom_details, not the alert', () => {
      // Prepare
      const event = buildPagerDutyEvent(representative('instance'));
      const full = eventBytes(event);

      // Act
      const fitted = asTrigger(fitEventSize(event, full - 1));
      const untouched = fitEventSize(event, full);

      // Assess
      expect(untouched).toBe(event);
      expect(eventBytes(fitted)).toBeLessThan(full);
      expect(fitted.payload.custom_details).toEqual({
        note: `custom details removed: the event was over ${full - 1} bytes`,
        finding_id: representative('instance').finding.id,
        console_url: representative('instance').enrichment.consoleUrl,
      });
      expect(fitted.payload.summary).toBe(asTrigger(event).payload.summary);
    });
  });

  describe('delivery to the Events API', () => {
    it('POSTs JSON with the routing key to /v2/enqueue and opens one alert on 202', async () => {
      // Prepare
      const receiver = await pagerDuty();
      const target = makePagerDuty(receiver.url);
      const payload = target.render(representative('instance'));

      // Act
      await target.send(findingJob(target, representative('instance'), delivery()));

      // Assess
      expect(receiver.requests).toHaveLength(1);
      const [request] = receiver.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/v2/enqueue');
      expect(request?.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request?.body ?? '')).toEqual({ routing_key: ROUTING_KEY, ...JSON.parse(payload.body) });
      expect(receiver.alerts).toEqual([
        expect.objectContaining({ routingKey: ROUTING_KEY, dedupKey: findingDedupKey(representative('instance').finding), triggers: 1 }),
      ]);
    });

    it('every update of a finding lands on the same alert; another finding opens its own', async () => {
      // Prepare
      const receiver = await pagerDuty();
      const target = makePagerDuty(receiver.url);
      const enriched = representative('eks');

      // Act
      for (const step of [0, 1, 2]) await target.send(findingJob(target, updated(enriched, step), delivery()));
      await target.send(findingJob(target, representative('rds'), delivery()));

      // Assess
      expect(receiver.requests).toHaveLength(4);
      expect(receiver.alerts).toHaveLength(2);
      expect(receiver.alerts[0]?.triggers).toBe(3);
      expect(receiver.alerts[1]?.triggers).toBe(1);
    });

    it('resolveOnArchive resolves the alert; a later trigger opens a new one, as PagerDuty documents', async () => {
      // Prepare
      const receiver = await pagerDuty();
      const target = makePagerDuty(receiver.url, { resolveOnArchive: true });
      const enriched = representative('lambda');

      // Act
      await target.send(findingJob(target, updated(enriched, 0), delivery()));
      await target.send(findingJob(target, updated(enriched, 1, { archived: true }), delivery()));
      const afterResolve = receiver.openAlerts().length;
      await target.send(findingJob(target, updated(enriched, 2), delivery()));

      // Assess
      expect(JSON.parse(receiver.requests[1]?.body ?? '')).toEqual({
        routing_key: ROUTING_KEY,
        event_action: 'resolve',
        dedup_key: findingDedupKey(enriched.finding),
      });
      expect(afterResolve).toBe(0);
      expect(receiver.alerts.map((alert) => alert.status)).toEqual(['resolved', 'triggered']);
    });

    it('resolves the routing key from an environment reference', async () => {
      // Prepare
      const receiver = await pagerDuty();
      const target = makePagerDuty(receiver.url, { routingKey: { env: 'PD_ROUTING_KEY' }, env: { PD_ROUTING_KEY: OTHER_KEY } });

      // Act
      await target.send(findingJob(target, representative('s3-bucket'), delivery()));

      // Assess
      expect(receiver.alerts.map((alert) => alert.routingKey)).toEqual([OTHER_KEY]);
    });

    it.each([
      { region: undefined, url: 'https://events.pagerduty.com/v2/enqueue' },
      { region: 'us', url: 'https://events.pagerduty.com/v2/enqueue' },
      { region: 'eu', url: 'https://events.eu.pagerduty.com/v2/enqueue' },
    ] as const)('region $region posts to $url and lists the routing key as a secret', async ({ region, url }) => {
      // Prepare
      const { http, requests } = recordingClient();
      const target = pagerDutyTarget.create(
        'oncall-pd',
        { type: 'pagerduty', routingKey: { value: ROUTING_KEY }, ...(region === undefined ? {} : { region }) },
        targetContext({ http }),
      );

      // Act
      await target.send(findingJob(target, representative('instance'), delivery()));

      // Assess
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ url, method: 'POST', secrets: [ROUTING_KEY], allowPrivateNetwork: false });
    });

    it('a routing key that is not 32 characters fails before any request, naming only the reference', async () => {
      // Prepare
      const receiver = await pagerDuty();
      const shortKey = 'tooShortSecretKey';
      const target = makePagerDuty(receiver.url, { routingKey: { env: 'PD_KEY' }, env: { PD_KEY: shortKey } });

      // Act
      const error = await failure(target.send(findingJob(target, representative('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: undefined });
      expect(error.message).toBe('the routing key from env:PD_KEY has 17 characters; a PagerDuty integration key has 32');
      expect(receiver.requests).toHaveLength(0);
      expectNoLeak(error, [shortKey]);
    });

    it('400 invalid event (unknown routing key) is permanent and lists PagerDuty errors', async () => {
      // Prepare
      const receiver = await pagerDuty();
      const unknownKey = 'UNKNOWNSECRETKEY0123456789abcdef';
      const target = makePagerDuty(receiver.url, { routingKey: { value: unknownKey } });

      // Act
      const error = await failure(target.send(findingJob(target, representative('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('"status":"invalid event"');
      expect(error.message).toContain('Invalid routing key');
      expect(receiver.alerts).toHaveLength(0);
      expectNoLeak(error, [unknownKey]);
    });

    it('429 above ~120 events/minute per routing key is retryable; other keys are unaffected', async () => {
      // Prepare
      const receiver = await pagerDuty();
      receiver.rateLimitPerMinute = 2;
      const target = makePagerDuty(receiver.url);
      const other = makePagerDuty(receiver.url, { routingKey: { value: OTHER_KEY } });
      const enriched = representative('ecs-container');

      // Act
      await target.send(findingJob(target, updated(enriched, 0), delivery()));
      await target.send(findingJob(target, updated(enriched, 1), delivery()));
      const error = await failure(target.send(findingJob(target, updated(enriched, 2), delivery())));
      await other.send(findingJob(other, enriched, delivery()));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 429 });
      expect(error.message).toContain('throttle event');
      expect(receiver.alerts.map((alert) => [alert.routingKey, alert.triggers])).toEqual([
        [ROUTING_KEY, 2],
        [OTHER_KEY, 1],
      ]);
      expectNoLeak(error, [ROUTING_KEY]);
    });

    it('a 2xx whose status is not success is a permanent failure', async () => {
      // Prepare
      const receiver = await pagerDuty();
      receiver.answer = { status: 202, body: '{"status":"invalid event","message":"Event object is invalid"}' };
      const target = makePagerDuty(receiver.url);

      // Act
      const error = await failure(target.send(findingJob(target, representative('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, message: "PagerDuty answered status 'invalid event'" });
    });
  });

  describe('status classification', () => {
    const SUCCESS = '{"status":"success","message":"Event processed","dedup_key":"k"}';
    let receiver: PagerDutyReceiver;
    itClassifiesStatuses(statusTable(), {
      secrets: [ROUTING_KEY],
      prepare: async (status) => {
        receiver = await pagerDuty();
        const body = status === 204 ? '' : status < 300 ? SUCCESS : `{"status":"error ${status}","message":"${ROUTING_KEY}"}`;
        receiver.answer = { status, body, headers: status === 301 ? { location: 'https://evil.example/' } : {} };
        const target = makePagerDuty(receiver.url);
        return () => target.send(findingJob(target, representative('instance'), delivery()));
      },
      assess: () => {
        expect(receiver.requests).toHaveLength(1);
      },
    });
  });

  describe('the routing key never leaks', () => {
    itNeverLeaks({
      what: 'the routing key',
      secrets: [ROUTING_KEY],
      statuses: { '4xx': 400, '5xx': 500 },
      redacted: true,
      echoing: async (status) => {
        const receiver = await pagerDuty();
        receiver.answer = {
          status,
          body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [`bad event ${JSON.stringify({ routing_key: ROUTING_KEY })}`] }),
        };
        return receiver.origin;
      },
      send: (origin, deadlineMs) => {
        const target = makePagerDuty(`${origin}/v2/enqueue`);
        return target.send(findingJob(target, representative('instance'), delivery(deadlineMs)));
      },
    });
  });

  describe('configuration', () => {
    it('accepts a minimal and a full configuration', () => {
      // Prepare
      const minimal = { type: 'pagerduty', routingKey: { env: 'PD_KEY' } };
      const full = {
        ...minimal,
        region: 'eu',
        url: 'https://events.eu.pagerduty.com/v2/enqueue',
        severityMap: { high: 'critical', low: 'warning' },
        resolveOnArchive: true,
        allowPrivateNetwork: false,
      };

      // Act
      const results = [minimal, full].map((config) => z.safeParse(PagerDutyConfigSchema, config).success);

      // Assess
      expect(results).toEqual([true, true]);
    });

    it.each([
      ['an unknown key', { type: 'pagerduty', routingKey: { env: 'PD_KEY' }, serviceKey: 'x' }],
      ['an inline routing key string', { type: 'pagerduty', routingKey: ROUTING_KEY }],
      ['an unknown severity', { type: 'pagerduty', routingKey: { env: 'PD_KEY' }, severityMap: { high: 'sev1' } }],
      ['an unknown band', { type: 'pagerduty', routingKey: { env: 'PD_KEY' }, severityMap: { severe: 'critical' } }],
      ['an unknown region', { type: 'pagerduty', routingKey: { env: 'PD_KEY' }, region: 'ap' }],
      ['a url that is not a URL', { type: 'pagerduty', routingKey: { env: 'PD_KEY' }, url: 'events.pagerduty.com' }],
    ])('rejects %s', (_what, config) => {
      // Prepare
      const input: unknown = config;

      // Act
      const result = z.safeParse(PagerDutyConfigSchema, input);

      // Assess
      expect(result.success).toBe(false);
    });
  });
});
