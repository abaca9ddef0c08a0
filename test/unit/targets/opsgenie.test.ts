import * as z from 'zod/mini';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import type { SecretRef } from '../../../shared/secrets.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import type { HttpClient, HttpRequest } from '../../../shared/targets/http.ts';
import {
  buildOpsgenieAlert,
  DESCRIPTION_LIMIT,
  DETAILS_TOTAL_LIMIT,
  MESSAGE_LIMIT,
  opsgenieTarget,
  OpsgenieConfigSchema,
  type OpsgenieConfig,
  type OpsgenieCreate,
  type OpsgenieRequest,
} from '../../../shared/targets/opsgenie.ts';
import { findingDedupKey } from '../../../shared/targets/pagerduty.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { withHostileActor } from '../../helpers/hostile-actor.ts';
import { enrichedFrom, FILLER_SHIFTS, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { createErrors, startOpsgenie, type OpsgenieReceiver } from '../../helpers/opsgenie-receiver.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { CLASSIFIED_STATUSES, delivery, expectNoLeak, failure, findingJob, itClassifiesStatuses, itNeverLeaks, pick, statusTable, targetContext, updated } from '../../helpers/target-contract.ts';

// ── Fixtures ────────────────────────────────────────────────────────────────

const REPRESENTATIVE = await representativeFindings();
const representative = (name: string): EnrichedFinding => pick(REPRESENTATIVE, name);

/** An Opsgenie integration API key (a UUID); it must never show up in an error. */
const API_KEY = 'eb243592-faa2-4ba2-a551-1afdf565c889';
const OTHER_KEY = '0b6e1b5c-5d0e-4c1e-9a43-2b8a6f0e7d11';

const EXTRA_HOSTILE = '<script>alert(1)</script> <b onmouseover="x">hi</b> \'q\' <!channel> a|b c=d e\\f [link|https://evil.example] {{template}} \r\nnext\u2028line';

const hostileEnriched = async (shift = 0): Promise<EnrichedFinding> => {
  const base = withHostileActor(hostileFinding({ shift }));
  return enrichedFrom(
    { ...base, title: `${EXTRA_HOSTILE} ${base.title}`, description: `${EXTRA_HOSTILE} ${base.description}`.repeat(4) },
    hostileAccount(),
  );
};

// ── Strict checks: Opsgenie renders HTML in the message ─────────────────────

/** Text that an HTML renderer shows as text: no tag can open, every `&` starts a known entity. */
const HTML_TEXT = /^(?:[^<>&"']|&(?:amp|lt|gt|quot|#39);)*$/;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const TAG = /^[A-Za-z0-9_.:/@+=-]{1,50}$/;

const decodeHtml = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[entity] ?? '');

const asCreate = (request: OpsgenieRequest): OpsgenieCreate => {
  if (!('message' in request)) throw new Error('expected a create request');
  return request;
};

/** Parses the rendered bytes and checks every documented limit and the HTML inertness. */
const assertValidAlert = (body: string): OpsgenieCreate => {
  const alert = asCreate(JSON.parse(body) as OpsgenieRequest);
  expect(createErrors(alert)).toEqual({});
  expect(body).not.toContain(API_KEY);
  expect(alert.alias).toMatch(/^guardduty-\d{12}-[0-9a-f]{64}$/);
  expect(alert.message.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
  expect(alert.description.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
  expect(alert.entity.length).toBeLessThanOrEqual(512);
  expect(alert.tags.length).toBeLessThanOrEqual(20);
  for (const tag of alert.tags) expect(tag).toMatch(TAG);
  const detailChars = Object.entries(alert.details).reduce((total, [key, value]) => total + key.length + value.length, 0);
  expect(detailChars).toBeLessThanOrEqual(DETAILS_TOTAL_LIMIT);
  const shown: [string, string][] = [
    ['message', alert.message],
    ['entity', alert.entity],
    ...Object.entries(alert.details).filter(([key]) => key !== 'consoleUrl').map(([key, value]): [string, string] => [`details.${key}`, value]),
  ];
  for (const [path, text] of shown) {
    expect(text, `${path}: inert HTML text`).toMatch(HTML_TEXT);
    expect(text, `${path}: one line`).not.toMatch(/[\r\n\t\u0085\u2028\u2029]/);
  }
  expect(alert.description.replace(/\n/g, ''), 'description: inert HTML text').toMatch(HTML_TEXT);
  for (const [path, text] of [...shown, ['description', alert.description]]) {
    expect(text, `${path}: no control character`).not.toMatch(CONTROL);
    expect(text, `${path}: no broken surrogate pair`).not.toMatch(BROKEN_SURROGATE);
  }
  return alert;
};

// ── The target, receivers and helpers ───────────────────────────────────────

const makeOpsgenie = (
  url: string,
  options: Partial<Omit<OpsgenieConfig, 'type' | 'url'>> & { apiKey?: SecretRef; env?: NodeJS.ProcessEnv; http?: HttpClient } = {},
): Target => {
  const { env, http, apiKey, ...rest } = options;
  return opsgenieTarget.create(
    'oncall-og',
    { type: 'opsgenie', apiKey: apiKey ?? { value: API_KEY }, url, allowPrivateNetwork: true, ...rest },
    targetContext({ env, http }),
  );
};




const recordingClient = () => {
  const requests: HttpRequest[] = [];
  const http: HttpClient = {
    send: async (request) => {
      requests.push(request);
      return { status: 202, headers: new Headers(), body: '{"result":"Request will be processed","took":0.1,"requestId":"r"}' };
    },
  };
  return { http, requests };
};

const receivers: OpsgenieReceiver[] = [];
const opsgenie = async (): Promise<OpsgenieReceiver> => {
  const receiver = await startOpsgenie({ apiKeys: [API_KEY, OTHER_KEY] });
  receivers.push(receiver);
  return receiver;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: opsgenie', () => {
  describe('golden alerts', () => {
    it.each(REPRESENTATIVE.map(([name]) => name))('renders %s as in test/golden/opsgenie', async (name) => {
      // Prepare
      const enriched = representative(name);

      // Act
      const payload = buildOpsgenieAlert(enriched);

      // Assess
      await expect(JSON.stringify(payload, null, 2)).toMatchFileSnapshot(`../../golden/opsgenie/${name}.json`);
      const alert = assertValidAlert(JSON.stringify(payload));
      expect(alert.source).toBe('GuardDuty');
      expect(alert.details.consoleUrl).toBe(enriched.enrichment.consoleUrl);
      expect(decodeHtml(alert.description)).toContain(`Console: ${enriched.enrichment.consoleUrl}`);
    });

    it('render() is the built alert without the API key, the same bytes every time', () => {
      // Prepare
      const enriched = representative('eks');
      const target = makeOpsgenie('https://api.opsgenie.com', { tags: ['secops'], user: 'findings-router' });

      // Act
      const first = target.render(enriched);
      const second = target.render(structuredClone(enriched));

      // Assess
      expect(first).toEqual({
        body: JSON.stringify(buildOpsgenieAlert(enriched, { tags: ['secops'], user: 'findings-router' })),
        contentType: 'application/json',
        extension: 'json',
      });
      expect(second.body).toBe(first.body);
      expect(first.body).not.toContain(API_KEY);
    });

    it('responders, extra tags, user and note from the configuration are passed through', () => {
      // Prepare
      const enriched = representative('rds');
      const responders = [
        { type: 'team', name: 'secops' },
        { type: 'user', username: 'oncall@example.com' },
        { type: 'schedule', id: '4513b7ea-3b91-438f-b7e4-e3e54af9147c' },
      ] as const;

      // Act
      const alert = asCreate(
        buildOpsgenieAlert(enriched, { responders: [...responders], tags: ['secops', 'GuardDuty'], user: 'router', note: 'Runbook: RB-12' }),
      );

      // Assess
      expect(alert.responders).toEqual(responders);
      expect(alert.tags.slice(0, 3)).toEqual(['secops', 'GuardDuty', 'severity:high']);
      expect(new Set(alert.tags).size).toBe(alert.tags.length);
      expect(alert).toMatchObject({ user: 'router', note: 'Runbook: RB-12' });
      expect(createErrors(alert)).toEqual({});
    });
  });

  describe('alias', () => {
    it('is the same for every update of a finding and is the PagerDuty dedup key format', () => {
      // Prepare
      const enriched = representative('access-key');

      // Act
      const aliases = [0, 1, 2].map((step) => buildOpsgenieAlert(updated(enriched, step)).alias);

      // Assess
      expect(new Set(aliases).size).toBe(1);
      expect(aliases[0]).toBe(findingDedupKey(enriched.finding));
      expect(aliases[0]!.length).toBeLessThanOrEqual(250);
    });
  });

  describe('priority', () => {
    it.each([
      { label: 'low', expected: 'P4' },
      { label: 'medium', expected: 'P3' },
      { label: 'high', expected: 'P2' },
      { label: 'critical', expected: 'P1' },
    ] as const)('maps the GuardDuty $label band to $expected by default', ({ label, expected }) => {
      // Prepare
      const enriched = representative('instance');
      enriched.enrichment.severityLabel = label;

      // Act
      const alert = asCreate(buildOpsgenieAlert(enriched));

      // Assess
      expect(alert.priority).toBe(expected);
      expect(alert.tags).toContain(`severity:${label}`);
    });

    it('priorityMap overrides the bands it lists and keeps the others', () => {
      // Prepare
      const low = representative('instance');
      const medium = representative('eks');

      // Act
      const [l, m] = [low, medium].map((enriched) => asCreate(buildOpsgenieAlert(enriched, { priorityMap: { low: 'P5' } })).priority);

      // Assess
      expect([low.enrichment.severityLabel, medium.enrichment.severityLabel]).toEqual(['low', 'medium']);
      expect([l, m]).toEqual(['P5', 'P3']);
    });
  });

  describe('hostile finding', () => {
    it.each(Array.from({ length: FILLER_SHIFTS }, (_, shift) => shift))(
      'every shown text is inert HTML within the limits (filler shift %i)',
      async (shift) => {
        // Prepare
        const enriched = await hostileEnriched(shift);
        const target = makeOpsgenie('https://api.opsgenie.com');

        // Act
        const alert = assertValidAlert(target.render(enriched).body);

        // Assess
        expect(alert.message.endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(alert.message.length).toBeGreaterThan(MESSAGE_LIMIT - 7); // cut only between entities (≤ 6 chars lost)
        expect(alert.description.length).toBeGreaterThan(DESCRIPTION_LIMIT - 7);
        expect(alert.description.endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(alert.entity.endsWith(TRUNCATION_MARKER)).toBe(true);
        // Escaped, not dropped: a human reads the attack as text.
        const description = decodeHtml(alert.description);
        expect(description).toContain('<script>alert(1)</script> <b onmouseover="x">hi</b> \'q\' <!channel> a|b c=d e\\f [link|https://evil.example] {{template}} \nnext\nline');
        expect(decodeHtml(alert.message).startsWith('[High] acct <!channel> <!here>')).toBe(true);
        // The facts come first, so the console link survives a huge description.
        expect(description).toContain(`Console: ${enriched.enrichment.consoleUrl}\n`);
        expect(alert.details.consoleUrl).toBe(enriched.enrichment.consoleUrl);
        expect(alert.tags.find((tag) => tag.startsWith('region:'))).toBe('region:eu-west-1___channel_line1_line2_line3__31mR');
      },
    );

    it('is accepted by a receiver that enforces the Alert API limits', async () => {
      // Prepare
      const receiver = await opsgenie();
      const target = makeOpsgenie(receiver.url);

      // Act
      await target.send(findingJob(target, await hostileEnriched(), delivery()));

      // Assess
      expect(receiver.alerts).toHaveLength(1);
    });

    it('details stay within 8,000 characters however many resource tags there are', async () => {
      // Prepare
      const enriched = await hostileEnriched();
      enriched.enrichment.resourceTags = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}<x>`, `${'v&'.repeat(400)}${i}`]));

      // Act
      const alert = assertValidAlert(JSON.stringify(buildOpsgenieAlert(enriched)));

      // Assess
      expect(Object.keys(alert.details).filter((key) => key.startsWith('tag:')).length).toBeGreaterThan(0);
      expect(Object.keys(alert.details).filter((key) => key.startsWith('tag:')).length).toBeLessThanOrEqual(10);
      expect(alert.details['tag:key0_x_']?.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(alert.details.findingId).toBeDefined();
    });
  });

  describe('delivery to the Alert API', () => {
    it('POSTs JSON to /v2/alerts with the GenieKey header and opens one alert on 202', async () => {
      // Prepare
      const receiver = await opsgenie();
      const target = makeOpsgenie(receiver.url);
      const payload = target.render(representative('instance'));

      // Act
      await target.send(findingJob(target, representative('instance'), delivery()));

      // Assess
      expect(receiver.requests).toHaveLength(1);
      const [request] = receiver.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/v2/alerts');
      expect(request?.headers.authorization).toBe(`GenieKey ${API_KEY}`);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.body).toBe(payload.body);
      expect(receiver.alerts).toEqual([
        expect.objectContaining({ alias: findingDedupKey(representative('instance').finding), status: 'open', count: 1, priority: 'P4' }),
      ]);
    });

    it('every update of a finding raises the count of one alert; another finding opens its own', async () => {
      // Prepare
      const receiver = await opsgenie();
      const target = makeOpsgenie(receiver.url);
      const enriched = representative('malware-scan');

      // Act
      for (const step of [0, 1, 2]) await target.send(findingJob(target, updated(enriched, step), delivery()));
      await target.send(findingJob(target, representative('lambda'), delivery()));

      // Assess
      expect(receiver.requests).toHaveLength(4);
      expect(receiver.alerts.map((alert) => [alert.alias, alert.count])).toEqual([
        [findingDedupKey(enriched.finding), 3],
        [findingDedupKey(representative('lambda').finding), 1],
      ]);
    });

    it('closeOnArchive closes the alert by alias; a later update opens a new alert', async () => {
      // Prepare
      const receiver = await opsgenie();
      const target = makeOpsgenie(receiver.url, { closeOnArchive: true, user: 'findings-router' });
      const enriched = representative('ecs-container');
      const alias = findingDedupKey(enriched.finding);

      // Act
      await target.send(findingJob(target, updated(enriched, 0), delivery()));
      await target.send(findingJob(target, updated(enriched, 1, { archived: true }), delivery()));
      const openAfterClose = receiver.openAlerts().length;
      await target.send(findingJob(target, updated(enriched, 2), delivery()));

      // Assess
      const close = receiver.requests[1];
      expect(close?.path).toBe(`/v2/alerts/${alias}/close?identifierType=alias`);
      expect(JSON.parse(close?.body ?? '')).toEqual({
        source: 'GuardDuty',
        note: 'GuardDuty archived this finding; alert closed by the findings router.',
        user: 'findings-router',
      });
      expect(openAfterClose).toBe(0);
      expect(receiver.alerts.map((alert) => alert.status)).toEqual(['closed', 'open']);
    });

    it('without closeOnArchive an archived finding updates the alert like any other update', async () => {
      // Prepare
      const receiver = await opsgenie();
      const target = makeOpsgenie(receiver.url);
      const enriched = representative('ecs-container');

      // Act
      await target.send(findingJob(target, updated(enriched, 0), delivery()));
      await target.send(findingJob(target, updated(enriched, 1, { archived: true }), delivery()));

      // Assess
      expect(receiver.requests.map((request) => request.path)).toEqual(['/v2/alerts', '/v2/alerts']);
      expect(receiver.alerts.map((alert) => [alert.status, alert.count])).toEqual([['open', 2]]);
    });

    it('resolves the API key from an environment reference', async () => {
      // Prepare
      const receiver = await opsgenie();
      const target = makeOpsgenie(receiver.url, { apiKey: { env: 'OG_KEY' }, env: { OG_KEY: OTHER_KEY } });

      // Act
      await target.send(findingJob(target, representative('s3-bucket'), delivery()));

      // Assess
      expect(receiver.requests[0]?.headers.authorization).toBe(`GenieKey ${OTHER_KEY}`);
      expect(receiver.alerts).toHaveLength(1);
    });

    it.each([
      { region: undefined, url: 'https://api.opsgenie.com/v2/alerts' },
      { region: 'us', url: 'https://api.opsgenie.com/v2/alerts' },
      { region: 'eu', url: 'https://api.eu.opsgenie.com/v2/alerts' },
    ] as const)('region $region posts to $url and lists the API key as a secret', async ({ region, url }) => {
      // Prepare
      const { http, requests } = recordingClient();
      const target = opsgenieTarget.create(
        'oncall-og',
        { type: 'opsgenie', apiKey: { value: API_KEY }, ...(region === undefined ? {} : { region }) },
        targetContext({ http }),
      );

      // Act
      await target.send(findingJob(target, representative('instance'), delivery()));

      // Assess
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ url, method: 'POST', allowPrivateNetwork: false });
      expect(requests[0]?.secrets).toContain(API_KEY);
      expect(requests[0]?.headers?.authorization).toBe(`GenieKey ${API_KEY}`);
    });

    it('401 for an unknown key is permanent and hides the key', async () => {
      // Prepare
      const receiver = await opsgenie();
      const revoked = 'deadbeef-0000-4000-8000-000000000000';
      const target = makeOpsgenie(receiver.url, { apiKey: { value: revoked } });

      // Act
      const error = await failure(target.send(findingJob(target, representative('instance'), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expect(error.message).toContain('Could not authenticate');
      expect(receiver.alerts).toHaveLength(0);
      expectNoLeak(error, [revoked]);
    });

    it('429 when Opsgenie throttles is retryable', async () => {
      // Prepare
      const receiver = await opsgenie();
      receiver.rateLimitPerMinute = 1;
      const target = makeOpsgenie(receiver.url);
      const enriched = representative('rds');

      // Act
      await target.send(findingJob(target, updated(enriched, 0), delivery()));
      const error = await failure(target.send(findingJob(target, updated(enriched, 1), delivery())));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 429 });
      expect(error.message).toContain('You are making too many requests!');
      expect(receiver.alerts.map((alert) => alert.count)).toEqual([1]);
      expectNoLeak(error, [API_KEY]);
    });
  });

  describe('status classification', () => {
    const ACCEPTED = '{"result":"Request will be processed","took":0.1,"requestId":"r"}';
    let receiver: OpsgenieReceiver;
    itClassifiesStatuses(statusTable({}, [...CLASSIFIED_STATUSES, 422].sort((a, b) => a - b)), {
      secrets: [API_KEY],
      prepare: async (status) => {
        receiver = await opsgenie();
        const body = status === 204 ? '' : status < 300 ? ACCEPTED : `{"message":"GenieKey ${API_KEY} refused","took":0.0,"requestId":"r"}`;
        receiver.answer = { status, body, headers: status === 301 ? { location: 'https://evil.example/' } : {} };
        const target = makeOpsgenie(receiver.url);
        return () => target.send(findingJob(target, representative('instance'), delivery()));
      },
      assess: () => {
        expect(receiver.requests).toHaveLength(1);
      },
    });
  });

  describe('the API key never leaks', () => {
    itNeverLeaks({
      what: 'the API key',
      secrets: [API_KEY],
      statuses: { '4xx': 401, '5xx': 503 },
      redacted: true,
      echoing: async (status) => {
        const receiver = await opsgenie();
        receiver.answer = { status, body: JSON.stringify({ message: `bad header Authorization: GenieKey ${API_KEY}`, took: 0, requestId: 'r' }) };
        return receiver.url;
      },
      send: (origin, deadlineMs) => {
        const target = makeOpsgenie(origin);
        return target.send(findingJob(target, representative('instance'), delivery(deadlineMs)));
      },
    });
  });

  describe('configuration', () => {
    it('accepts a minimal and a full configuration', () => {
      // Prepare
      const minimal = { type: 'opsgenie', apiKey: { env: 'OG_KEY' } };
      const full = {
        ...minimal,
        region: 'eu',
        url: 'https://api.eu.opsgenie.com',
        priorityMap: { critical: 'P1', low: 'P5' },
        responders: [{ type: 'team', name: 'secops' }, { type: 'user', username: 'a@example.com' }, { type: 'escalation', id: 'e1' }],
        tags: ['secops', 'aws:guardduty'],
        user: 'findings-router',
        note: 'See the runbook.',
        closeOnArchive: true,
        allowPrivateNetwork: false,
      };

      // Act
      const results = [minimal, full].map((config) => z.safeParse(OpsgenieConfigSchema, config).success);

      // Assess
      expect(results).toEqual([true, true]);
    });

    it.each([
      ['an unknown key', { type: 'opsgenie', apiKey: { env: 'OG_KEY' }, apikey: 'x' }],
      ['an inline key string', { type: 'opsgenie', apiKey: API_KEY }],
      ['an unknown priority', { type: 'opsgenie', apiKey: { env: 'OG_KEY' }, priorityMap: { high: 'P0' } }],
      ['a user responder by name', { type: 'opsgenie', apiKey: { env: 'OG_KEY' }, responders: [{ type: 'user', name: 'x' }] }],
      ['a tag with a space', { type: 'opsgenie', apiKey: { env: 'OG_KEY' }, tags: ['two words'] }],
      ['eleven tags', { type: 'opsgenie', apiKey: { env: 'OG_KEY' }, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }],
      ['a user over 100 characters', { type: 'opsgenie', apiKey: { env: 'OG_KEY' }, user: 'u'.repeat(101) }],
      ['a url with the /v2/alerts path', { type: 'opsgenie', apiKey: { env: 'OG_KEY' }, url: 'https://api.opsgenie.com/v2/alerts' }],
    ])('rejects %s', (_what, config) => {
      // Prepare
      const input: unknown = config;

      // Act
      const result = z.safeParse(OpsgenieConfigSchema, input);

      // Assess
      expect(result.success).toBe(false);
    });
  });
});
