import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import * as z from 'zod/mini';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { ENRICHED_DETAIL_TYPE, ENRICHED_SOURCE } from '../../../schemas/envelope.ts';
import { runReplay } from '../../../shared/cli/replay-cmd.ts';
import { loadConfig } from '../../../shared/config/load.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { DestinationRefusedError } from '../../../shared/errors.ts';
import { jsonDocument } from '../../../shared/formats/json-formats.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { makeJob } from '../../../shared/delivery/job.ts';
import type { DeadLetter } from '../../../shared/delivery/sink.ts';
import { deliverQueued } from '../../../shared/pipeline.ts';
import { buildEntry, EventBridgeConfigSchema, eventBridgeIamStatements, eventBridgeTarget, type EventBridgeConfig, type EventBridgeEntry } from '../../../shared/targets/eventbridge.ts';
import { entrySize, KEEP_STRINGS_UP_TO, MAX_ENTRY_BYTES } from '../../../shared/targets/eventbridge-detail.ts';
import { REFRESH_BEFORE_EXPIRY_MS } from '../../../shared/targets/eventbridge-credentials.ts';
import { TARGET_DEFINITIONS } from '../../../shared/targets/registry.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { ENTRY_LIMIT_BYTES, EVENTS_ACCOUNT, EVENTS_CREDENTIALS, putEventsEntrySize, startEventBridgeLoopback, type EventBridgeLoopback } from '../../helpers/eventbridge-loopback.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { representativeFindings, REPRESENTATIVE_NAMES } from '../../helpers/representative.ts';
import { startStsLoopback, STS_CALLER, type StsLoopback } from '../../helpers/sts-loopback.ts';
import { delivery, expectNoLeak, failure, findingJob, itClassifiesStatuses, itNeverLeaks, pick, sendFinding, statusTable, targetContext } from '../../helpers/target-contract.ts';

const TARGET = 'security-bus';
const HOME_REGION = 'eu-west-1';
const BUS_NAME = 'security-automation';
const HOME_BUS = `arn:aws:events:${HOME_REGION}:${EVENTS_ACCOUNT}:event-bus/${BUS_NAME}`;
const CENTRAL_ACCOUNT = '222222222222';
const CENTRAL_BUS = `arn:aws:events:us-east-2:${CENTRAL_ACCOUNT}:event-bus/central-security`;
const CENTRAL_ROLE = `arn:aws:iam::${CENTRAL_ACCOUNT}:role/findings-router-put-events`;
const SECRET_KEY = EVENTS_CREDENTIALS.secretAccessKey;
const SESSION_TOKEN = 'FwoGZXIvYXdzEEVENTSSESSIONTOKEN0123456789';
const CONFIGS = join(import.meta.dirname, '../../events/configs');

// ── Plumbing ─────────────────────────────────────────────────────────────────

const closers: (() => Promise<void>)[] = [];
beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', EVENTS_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', SECRET_KEY);
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_REGION', HOME_REGION);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closers.splice(0).map((close) => close()));
});

const loopbackWith = async (buses: readonly string[] = [HOME_BUS]): Promise<EventBridgeLoopback> => {
  const loopback = await startEventBridgeLoopback({ buses });
  closers.push(() => loopback.close());
  return loopback;
};

/** An STS loopback whose issued credentials the EventBridge loopback accepts as the central account; the STS client signs with the caller's keys. */
const stsFor = async (events: EventBridgeLoopback, role: { externalId?: string } = {}): Promise<StsLoopback> => {
  const sts = await startStsLoopback({ roles: { [CENTRAL_ROLE]: { account: CENTRAL_ACCOUNT, ...role } }, onIssue: (credentials, account) => events.trust(credentials, account) });
  closers.push(() => sts.close());
  vi.stubEnv('AWS_ENDPOINT_URL_STS', sts.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', STS_CALLER.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', STS_CALLER.secretAccessKey);
  return sts;
};

const makeTarget = (endpoint: string, settings: Partial<EventBridgeConfig> = {}, name = TARGET): Target =>
  eventBridgeTarget.create(name, { type: 'eventbridge', eventBus: BUS_NAME, endpoint, allowPrivateNetwork: true, ...settings }, targetContext());

const CONFIG: EventBridgeConfig = { type: 'eventbridge', eventBus: CENTRAL_BUS };

let representative: [string, EnrichedFinding][] = [];
beforeAll(async () => {
  representative = await representativeFindings();
});
const sample = (name = 'instance'): EnrichedFinding => pick(representative, name);

/** The entry with its Detail parsed (golden files stay readable; the exact text is checked beside). */
const readable = (entry: EventBridgeEntry) => ({ ...entry, Detail: JSON.parse(entry.Detail) as unknown });

const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `enriched` with a description that makes its default entry exactly `bytes` long (ASCII filler). */
const withEntrySize = (enriched: EnrichedFinding, bytes: number, config: EventBridgeConfig = CONFIG): EnrichedFinding => {
  const copy = structuredClone(enriched);
  copy.finding.description = '';
  const base = entrySize({ source: ENRICHED_SOURCE, detailType: ENRICHED_DETAIL_TYPE, resources: [copy.finding.arn], hasTime: true }, JSON.stringify(copy));
  copy.finding.description = 'd'.repeat(bytes - base);
  return copy;
};

// ── Tests ────────────────────────────────────────────────────────────────────

describe('Target: eventbridge', () => {
  describe('entry golden files', () => {
    it.each(REPRESENTATIVE_NAMES)('renders %s as in test/golden/eventbridge', async (name) => {
      // Prepare
      const enriched = sample(name);

      // Act
      const entry = buildEntry(enriched, CONFIG);

      // Assess
      await expect(`${JSON.stringify(readable(entry), null, 2)}\n`).toMatchFileSnapshot(`../../golden/eventbridge/${name}.json`);
      expect(entry.Detail).toBe(JSON.stringify(enriched));
      expect(entry).toMatchObject({ EventBusName: CENTRAL_BUS, Source: 'findings-router', DetailType: 'GuardDuty Finding Enriched', Resources: [enriched.finding.arn] });
      expect(Date.parse(entry.Time!)).toBe(Date.parse(String(enriched.finding.updatedAt)));
    });

    it.each(['raw', 'ocsf'] as const)('format %s: the detail is that JSON document exactly, as in test/golden/eventbridge/instance.%s.json', async (format) => {
      // Prepare
      const enriched = sample('instance');

      // Act
      const detailType = format === 'ocsf' ? 'GuardDuty Finding (OCSF)' : 'GuardDuty Finding';
      const entry = buildEntry(enriched, { ...CONFIG, format, source: 'com.example.security', detailType });

      // Assess
      await expect(`${JSON.stringify(readable(entry), null, 2)}\n`).toMatchFileSnapshot(`../../golden/eventbridge/instance.${format}.json`);
      expect(entry.Detail).toBe(JSON.stringify(jsonDocument(enriched, format)));
      expect(entry).toMatchObject({ Source: 'com.example.security', DetailType: detailType });
    });

    it('render is pure and the payload is the entry', () => {
      // Prepare
      const enriched = sample('eks');
      const target = makeTarget('https://events.eu-west-1.amazonaws.com');

      // Act
      const payload = target.render(enriched);

      // Assess
      expect(payload).toMatchObject({ contentType: 'application/json', extension: 'json' });
      expect(JSON.parse(payload.body)).toEqual(buildEntry(enriched, { ...CONFIG, eventBus: BUS_NAME }));
      expect(target.render(structuredClone(enriched))).toEqual(payload);
    });
  });

  describe('hostile finding', () => {
    it('the detail round-trips exactly; the envelope fields stay the configured ones; EventBridge takes the entry', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());
      const target = makeTarget(loopback.endpoint);

      // Act
      await sendFinding(target, enriched);

      // Assess
      const [event] = loopback.buses.get(HOME_BUS)!;
      expect(JSON.parse(event!.detail)).toEqual(JSON.parse(JSON.stringify(enriched)));
      expect(event).toMatchObject({ source: ENRICHED_SOURCE, detailType: ENRICHED_DETAIL_TYPE, resources: [enriched.finding.arn] });
    });

    it.each([
      ['not an ARN', 'finding-without-arn'],
      ['a line break', 'arn:aws:guardduty:eu-west-1:111122223333:detector/d\nfinding/x'],
      ['over 2,048 characters', `arn:aws:guardduty:eu-west-1:111122223333:detector/d/finding/${'x'.repeat(2_048)}`],
    ])('a finding ARN with %s is left out of Resources (never sent broken)', (_what, arn) => {
      // Prepare
      const enriched = sample('instance');
      enriched.finding.arn = arn;

      // Act
      const entry = buildEntry(enriched, CONFIG);

      // Assess
      expect(entry.Resources).toEqual([]);
      expect(JSON.parse(entry.Detail).finding.arn).toBe(arn);
    });
  });

  describe('the 256 KB entry limit', () => {
    it('counts the entry as EventBridge does: just under the limit goes whole, at the limit it is reduced', () => {
      // Prepare
      const under = withEntrySize(sample('instance'), MAX_ENTRY_BYTES);
      const at = withEntrySize(sample('instance'), MAX_ENTRY_BYTES + 1);

      // Act
      const [whole, reduced] = [buildEntry(under, CONFIG), buildEntry(at, CONFIG)];

      // Assess
      expect(putEventsEntrySize(whole as never)).toBe(ENTRY_LIMIT_BYTES - 1);
      expect(whole.Detail).toBe(JSON.stringify(under));
      expect(JSON.parse(reduced.Detail)).toMatchObject({ truncated: true });
      expect(putEventsEntrySize(reduced as never)).toBeLessThan(ENTRY_LIMIT_BYTES);
    });

    it('long text: only strings over 2,048 characters are cut (marker kept, no broken character); identifiers stay exact', () => {
      // Prepare
      const enriched = sample('instance');
      enriched.finding.description = '😀é中&'.repeat(100_000);
      enriched.finding.title = `${'T'.repeat(KEEP_STRINGS_UP_TO)}`;

      // Act
      const entry = buildEntry(enriched, CONFIG);

      // Assess
      const detail = JSON.parse(entry.Detail) as EnrichedFinding & { truncated: boolean };
      expect(detail.truncated).toBe(true);
      expect(detail.finding.description!.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(detail.finding.description).not.toMatch(BROKEN_SURROGATE);
      const { description: _cut, ...rest } = detail.finding;
      const { description: _original, ...expected } = JSON.parse(JSON.stringify(enriched.finding));
      expect(rest).toEqual(expected);
      expect(detail.enrichment).toEqual(JSON.parse(JSON.stringify(enriched.enrichment)));
      expect(putEventsEntrySize(entry as never)).toBeLessThan(ENTRY_LIMIT_BYTES);
    });

    it('too many fields: the routing projection, with the resource identifiers and the whole enrichment', () => {
      // Prepare
      const enriched = sample('instance');
      const probes = Array.from({ length: 8_000 }, (_, i) => ({ localPortDetails: { port: i, portName: 'SSH' }, remoteIpDetails: { ipAddressV4: `198.51.100.${i % 255}` } }));
      enriched.finding.service = { ...enriched.finding.service, action: { actionType: 'PORT_PROBE', portProbeAction: { blocked: false, portProbeDetails: probes } } };

      // Act
      const entry = buildEntry(enriched, CONFIG);

      // Assess
      const detail = JSON.parse(entry.Detail) as { finding: Record<string, any>; enrichment: unknown; truncated: boolean };
      expect(detail.truncated).toBe(true);
      const { finding } = enriched;
      expect(detail.finding).toMatchObject({
        id: finding.id,
        arn: finding.arn,
        type: finding.type,
        severity: finding.severity,
        accountId: finding.accountId,
        region: finding.region,
        updatedAt: finding.updatedAt,
        resource: { resourceType: 'Instance', instanceDetails: { instanceId: finding.resource.instanceDetails!.instanceId } },
        service: { archived: finding.service!.archived, count: finding.service!.count, action: { actionType: 'PORT_PROBE' } },
      });
      expect(detail.finding.service.action.portProbeAction).toBeUndefined();
      expect(detail.enrichment).toEqual(JSON.parse(JSON.stringify(enriched.enrichment)));
      expect(putEventsEntrySize(entry as never)).toBeLessThan(ENTRY_LIMIT_BYTES);
    });

    it('too many tags even for that: the minimal projection (severity, account, ids) still goes out', () => {
      // Prepare
      const enriched = sample('instance');
      enriched.enrichment.account.tags = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`tag-${i}`, `value-${i}`]));

      // Act
      const entry = buildEntry(enriched, CONFIG);

      // Assess
      const detail = JSON.parse(entry.Detail) as { finding: Record<string, unknown>; enrichment: Record<string, any>; truncated: boolean };
      expect(detail).toMatchObject({
        truncated: true,
        finding: { id: enriched.finding.id, type: enriched.finding.type, severity: enriched.finding.severity },
        enrichment: { severityLabel: enriched.enrichment.severityLabel, account: { id: enriched.enrichment.account.id } },
      });
      expect(detail.enrichment.account.tags).toBeUndefined();
      expect(putEventsEntrySize(entry as never)).toBeLessThan(ENTRY_LIMIT_BYTES);
    });

    it.each(['raw', 'ocsf'] as const)('format %s is reduced the same way (marked, under the limit, ids exact)', (format) => {
      // Prepare
      const enriched = sample('instance');
      enriched.finding.description = 'x'.repeat(300_000);
      // OCSF cuts each string to string_t (65,535 bytes) itself: long tags keep the document over the entry limit.
      enriched.finding.resource.instanceDetails!.tags = Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: 'y'.repeat(60_000) }));

      // Act
      const entry = buildEntry(enriched, { ...CONFIG, format });

      // Assess
      const detail = JSON.parse(entry.Detail) as Record<string, any>;
      expect(detail.truncated).toBe(true);
      if (format === 'raw') expect(detail).toMatchObject({ id: enriched.finding.id, type: enriched.finding.type });
      else expect(detail).toMatchObject({ class_uid: 2004, finding_info: { uid: enriched.finding.arn, types: [enriched.finding.type] } });
      expect(putEventsEntrySize(entry as never)).toBeLessThan(ENTRY_LIMIT_BYTES);
    });

    it('EventBridge refuses the whole entry and takes the reduced one', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const enriched = sample('instance');
      enriched.finding.description = 'x'.repeat(300_000);
      const client = new EventBridgeClient({ region: HOME_REGION, endpoint: loopback.endpoint, credentials: EVENTS_CREDENTIALS, maxAttempts: 1 });
      const whole = new PutEventsCommand({ Entries: [{ EventBusName: BUS_NAME, Source: ENRICHED_SOURCE, DetailType: ENRICHED_DETAIL_TYPE, Detail: JSON.stringify(enriched) }] });

      // Act
      const refused = await client.send(whole).then(
        () => undefined,
        (error: { name: string }) => error.name,
      );
      await sendFinding(makeTarget(loopback.endpoint), enriched);

      // Assess
      expect(refused).toBe('ValidationException');
      const [event] = loopback.buses.get(HOME_BUS)!;
      expect(JSON.parse(event!.detail)).toMatchObject({ truncated: true, finding: { id: enriched.finding.id } });
      expect(event!.size).toBeLessThan(ENTRY_LIMIT_BYTES);
    });
  });

  describe('delivery with PutEvents', () => {
    it('a bus by name: signed for the function region, lands on that bus in the function account with source, detail-type, resources and time', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const target = makeTarget(loopback.endpoint);
      const enriched = sample('lambda');

      // Act
      await sendFinding(target, enriched);

      // Assess
      const [call] = loopback.calls;
      expect(call).toMatchObject({ target: 'AWSEvents.PutEvents', status: 200, region: HOME_REGION });
      expect(call?.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(loopback.buses.get(HOME_BUS)).toEqual([
        expect.objectContaining({
          source: 'findings-router',
          detailType: 'GuardDuty Finding Enriched',
          resources: [enriched.finding.arn],
          time: new Date(String(enriched.finding.updatedAt)),
          detail: JSON.stringify(enriched),
          putBy: EVENTS_ACCOUNT,
        }),
      ]);
    });

    it('a bus by ARN in another account and region: called in the ARN region (AWS_REGION is another one)', async () => {
      // Prepare
      const loopback = await loopbackWith([]);
      loopback.createBus(CENTRAL_BUS, { allowAccounts: [EVENTS_ACCOUNT] });
      const target = makeTarget(loopback.endpoint, { eventBus: CENTRAL_BUS });

      // Act
      await sendFinding(target, sample());

      // Assess
      expect(loopback.calls[0]?.region).toBe('us-east-2');
      expect(loopback.buses.get(CENTRAL_BUS)).toHaveLength(1);
      expect(loopback.lost).toEqual([]);
    });

    it('a bus in another account without its permission: AccessDeniedException for the entry, permanent, code in the message', async () => {
      // Prepare
      const loopback = await loopbackWith([CENTRAL_BUS]);
      const target = makeTarget(loopback.endpoint, { eventBus: CENTRAL_BUS });

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(loopback.calls[0]?.status).toBe(200);
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toMatch(/^PutEvents to arn:aws:events:us-east-2:222222222222:event-bus\/central-security rejected the entry: AccessDeniedException /);
    });

    it.each([
      { code: 'ThrottlingException', retryable: true },
      { code: 'InternalFailure', retryable: true },
      { code: 'InternalException', retryable: true },
      { code: 'AccessDeniedException', retryable: false },
      { code: 'InvalidAccountIdException', retryable: false },
      { code: 'InvalidArgument', retryable: false },
      { code: 'MalformedDetail', retryable: false },
      { code: 'RedactionFailure', retryable: false },
      { code: 'NotAuthorizedForSourceException', retryable: false },
      { code: 'NotAuthorizedForDetailTypeException', retryable: false },
    ])('FailedEntryCount 1 with ErrorCode $code → retryable $retryable, the code in the message', async ({ code, retryable }) => {
      // Prepare
      const loopback = await loopbackWith();
      loopback.failEntries.push({ ErrorCode: code, ErrorMessage: `${code} from the loopback` });
      const target = makeTarget(loopback.endpoint);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(loopback.calls[0]?.status).toBe(200);
      expect(error).toMatchObject({ retryable, status: undefined });
      expect(error.message).toBe(`PutEvents to ${BUS_NAME} rejected the entry: ${code} ${code} from the loopback`);
      expect(loopback.buses.get(HOME_BUS)).toEqual([]);
    });

    it.each([
      { what: 'FailedEntryCount without an error code', body: { FailedEntryCount: 1, Entries: [{}] }, message: 'rejected the entry: unknown' },
      { what: 'no event id', body: { FailedEntryCount: 0, Entries: [{}] }, message: 'unconfirmed' },
      { what: 'no entries at all', body: { FailedEntryCount: 0, Entries: [] }, message: 'unconfirmed' },
    ])('an answer with $what is retryable', async ({ body, message }) => {
      // Prepare
      const loopback = await loopbackWith();
      loopback.rawAnswers.push({ status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/x-amz-json-1.1' } });
      const target = makeTarget(loopback.endpoint);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: true });
      expect(error.message).toContain(message);
    });

    it.each([
      { status: 400, type: 'ThrottlingException', retryable: true },
      { status: 500, type: 'InternalException', retryable: true },
      { status: 400, type: 'AccessDeniedException', retryable: false },
      { status: 400, type: 'ResourceNotFoundException', retryable: false },
      { status: 400, type: 'ValidationException', retryable: false },
    ])('a call failing with $status $type → retryable $retryable', async ({ status, type, retryable }) => {
      // Prepare
      const loopback = await loopbackWith();
      loopback.failCalls.push({ status, type, message: `${type} from the loopback` });
      const target = makeTarget(loopback.endpoint);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable, status });
      expect(error.message).toBe(`PutEvents failed: HTTP ${status} ${type}: ${type} from the loopback`);
    });

    it('a loopback endpoint without allowPrivateNetwork is refused before any request', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const target = makeTarget(loopback.endpoint, { allowPrivateNetwork: false });

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toBeInstanceOf(DestinationRefusedError);
      expect(loopback.calls).toHaveLength(0);
    });

    it('a bus by name with no region in the settings nor in AWS_REGION: permanent, before any request', async () => {
      // Prepare
      vi.stubEnv('AWS_REGION', '');
      const loopback = await loopbackWith();
      const target = makeTarget(loopback.endpoint);

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toContain('no region');
      expect(loopback.calls).toHaveLength(0);
    });
  });

  describe('through the deliver stage', () => {
    const deliverOne = async (target: Target, enriched: EnrichedFinding, letters: DeadLetter[]) =>
      deliverQueued([{ id: 'm-1', body: JSON.stringify(makeJob(target.name, enriched, ['every-finding'])), receiveCount: 1 }], {
        targets: new Map([[target.name, target]]),
        sink: { deadLetter: async (letter) => void letters.push(letter) },
        maxReceives: 5,
        deadline: () => Date.now() + 5_000,
      });

    it('a permanent entry error is dead-lettered with its code in the reason', async () => {
      // Prepare
      const loopback = await loopbackWith();
      loopback.failEntries.push({ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' });
      const letters: DeadLetter[] = [];

      // Act
      const [outcome] = await deliverOne(makeTarget(loopback.endpoint), sample(), letters);

      // Assess
      expect(outcome).toMatchObject({ kind: 'dead-lettered' });
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ stage: 'deliver', target: TARGET, findingId: sample().finding.id });
      expect(letters[0]?.reason).toContain(`PutEvents to ${BUS_NAME} rejected the entry: NotAuthorizedForSourceException Not authorized for the source.`);
    });

    it('a throttled entry is sent again and delivered once', async () => {
      // Prepare
      const loopback = await loopbackWith();
      loopback.failEntries.push({ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' });
      const letters: DeadLetter[] = [];

      // Act
      const [outcome] = await deliverOne(makeTarget(loopback.endpoint), sample(), letters);

      // Assess
      expect(outcome).toMatchObject({ kind: 'delivered', attempts: 2 });
      expect(loopback.calls).toHaveLength(2);
      expect(loopback.buses.get(HOME_BUS)).toHaveLength(1);
      expect(letters).toEqual([]);
    });
  });

  describe('roleArn: a cross-account bus through an assumed role', () => {
    it('assumes the role once (session name, external id), signs PutEvents with its credentials, reuses them for the next delivery', async () => {
      // Prepare
      const loopback = await loopbackWith([CENTRAL_BUS]);
      const sts = await stsFor(loopback, { externalId: 'findings-router' });
      const target = makeTarget(loopback.endpoint, { eventBus: CENTRAL_BUS, roleArn: CENTRAL_ROLE, externalId: 'findings-router' });

      // Act
      await sendFinding(target, sample('instance'));
      await sendFinding(target, sample('lambda'));

      // Assess
      expect(sts.requests).toHaveLength(1);
      expect(sts.requests[0]).toMatchObject({ region: HOME_REGION, status: 200 });
      expect(sts.requests[0]?.params).toMatchObject({ Action: 'AssumeRole', RoleArn: CENTRAL_ROLE, RoleSessionName: `findings-router-${TARGET}`, ExternalId: 'findings-router', DurationSeconds: '3600' });
      const [issued] = sts.issued;
      expect(loopback.calls.map((call) => [call.accessKeyId, call.headers['x-amz-security-token'], call.region])).toEqual([
        [issued!.accessKeyId, issued!.sessionToken, 'us-east-2'],
        [issued!.accessKeyId, issued!.sessionToken, 'us-east-2'],
      ]);
      expect(loopback.buses.get(CENTRAL_BUS)?.map((event) => event.putBy)).toEqual([CENTRAL_ACCOUNT, CENTRAL_ACCOUNT]);
    });

    it(`credentials within ${REFRESH_BEFORE_EXPIRY_MS / 60_000} minutes of expiry are renewed before the next delivery`, async () => {
      // Prepare
      const loopback = await loopbackWith([CENTRAL_BUS]);
      const sts = await stsFor(loopback);
      sts.expiresInMs = REFRESH_BEFORE_EXPIRY_MS - 60_000;
      const target = makeTarget(loopback.endpoint, { eventBus: CENTRAL_BUS, roleArn: CENTRAL_ROLE });

      // Act
      await sendFinding(target, sample('instance'));
      await sendFinding(target, sample('lambda'));

      // Assess
      expect(sts.requests).toHaveLength(2);
      expect(loopback.calls.map((call) => call.accessKeyId)).toEqual(sts.issued.map((credentials) => credentials.accessKeyId));
    });

    it.each([
      { what: 'a role that does not trust the router (AccessDenied)', setup: (_sts: StsLoopback) => {}, roleArn: `arn:aws:iam::${CENTRAL_ACCOUNT}:role/other`, retryable: false, code: 'AccessDenied', status: 403 },
      { what: 'STS throttling', setup: (sts: StsLoopback) => sts.failCalls.push({ status: 400, code: 'Throttling', type: 'Sender', message: 'Rate exceeded' }), roleArn: CENTRAL_ROLE, retryable: true, code: 'Throttling', status: 400 },
      { what: 'a region where STS is disabled', setup: (sts: StsLoopback) => sts.failCalls.push({ status: 403, code: 'RegionDisabledException', type: 'Sender', message: 'STS is not activated in this region' }), roleArn: CENTRAL_ROLE, retryable: false, code: 'RegionDisabledException', status: 403 },
    ])('AssumeRole failing with $what: retryable $retryable, named, no PutEvents', async ({ setup, roleArn, retryable, code, status }) => {
      // Prepare
      const loopback = await loopbackWith([CENTRAL_BUS]);
      const sts = await stsFor(loopback);
      setup(sts);
      const target = makeTarget(loopback.endpoint, { eventBus: CENTRAL_BUS, roleArn });

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable, status });
      expect(error.message).toContain(`AssumeRole ${roleArn} failed: HTTP ${status} ${code}`);
      expect(loopback.calls).toHaveLength(0);
      expectNoLeak(error, [STS_CALLER.secretAccessKey]);
    });

    it('the external id the trust policy wants is missing: AccessDenied, permanent', async () => {
      // Prepare
      const loopback = await loopbackWith([CENTRAL_BUS]);
      await stsFor(loopback, { externalId: 'expected-id' });
      const target = makeTarget(loopback.endpoint, { eventBus: CENTRAL_BUS, roleArn: CENTRAL_ROLE });

      // Act
      const error = await failure(sendFinding(target, sample()));

      // Assess
      expect(error).toMatchObject({ retryable: false, status: 403 });
      expect(loopback.calls).toHaveLength(0);
    });

    it('the assumed credentials never show in an error, even when EventBridge echoes them', async () => {
      // Prepare
      const loopback = await loopbackWith([CENTRAL_BUS]);
      const sts = await stsFor(loopback);
      const target = makeTarget(loopback.endpoint, { eventBus: CENTRAL_BUS, roleArn: CENTRAL_ROLE });
      await sendFinding(target, sample('instance'));
      const [issued] = sts.issued;
      loopback.failEntries.push({ ErrorCode: 'InvalidArgument', ErrorMessage: `signed by ${issued!.secretAccessKey} token ${issued!.sessionToken}` });

      // Act
      const error = await failure(sendFinding(target, sample('lambda')));

      // Assess
      expect(error.message).toContain('InvalidArgument');
      expect(error.message).toContain('[REDACTED]');
      expectNoLeak(error, [issued!.secretAccessKey, issued!.sessionToken]);
    });
  });

  describe('status classification', () => {
    const OK = JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: '11710aed-b79e-4468-a20b-bb3c0c3b4860' }] });
    const awsError = (type: string) => JSON.stringify({ __type: type, message: `${type} from the loopback` });
    const BODIES: Record<number, string> = {
      200: OK,
      201: OK,
      202: OK,
      204: '',
      301: '',
      400: awsError('InvalidArgument'),
      401: awsError('UnrecognizedClientException'),
      403: awsError('AccessDeniedException'),
      404: awsError('UnknownOperationException'),
      408: awsError('RequestTimeout'),
      409: awsError('ConcurrentModificationException'),
      413: awsError('RequestEntityTooLarge'),
      429: awsError('ThrottlingException'),
      500: awsError('InternalException'),
      502: '<html>Bad Gateway</html>',
      503: awsError('ServiceUnavailable'),
      504: '',
    };
    // 204: no body, so no event id: the delivery is unconfirmed and tried again.
    itClassifiesStatuses(statusTable(eventBridgeTarget.statusExceptions), {
      secrets: [SECRET_KEY],
      prepare: async (status) => {
        const loopback = await loopbackWith();
        loopback.rawAnswers.push({ status, body: BODIES[status] ?? '', headers: { 'content-type': 'application/x-amz-json-1.1', ...(status === 301 ? { location: 'https://elsewhere.example/' } : {}) } });
        const target = makeTarget(loopback.endpoint);
        return () => sendFinding(target, sample());
      },
    });
  });

  describe('secrets', () => {
    itNeverLeaks({
      what: 'the secret key and session token',
      secrets: [SECRET_KEY, SESSION_TOKEN],
      statuses: { '4xx': 403, '5xx': 503 },
      timeoutMessage: 'PutEvents failed: timed out',
      before: () => vi.stubEnv('AWS_SESSION_TOKEN', SESSION_TOKEN),
      echoing: async (status) => {
        const loopback = await loopbackWith();
        const echo = `signed with ${SECRET_KEY} and token=${SESSION_TOKEN}`;
        const type = status === 403 ? 'AccessDeniedException' : 'ServiceUnavailable';
        loopback.rawAnswers.push({ status, body: JSON.stringify({ __type: type, message: echo }), headers: { 'x-amzn-errortype': type } });
        return loopback.endpoint;
      },
      send: (endpoint, deadlineMs) => sendFinding(makeTarget(endpoint), sample(), deadlineMs),
    });
  });

  describe('settings', () => {
    it.each([
      [{ eventBus: 'has space' }, 'eventBus'],
      [{ eventBus: 'x'.repeat(257) }, 'eventBus'],
      [{ eventBus: 'arn:aws:events:eu-west-1:12345:event-bus/x' }, 'eventBus'],
      [{ eventBus: 'arn:aws:sns:eu-west-1:111111111111:topic' }, 'eventBus'],
      [{ eventBus: CENTRAL_BUS, region: 'eu-west-1' }, 'region'],
      [{ region: 'Europe' }, 'region'],
      [{ source: 'aws.guardduty' }, 'source'],
      [{ source: '' }, 'source'],
      [{ source: 'line\nbreak' }, 'source'],
      [{ detailType: 'x'.repeat(129) }, 'detailType'],
      [{ format: 'ecs' }, 'format'],
      [{ roleArn: 'arn:aws:iam::222222222222:user/alice' }, 'roleArn'],
      [{ roleArn: 'arn:aws:iam::222222222222:role/${AWS::Region}' }, 'roleArn'],
      [{ externalId: 'abc' }, 'externalId'],
      [{ endpoint: 'events.local' }, 'endpoint'],
      [{ busName: 'x' }, 'busName'],
    ])('rejects %j (%s)', (override, field) => {
      // Prepare
      const config = { type: 'eventbridge', eventBus: BUS_NAME, ...override };

      // Act
      const result = z.safeParse(EventBridgeConfigSchema, config);

      // Assess
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain(field);
    });

    it.each([
      { eventBus: 'default' },
      { eventBus: 'aws.partner/example.com/123/findings' },
      { eventBus: CENTRAL_BUS, region: 'us-east-2' },
      { eventBus: 'arn:aws-us-gov:events:us-gov-west-1:111111111111:event-bus/x' },
      { eventBus: CENTRAL_BUS, roleArn: `arn:aws:iam::${CENTRAL_ACCOUNT}:role/path/to/put-events`, externalId: 'ext-id:1' },
    ])('accepts %j', (settings) => {
      // Act
      const result = z.safeParse(EventBridgeConfigSchema, { type: 'eventbridge', ...settings });

      // Assess
      expect(result.error?.issues).toBeUndefined();
    });
  });

  describe('IAM statements', () => {
    it.each([
      [{ eventBus: BUS_NAME }, ['events:PutEvents'], `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${BUS_NAME}`],
      [{ eventBus: BUS_NAME, region: 'us-west-2' }, ['events:PutEvents'], `arn:\${AWS::Partition}:events:us-west-2:\${AWS::AccountId}:event-bus/${BUS_NAME}`],
      [{ eventBus: CENTRAL_BUS }, ['events:PutEvents'], CENTRAL_BUS],
      [{ eventBus: CENTRAL_BUS, roleArn: CENTRAL_ROLE }, ['sts:AssumeRole'], CENTRAL_ROLE],
      [{ eventBus: BUS_NAME, roleArn: CENTRAL_ROLE }, ['sts:AssumeRole'], CENTRAL_ROLE],
    ])('%j → exactly %j on %s', (settings, actions, resource) => {
      // Prepare
      const config = z.parse(EventBridgeConfigSchema, { type: 'eventbridge', ...settings });

      // Act
      const statements = eventBridgeTarget.iamStatements!(config);

      // Assess
      expect(statements).toEqual([{ Action: actions, Resource: [resource] }]);
      expect(JSON.stringify(statements)).not.toContain('*');
      // Only CloudFormation pseudo parameters, so Fn::Sub resolves the Resource and nothing else.
      for (const match of JSON.stringify(statements).matchAll(/\$\{([^}]*)\}/g)) expect(['AWS::Partition', 'AWS::Region', 'AWS::AccountId']).toContain(match[1]);
    });

    it('the Resource is the bus PutEvents reaches (pseudo parameters resolved as in the function account and region)', async () => {
      // Prepare
      const loopback = await loopbackWith();
      const [statement] = eventBridgeIamStatements({ type: 'eventbridge', eventBus: BUS_NAME });
      const resolved = statement!.Resource[0]!.replace('${AWS::Partition}', 'aws').replace('${AWS::Region}', HOME_REGION).replace('${AWS::AccountId}', EVENTS_ACCOUNT);

      // Act
      await sendFinding(makeTarget(loopback.endpoint), sample());

      // Assess
      expect(loopback.allEvents().map((event) => event.bus)).toEqual([resolved]);
    });

    it('is declared by the eventbridge definition in the registry', () => {
      // Assess
      expect(TARGET_DEFINITIONS.find((definition) => definition.type === 'eventbridge')?.iamStatements).toBe(eventBridgeIamStatements);
    });
  });

  describe('a route using it', () => {
    it('test/events/configs/eventbridge.yml loads, and replay --payloads writes the exact entries PutEvents receives', async () => {
      // Prepare
      const config = await loadConfig(ROUTES_CONFIG, { file: join(CONFIGS, 'eventbridge.yml') });
      const payloads = mkdtempSync(join(tmpdir(), 'eventbridge-payloads-'));
      const event = join(import.meta.dirname, '../../events/published/ssh-bruteforce.sample.eventbridge.json');
      const id = (JSON.parse(readFileSync(event, 'utf8')) as { detail: { id: string } }).detail.id;
      const sink = new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream;

      // Act
      const code = await runReplay([event, '--routes', join(CONFIGS, 'eventbridge.yml'), '--dry-run', '--payloads', payloads, '--json'], { stdout: sink, stderr: sink });

      // Assess
      expect(code).toBe(0);
      expect([...config.targets.values()].map((t) => t.type)).toEqual(['eventbridge', 'eventbridge']);
      const automation = JSON.parse(readFileSync(join(payloads, 'automation', `${id}.json`), 'utf8')) as EventBridgeEntry;
      const central = JSON.parse(readFileSync(join(payloads, 'central', `${id}.json`), 'utf8')) as EventBridgeEntry;
      expect(automation).toMatchObject({ EventBusName: BUS_NAME, Source: ENRICHED_SOURCE, DetailType: ENRICHED_DETAIL_TYPE });
      expect(central).toMatchObject({ EventBusName: CENTRAL_BUS, DetailType: 'GuardDuty Finding (OCSF)' });
      expect(JSON.parse(central.Detail)).toMatchObject({ class_uid: 2004 });
      const loopback = await loopbackWith();
      const target = makeTarget(loopback.endpoint);
      // What send puts on the wire is the entry render writes (send builds it from the finding, as render does).
      const rendered = JSON.parse(target.render(sample()).body) as EventBridgeEntry;
      await target.send(findingJob(target, sample(), delivery()));
      const [received] = loopback.buses.get(HOME_BUS)!;
      expect(received).toMatchObject({ source: rendered.Source, detailType: rendered.DetailType, detail: rendered.Detail, resources: rendered.Resources });
    });
  });
});
