import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import * as z from 'zod/mini';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EnrichedFindingSchema, type EnrichedFinding } from '../../schemas/enriched.ts';
import { GuardDutyFindingSchema } from '../../schemas/finding.ts';
import { ACCOUNTS_CONFIG, staticAccountDirectory } from '../../shared/accounts/directory.ts';
import { publishEnriched } from '../../shared/aws/publisher.ts';
import { parseConfig } from '../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../shared/config/routes-config.ts';
import { dynamoMembershipState } from '../../shared/aws/dynamo-membership-state.ts';
import { MEMBERSHIP_FINDING_TYPE, runMembershipWatch, type WatchDeps } from '../../shared/members/watch.ts';
import { route } from '../../shared/pipeline.ts';
import { memoryFindingState } from '../../shared/state/finding-state.ts';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { startDynalite } from '../helpers/dynalite.ts';
import { lambdaContext } from '../helpers/lambda-context.ts';
import { startOrgGuardDutyLoopback, type OrgGuardDutyLoopback } from '../helpers/org-guardduty-loopback.ts';

/**
 * The membership watcher: GuardDuty and Organizations on their loopback, the state in
 * dynalite (FindingStateTable), the events on the EventBridge loopback.
 */
const PROD = '111111111111';
const DEV = '222222222222';
const DATA = '333333333333';
const NEW = '555555555555';
const REGISTRY = [
  'accounts:',
  `  "${PROD}": { name: payments-prod, ou: Root/Workloads/Prod, tags: { env: prod } }`,
  `  "${DEV}": { name: payments-dev, tags: { env: dev } }`,
  `  "${DATA}": { name: data-platform-prod }`,
  `  "${NEW}": { name: new-workload }`,
].join('\n');

let aws: AwsLoopback;
let gd: OrgGuardDutyLoopback;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let handler: (event: unknown, context: unknown) => Promise<{ fired: number; quiet: number; rearmed: number }>;

beforeAll(async () => {
  aws = await startAwsLoopback();
  gd = await startOrgGuardDutyLoopback({
    members: [
      { accountId: PROD, email: 'payments@example.com', relationshipStatus: 'Enabled', updatedAt: '2024-01-01T00:00:00.000Z' },
      { accountId: DEV, email: 'payments-dev@example.com', relationshipStatus: 'Enabled', updatedAt: '2024-01-01T00:00:00.000Z' },
      { accountId: DATA, email: 'data@example.com', relationshipStatus: 'Invited', invitedAt: '2024-06-01T00:00:00.000Z', updatedAt: '2024-06-01T00:00:00.000Z' },
    ],
  });
  dynamo = await startDynalite();
  await dynamo.createTable('state', 'findingKey');
  const dir = mkdtempSync(join(tmpdir(), 'watch-members-'));
  writeFileSync(join(dir, 'accounts.yml'), REGISTRY);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EVENTBRIDGE: aws.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_GUARDDUTY: gd.endpoint,
    AWS_ENDPOINT_URL_ORGANIZATIONS: gd.endpoint,
    AWS_ACCESS_KEY_ID: aws.clientConfig.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.clientConfig.credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '1',
    EVENT_BUS_NAME: 'findings-router-bus',
    STATE_TABLE: 'state',
    ACCOUNTS_FILE: join(dir, 'accounts.yml'),
    ACCOUNT_SOURCES: 'guardduty',
    EXPECTED_ACCOUNTS: 'accounts',
    MEMBERSHIP_SEVERITY: '7',
    AWS_LAMBDA_FUNCTION_NAME: 'findings-router-watchMembers',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  handler = (await import('../../functions/watch-members.ts')).handler as never;
});

afterAll(async () => {
  await aws?.close();
  await gd?.close();
  await dynamo?.close();
});

beforeEach(() => {
  aws.reset();
  gd.reset();
});

const eventsFor = (accountId: string) =>
  aws.events.filter((e) => (e.detail as unknown as EnrichedFinding).finding.accountId === accountId).map((e) => e.detail as unknown as EnrichedFinding);
const stored = async (accountId: string) =>
  (await dynamo.client.send(new GetItemCommand({ TableName: 'state', Key: { findingKey: { S: `membership#${accountId}` } } }))).Item;

describe('Lambda: watch-members (scheduled)', () => {
  it('fires once on Enabled → Resigned, stays quiet on the next run, re-arms on Enabled, fires again on Removed', async () => {
    // Prepare: the first run sees PROD Enabled, DEV Enabled, DATA Invited and NEW missing.
    const first = await handler({}, lambdaContext('watch'));
    const missingEvents = eventsFor(NEW);
    aws.reset();
    gd.setMember(PROD, 'Resigned');
    // Act
    const second = await handler({}, lambdaContext('watch'));
    const afterResign = eventsFor(PROD);
    const third = await handler({}, lambdaContext('watch'));
    const afterRepeat = eventsFor(PROD);
    gd.setMember(PROD, 'Enabled');
    const fourth = await handler({}, lambdaContext('watch'));
    const rearmedItem = await stored(PROD);
    gd.setMember(PROD, 'Removed');
    const fifth = await handler({}, lambdaContext('watch'));
    // Assess
    expect(first).toEqual({ fired: 1, quiet: 0, rearmed: 0 }); // NEW, missing
    expect(missingEvents).toHaveLength(1);
    expect(missingEvents[0]!.finding).toMatchObject({ title: 'GuardDuty does not monitor account new-workload (555555555555): it is not a member' });
    expect(second).toEqual({ fired: 1, quiet: 1, rearmed: 0 });
    expect(afterResign).toHaveLength(1);
    expect(third).toEqual({ fired: 0, quiet: 2, rearmed: 0 });
    expect(afterRepeat).toHaveLength(1);
    expect(fourth).toEqual({ fired: 0, quiet: 1, rearmed: 1 });
    expect(rearmedItem).toMatchObject({ status: { S: 'Enabled' }, alerted: { BOOL: false } });
    expect(fifth).toEqual({ fired: 1, quiet: 1, rearmed: 0 });
    const removed = eventsFor(PROD).at(-1)!;
    expect(removed.finding.service?.additionalInfo).toEqual({
      membership: { status: 'Removed', previousStatus: 'Enabled', email: 'payments@example.com', updatedAt: expect.any(String), administratorId: gd.administratorId },
    });
    expect(eventsFor(DATA)).toHaveLength(0); // Invited: not yet accepted, nothing to alert
  });

  it('publishes an enriched event that passes the finding and enriched schemas, on the project bus', async () => {
    // Prepare
    gd.setMember(DEV, 'EmailVerificationFailed');
    // Act
    await handler({}, lambdaContext('watch'));
    // Assess
    const [event] = aws.events;
    expect(aws.events).toHaveLength(1);
    expect(event).toMatchObject({ EventBusName: 'findings-router-bus', Source: 'findings-router', DetailType: 'GuardDuty Finding Enriched' });
    expect(z.safeParse(EnrichedFindingSchema, event!.detail).success).toBe(true);
    const { finding, enrichment } = event!.detail as unknown as EnrichedFinding;
    expect(z.safeParse(GuardDutyFindingSchema, finding).success).toBe(true);
    expect(finding).toMatchObject({
      schemaVersion: '2.0',
      accountId: DEV,
      region: 'us-east-1',
      type: MEMBERSHIP_FINDING_TYPE,
      severity: 7,
      resource: { resourceType: 'Account' },
      title: 'GuardDuty does not monitor account payments-dev (222222222222): it is EmailVerificationFailed',
    });
    expect(finding.arn).toBe(`arn:aws:guardduty:us-east-1:${gd.administratorId}:detector/${gd.detectorIds[0]}/finding/${finding.id}`);
    expect(finding.description).toContain('did not verify');
    expect(enrichment).toMatchObject({
      account: { id: DEV, known: true, name: 'payments-dev', tags: { env: 'dev' }, relationshipStatus: 'EmailVerificationFailed', enrichment: 'complete' },
      severityLabel: 'high',
      typeParts: { threatPurpose: 'FindingsRouter', resourceTypeAffected: 'Membership', threatFamilyName: 'MemberNotMonitored' },
      resourceType: 'Account',
      consoleUrl: 'https://console.aws.amazon.com/guardduty/home?region=us-east-1#/accounts',
    });
    expect(gd.operations()).toEqual(['ListDetectors', 'ListMembers', 'GetMembers']);
    expect(gd.calls.find((c) => c.operation === 'ListMembers')!.query).toMatchObject({ onlyAssociated: 'false' });
  });

  it('is routed by the same routes as any finding', async () => {
    // Prepare
    gd.setMember(DATA, 'Disabled');
    await handler({}, lambdaContext('watch'));
    const enriched = eventsFor(DATA)[0]!;
    const config = parseConfig(
      ROUTES_CONFIG,
      [
        'targets: { soc: { type: console }, siem: { type: console } }',
        'default: { targets: [siem] }',
        'routes:',
        '  - name: membership',
        '    match: { type: "FindingsRouter:Membership/*" }',
        '    targets: [soc]',
      ].join('\n'),
      'routes.yml',
    );
    // Act
    const result = await route(enriched, { config, state: memoryFindingState() });
    // Assess
    expect(result.outcome).toBe('routed');
    expect(result.jobs.map((j) => j.target)).toEqual(['soc']);
  });
});

describe('membership watch: state transitions in DynamoDB', () => {
  let table = 0;
  const deps = async (overrides: Partial<WatchDeps> = {}): Promise<WatchDeps & { published: EnrichedFinding[] }> => {
    const name = `membership-${++table}`;
    await dynamo.createTable(name, 'findingKey');
    const published: EnrichedFinding[] = [];
    const registry = parseConfig(ACCOUNTS_CONFIG, REGISTRY, 'accounts.yml');
    return {
      published,
      guardDuty: new GuardDutyClient(gd.clientConfig),
      organizations: new OrganizationsClient(gd.clientConfig),
      registry,
      expectedFrom: 'accounts',
      detectorId: gd.detectorIds[0]!,
      state: dynamoMembershipState(dynamo.client, name),
      accounts: staticAccountDirectory(registry),
      publish: async (e) => {
        published.push(e);
      },
      region: 'eu-west-1',
      severity: 5,
      ...overrides,
    };
  };

  it('fires for a missing member once, and the severity defaults to 5', async () => {
    // Prepare
    const d = await deps();
    // Act
    const first = await runMembershipWatch(d);
    const second = await runMembershipWatch(d);
    // Assess
    expect(first.fired.map((f) => [f.accountId, f.status])).toEqual(expect.arrayContaining([[NEW, 'Missing']]));
    expect(second.fired).toEqual([]);
    const missing = d.published.find((e) => e.finding.accountId === NEW)!;
    expect(missing.finding).toMatchObject({ severity: 5, region: 'eu-west-1' });
    expect(missing.enrichment.severityLabel).toBe('medium');
  });

  it('lets only one of two overlapping runs fire (conditional write)', async () => {
    // Prepare
    const d = await deps();
    // Act
    const [a, b] = await Promise.all([runMembershipWatch(d), runMembershipWatch(d)]);
    // Assess
    const fired = [...a.fired, ...b.fired].filter((f) => f.accountId === NEW);
    expect(fired).toHaveLength(1);
    expect(d.published.filter((e) => e.finding.accountId === NEW)).toHaveLength(1);
  });

  it('fires again on the next run after a failed publish (claim not confirmed, then stale)', async () => {
    // Prepare
    let clock = Date.parse('2025-01-01T00:00:00Z');
    const bus = new EventBridgeClient(aws.clientConfig);
    const d = await deps({ now: () => clock, publish: (e) => publishEnriched(bus, 'findings-router-bus', e) });
    const remove = aws.rejectEntries(() => true, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' });
    // Act
    const failed = await runMembershipWatch(d).catch((error: Error) => error);
    remove();
    const tooSoon = await runMembershipWatch(d);
    clock += 6 * 60_000;
    const later = await runMembershipWatch(d);
    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(/InternalFailure/);
    expect(tooSoon.fired).toEqual([]); // every account was claimed by the failed run
    expect(later.fired.map((f) => f.accountId)).toContain(NEW);
    expect(aws.events.filter((e) => (e.detail as unknown as EnrichedFinding).finding.accountId === NEW)).toHaveLength(1);
    bus.destroy();
  });

  it('expects the organization\'s accounts too, and leaves the administrator out', async () => {
    // Prepare
    gd.accounts.set('444444444444', { id: '444444444444', name: 'sandbox', email: 'sandbox@example.com', parentId: gd.rootId });
    gd.accounts.set(gd.administratorId, { id: gd.administratorId, name: 'security', email: 'sec@example.com', parentId: gd.rootId });
    const d = await deps({ expectedFrom: 'organizations' });
    // Act
    const result = await runMembershipWatch(d);
    // Assess
    expect(result.fired.map((f) => f.accountId)).toEqual(['444444444444']);
    expect(gd.operations()).toContain('ListAccounts');
    gd.accounts.clear();
  });
});
