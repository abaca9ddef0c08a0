import * as z from 'zod/mini';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { ledgerKey, memoryLedger, type Ledger } from '../../../shared/targets/ledger.ts';
import {
  buildServiceNowRecord,
  correlationId,
  DESCRIPTION_LIMIT,
  isSignificantUpdate,
  SHORT_DESCRIPTION_LIMIT,
  ServiceNowConfigSchema,
  serviceNowTarget,
  type ServiceNowConfig,
} from '../../../shared/targets/servicenow.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { enrichedFrom, FILLER_SHIFTS, hostileAccount, hostileFinding, loadFinding } from '../../helpers/findings.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { rateLimited, startServiceNowReceiver, type ServiceNowReceiver } from '../../helpers/servicenow-receiver.ts';
import { expectNoLeak, failure, itClassifiesStatuses, itNeverLeaks, sendFinding, statusTable, targetContext } from '../../helpers/target-contract.ts';

const USERNAME = 'guardduty.integration';
const PASSWORD = 'sn-PASSWORD-secret-4d7f19';
const TOKEN = 'sn-oauth-ACCESS-TOKEN-8b2c55e1';
const BASIC = Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');
const SECRETS = [PASSWORD, TOKEN, BASIC];
const ENV = { SN_USER: USERNAME, SN_PASSWORD: PASSWORD, SN_TOKEN: TOKEN };

// ── Helpers ──────────────────────────────────────────────────────────────────

const receivers: ServiceNowReceiver[] = [];
const snReceiver = async (auth: Parameters<typeof startServiceNowReceiver>[0] = { username: USERNAME, password: PASSWORD }) => {
  const receiver = await startServiceNowReceiver(auth);
  receivers.push(receiver);
  return receiver;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

type Overrides = Partial<Omit<ServiceNowConfig, 'type'>>;
const BASIC_AUTH = { username: { env: 'SN_USER' }, password: { env: 'SN_PASSWORD' } };

const makeServiceNow = (url: string, overrides: Overrides = BASIC_AUTH, ledger: Ledger = memoryLedger(), name = 'soc-snow'): Target =>
  serviceNowTarget.create(
    name,
    { type: 'servicenow', url, allowPrivateNetwork: true, ...overrides },
    targetContext({ env: ENV, ledger }),
  );

const sshEnriched = (changes: { severity?: number; count?: number; updatedAt?: string } = {}) => {
  const finding = loadFinding('targets/ssh-bruteforce.sample.eventbridge.json');
  return enrichedFrom(
    {
      ...finding,
      ...(changes.severity === undefined ? {} : { severity: changes.severity }),
      ...(changes.updatedAt === undefined ? {} : { updatedAt: changes.updatedAt }),
      service: { ...finding.service, ...(changes.count === undefined ? {} : { count: changes.count }) },
    },
    { name: 'security-sandbox', email: 'secops@example.com', tags: { owner: 'secops' } },
  );
};

/** A strict reading of the create body: a flat JSON object of string values with only these keys. */
const RecordSchema = z.strictObject({
  short_description: z.string(),
  description: z.string(),
  urgency: z.enum(['1', '2', '3']),
  impact: z.enum(['1', '2', '3']),
  correlation_id: z.string().check(z.maxLength(100)),
  correlation_display: z.literal('GuardDuty'),
  category: z.optional(z.string()),
  assignment_group: z.optional(z.string()),
});
type IncidentBody = z.infer<typeof RecordSchema>;

const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CODE_TAG = /\[\s*\/?\s*code\s*\]/i;

const parseIncident = (body: string): IncidentBody => z.parse(RecordSchema, JSON.parse(body));

const assertSafeIncident = (incident: IncidentBody): void => {
  expect(incident.short_description.length).toBeLessThanOrEqual(SHORT_DESCRIPTION_LIMIT);
  expect(incident.short_description).not.toMatch(/[\r\n\u2028\u2029\u0085]/);
  expect(incident.description.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
  for (const value of [incident.short_description, incident.description, incident.correlation_id]) {
    expect(value, 'no control characters but LF').not.toMatch(CONTROL_BUT_LF);
    expect(value, 'no broken surrogate pair').not.toMatch(BROKEN_SURROGATE);
    expect(value, 'no [code] tag a journal would render as HTML').not.toMatch(CODE_TAG);
    expect(value, 'no line separator').not.toMatch(/[\u2028\u2029\u0085\r]/);
  }
};

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: servicenow', () => {
  describe('golden create bodies', async () => {
    const representative = await representativeFindings();

    it.each(representative)('renders %s as in test/golden/servicenow', async (name, enriched) => {
      // Prepare
      const target = makeServiceNow('https://example.service-now.com');

      // Act
      const payload = parseIncident(target.render(enriched).body);

      // Assess
      await expect(`${JSON.stringify(payload, null, 2)}\n`).toMatchFileSnapshot(`../../golden/servicenow/${name}.json`);
      assertSafeIncident(payload);
      expect(payload.correlation_id).toBe(enriched.finding.id);
    });
  });

  describe('fields', () => {
    it('a DNS finding names its domain as the activity, and no empty remote party', async () => {
      // Prepare
      const enriched = await enrichedFrom(loadFinding('samples/backdoor-ec2-c-cactivity-b-dns.json'));

      // Act
      const body = buildServiceNowRecord(enriched, {});

      // Assess
      expect(body.description).toContain('\nActivity: DNS request: pool.miner.example over UDP\n');
      expect(body.description).not.toContain('Remote party');
    });

    it('an API call from abroad: API, IP, city, country, AS organisation and caller', async () => {
      // Prepare
      const enriched = await enrichedFrom(loadFinding('samples/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.json'));

      // Act
      const body = buildServiceNowRecord(enriched, {});

      // Assess
      expect(body.description).toContain('\nActivity: AWS API call: ListUsers on iam.amazonaws.com\n');
      expect(body.description).toContain('\nRemote party: 198.51.100.131, Bucharest, Romania, AS64509 Documentation Transit Co\n');
      expect(body.description).toContain('\nCaller: build-bot, user agent aws-cli/2.17.0');
    });

    it.each([
      { severity: 9.5, urgency: '1', impact: '1' },
      { severity: 8, urgency: '1', impact: '2' },
      { severity: 5, urgency: '2', impact: '2' },
      { severity: 2, urgency: '3', impact: '2' },
    ])('severity $severity → urgency $urgency, impact $impact', async ({ severity, urgency, impact }) => {
      // Prepare
      const enriched = await sshEnriched({ severity });

      // Act
      const body = buildServiceNowRecord(enriched, {});

      // Assess
      expect(body).toMatchObject({ urgency, impact, correlation_display: 'GuardDuty', correlation_id: 'f0b37a7d5504bba0ec3493e776a0c54f' });
    });

    it('category, a configured urgency/impact map and fixed fields are sent', async () => {
      // Prepare
      const enriched = await sshEnriched({ severity: 2 });

      // Act
      const body = buildServiceNowRecord(enriched, {
        category: 'security',
        urgencyImpact: { low: { urgency: 2, impact: 3 } },
        fields: { assignment_group: 'SOC L1' },
      });

      // Assess
      expect(parseIncident(JSON.stringify(body))).toMatchObject({ category: 'security', urgency: '2', impact: '3', assignment_group: 'SOC L1' });
    });

    it('a finding id that is not a plain token of ≤ 100 characters becomes a stable digest', () => {
      // Prepare
      const ids = ['a'.repeat(101), 'javascript:gs.sleep(1)', 'f0b37a7d5504bba0ec3493e776a0c54f'];

      // Act
      const correlation = ids.map(correlationId);

      // Assess
      expect(correlation[0]).toMatch(/^gd-sha256-[0-9a-f]{64}$/);
      expect(correlation[1]).toMatch(/^gd-sha256-[0-9a-f]{64}$/);
      expect(correlation[1]).toBe(correlationId('javascript:gs.sleep(1)'));
      expect(correlation[2]).toBe('f0b37a7d5504bba0ec3493e776a0c54f');
    });
  });

  describe('hostile finding text', () => {
    it('every hostile string stays plain text within ServiceNow limits', async () => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());

      // Act
      const incident = parseIncident(makeServiceNow('https://example.service-now.com').render(enriched).body);

      // Assess
      assertSafeIncident(incident);
      expect(incident.description).toContain('<!channel>');
      expect(incident.description.endsWith(TRUNCATION_MARKER)).toBe(true);
    });

    it.each([...Array(FILLER_SHIFTS).keys()])('truncation at shift %i never splits a character', async (shift) => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding({ shift }), hostileAccount());

      // Act
      const incident = parseIncident(JSON.stringify(buildServiceNowRecord(enriched, {})));

      // Assess
      assertSafeIncident(incident);
    });

    it('[code] HTML, templates and markup are defused or kept literal', async () => {
      // Prepare
      const finding = loadFinding('targets/ssh-bruteforce.sample.eventbridge.json');
      const attack = '[code]<img src=x onerror=alert(1)>[/code] [ CODE ]x[/Code] <script>alert(1)</script> {{template}} ${gs.sleep(1)} | = \\';
      const enriched = await enrichedFrom({ ...finding, title: attack, description: `line1\r\nline2\u2028${attack}` });

      // Act
      const incident = parseIncident(JSON.stringify(buildServiceNowRecord(enriched, {})));

      // Assess
      assertSafeIncident(incident);
      expect(incident.description).toContain('(code)<img src=x onerror=alert(1)>(/code) (code)x(/code) <script>alert(1)</script> {{template}} ${gs.sleep(1)} | = \\');
      expect(incident.description).toContain('\nline1\nline2\n');
      expect(incident.short_description.startsWith('[SAMPLE] GuardDuty Low: (code)<img')).toBe(true);
    });

    it('a very long multi-byte title and description are cut with a visible marker', async () => {
      // Prepare
      const finding = loadFinding('targets/ssh-bruteforce.sample.eventbridge.json');
      const enriched = await enrichedFrom({ ...finding, title: '😀'.repeat(500), description: '中😀'.repeat(5_000) });

      // Act
      const incident = parseIncident(JSON.stringify(buildServiceNowRecord(enriched, {})));

      // Assess
      assertSafeIncident(incident);
      expect(incident.short_description).toContain(TRUNCATION_MARKER);
      expect(incident.short_description.endsWith(' (785665517223)')).toBe(true);
      expect(incident.description.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
      expect(incident.description.endsWith(TRUNCATION_MARKER)).toBe(true);
    });
  });

  describe('upsert through the ledger', () => {
    it('the same update delivered twice creates ONE record', async () => {
      // Prepare
      const receiver = await snReceiver();
      const ledger = memoryLedger();
      const target = makeServiceNow(receiver.url, BASIC_AUTH, ledger);
      const enriched = await sshEnriched();

      // Act
      await sendFinding(target, enriched);
      await sendFinding(target, structuredClone(enriched));

      // Assess
      expect(receiver.records.size).toBe(1);
      const [record] = receiver.records.values();
      expect(record?.fields.correlation_id).toBe(enriched.finding.id);
      expect(JSON.parse((await ledger.get(ledgerKey('soc-snow', enriched.finding))) ?? '')).toEqual({
        sysId: record?.sys_id,
        number: 'INC0010001',
        severity: 2,
        count: 2,
      });
    });

    it('a higher severity adds one work note; the same severity with count + 1 adds none', async () => {
      // Prepare
      const receiver = await snReceiver();
      const target = makeServiceNow(receiver.url);
      await sendFinding(target, await sshEnriched());

      // Act
      await sendFinding(target, await sshEnriched({ count: 3, updatedAt: '2018-11-09T07:00:00.000Z' }));
      await sendFinding(target, await sshEnriched({ severity: 8, count: 3, updatedAt: '2018-11-09T08:00:00.000Z' }));

      // Assess
      const [record] = receiver.records.values();
      expect(record?.workNotes).toHaveLength(1);
      expect(record?.workNotes[0]).toContain('Severity rose: Low 2.0 → High 8.0');
      expect(receiver.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
        'POST /api/now/table/incident',
        `PATCH /api/now/table/incident/${record?.sys_id}`,
      ]);
    });

    it('a doubled count adds one work note and becomes the new baseline', async () => {
      // Prepare
      const receiver = await snReceiver();
      const target = makeServiceNow(receiver.url);
      await sendFinding(target, await sshEnriched({ count: 2 }));

      // Act
      await sendFinding(target, await sshEnriched({ count: 4, updatedAt: '2018-11-09T08:00:00.000Z' }));
      await sendFinding(target, await sshEnriched({ count: 7, updatedAt: '2018-11-09T09:00:00.000Z' }));

      // Assess
      const [record] = receiver.records.values();
      expect(record?.workNotes).toHaveLength(1);
      expect(record?.workNotes[0]).toContain('Count: 2 → 4');
    });

    it('significance: severity up or count doubled', () => {
      // Prepare
      const previous = { severity: 5, count: 4 };

      // Act
      const verdicts = [
        isSignificantUpdate(previous, { severity: 6, count: 4 }),
        isSignificantUpdate(previous, { severity: 5, count: 8 }),
        isSignificantUpdate(previous, { severity: 5, count: 5 }),
      ];

      // Assess
      expect(verdicts).toEqual([true, true, false]);
    });

    it('a record deleted in ServiceNow: the work note gets 404, permanent', async () => {
      // Prepare
      const receiver = await snReceiver();
      const target = makeServiceNow(receiver.url);
      await sendFinding(target, await sshEnriched());
      receiver.records.clear();

      // Act
      const error = await failure(sendFinding(target, await sshEnriched({ severity: 9 })));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 404 });
      expect(error.message).toContain('No Record found');
    });
  });

  describe('requests and authentication', () => {
    it('Basic auth, JSON, Accept and sysparm_fields on POST /api/now/table/incident', async () => {
      // Prepare
      const receiver = await snReceiver();

      // Act
      await sendFinding(makeServiceNow(`${receiver.url}/`), await sshEnriched());

      // Assess
      const [request] = receiver.requests;
      expect(request).toMatchObject({ method: 'POST', path: '/api/now/table/incident?sysparm_fields=sys_id,number' });
      expect(request?.headers.authorization).toBe(`Basic ${BASIC}`);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.headers.accept).toBe('application/json');
    });

    it('an OAuth bearer token and the Security Incident table', async () => {
      // Prepare
      const receiver = await snReceiver({ token: TOKEN });
      const target = makeServiceNow(receiver.url, { token: { env: 'SN_TOKEN' }, table: 'sn_si_incident' });

      // Act
      await sendFinding(target, await sshEnriched());

      // Assess
      expect(receiver.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect([...receiver.records.values()].map((record) => [record.table, record.number])).toEqual([['sn_si_incident', 'SIR0010001']]);
    });

    it('wrong credentials: 401 User Not Authenticated, permanent, no secret', async () => {
      // Prepare
      const receiver = await snReceiver({ username: USERNAME, password: 'another-password' });

      // Act
      const error = await failure(sendFinding(makeServiceNow(receiver.url), await sshEnriched()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expect(error.message).toContain('User Not Authenticated');
      expectNoLeak(error, SECRETS);
    });

    it('a table the instance does not have: 400 Invalid table, permanent', async () => {
      // Prepare
      const receiver = await snReceiver();

      // Act
      const error = await failure(sendFinding(makeServiceNow(receiver.url, { ...BASIC_AUTH, table: 'u_guardduty' }), await sshEnriched()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 400 });
      expect(error.message).toContain('Invalid table u_guardduty');
    });
  });

  describe('status classification (insert)', () => {
    const created = JSON.stringify({ result: { sys_id: '0123456789abcdef0123456789abcdef', number: 'INC0000042' } });
    // 204: no sys_id, nothing to update later, a wrong URL or a proxy
    let ledger: Ledger;
    let enriched: EnrichedFinding;
    itClassifiesStatuses(statusTable(serviceNowTarget.statusExceptions), {
      secrets: SECRETS,
      prepare: async (status) => {
        const receiver = await snReceiver();
        const ok = status >= 200 && status < 300;
        receiver.answer = {
          status,
          body: ok ? created : JSON.stringify({ error: { message: `status ${status}`, detail: null }, status: 'failure' }),
          headers: status === 301 ? { location: 'https://elsewhere.example/' } : {},
        };
        ledger = memoryLedger();
        enriched = await sshEnriched();
        const target = makeServiceNow(receiver.url, BASIC_AUTH, ledger);
        return () => sendFinding(target, enriched);
      },
      assess: async (_status, outcome) => {
        const stored = await ledger.get(ledgerKey('soc-snow', enriched.finding));
        if (outcome === 'delivered') expect(JSON.parse(stored ?? '{}').sysId).toBe('0123456789abcdef0123456789abcdef');
        else expect(stored).toBeUndefined();
      },
    });

    it('a hibernating instance answering 200 with an HTML page is not taken for a record', async () => {
      // Prepare
      const receiver = await snReceiver();
      receiver.answer = { status: 200, body: '<html><body>Your instance is hibernating</body></html>', headers: { 'content-type': 'text/html' } };

      // Act
      const error = await failure(sendFinding(makeServiceNow(receiver.url), await sshEnriched()));

      // Assess
      expect(error.retryable).toBe(false);
      expect(error.message).toBe('ServiceNow answered HTTP 200 without a record sys_id');
    });

    it('429 Rate limit exceeded with Retry-After: retryable after that many seconds', async () => {
      // Prepare
      const receiver = await snReceiver();
      receiver.answer = rateLimited(120);

      // Act
      const error = await failure(sendFinding(makeServiceNow(receiver.url), await sshEnriched()));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 120_000 });
      expect(error.message).toContain('Rate limit exceeded');
    });
  });

  describe('secrets never leak', () => {
    itNeverLeaks({
      what: 'the password',
      secrets: SECRETS,
      statuses: { '4xx': 400, '5xx': 503 },
      echoing: async (status) => {
        const receiver = await snReceiver();
        receiver.answer = { status, body: JSON.stringify({ error: { message: `bad ${USERNAME}:${PASSWORD}`, detail: `Authorization: Basic ${BASIC}` }, status: 'failure' }) };
        return receiver.url;
      },
      redacted: true,
      send: async (url, deadlineMs) => sendFinding(makeServiceNow(url), await sshEnriched(), deadlineMs),
    });

    it('a 5xx echoing the bearer token', async () => {
      // Prepare
      const receiver = await snReceiver({ token: TOKEN });
      receiver.answer = { status: 500, body: `{"error":{"message":"Bearer ${TOKEN} failed","detail":null},"status":"failure"}` };

      // Act
      const error = await failure(sendFinding(makeServiceNow(receiver.url, { token: { env: 'SN_TOKEN' } }), await sshEnriched()));

      // Assess
      expect(error.retryable).toBe(true);
      expectNoLeak(error, SECRETS);
    });
  });

  describe('configuration', () => {
    const base = { type: 'servicenow', url: 'https://example.service-now.com', username: { env: 'U' }, password: { ssm: '/sn/password' } };

    it.each([
      { change: {}, ok: true },
      { change: { url: 'http://example.service-now.com' }, ok: false },
      { change: { url: 'http://127.0.0.1:8080', allowPrivateNetwork: true }, ok: true },
      { change: { username: undefined }, ok: false },
      { change: { token: { env: 'T' } }, ok: false },
      { change: { username: undefined, password: undefined, token: { env: 'T' } }, ok: true },
      { change: { table: 'sn_si_incident' }, ok: true },
      { change: { table: 'incident; drop' }, ok: false },
      { change: { urgencyImpact: { high: { urgency: 1, impact: 4 } } }, ok: false },
      { change: { fields: { assignment_group: 'SOC' } }, ok: true },
      { change: { fields: { short_description: 'x' } }, ok: false },
      { change: { password: 'plain-text' }, ok: false },
    ])('$change → valid $ok', ({ change, ok }) => {
      // Prepare
      const config = Object.fromEntries(Object.entries({ ...base, ...change }).filter(([, value]) => value !== undefined));

      // Act
      const result = z.safeParse(ServiceNowConfigSchema, config);

      // Assess
      expect(result.success).toBe(ok);
    });
  });
});
