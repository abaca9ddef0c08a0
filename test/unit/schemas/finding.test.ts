import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../../shared/validate.ts';

const EVENTS = join(import.meta.dirname, '../../events');
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const sampleFiles = readdirSync(join(EVENTS, 'samples')).filter((f) => f.endsWith('.json'));
const publishedFiles = readdirSync(join(EVENTS, 'published')).filter((f) => f.endsWith('.json'));
const sshEvent = () => readJson(join(EVENTS, 'published/ssh-bruteforce.sample.eventbridge.json')) as Record<string, any>;

describe('Schema: the bundled sample corpus', () => {
  it('has one sample per finding type (250)', () => {
    // Assess
    expect(sampleFiles.length).toBe(250);
  });
  it.each(sampleFiles)('accepts %s', (file) => {
    // Prepare
    const event = readJson(join(EVENTS, 'samples', file)) as { detail: { type: string } };
    // Act
    const result = validateEvent(event);
    // Assess
    expect(result.kind === 'finding' ? result.finding.type : result).toBe(event.detail.type);
  });
});

describe('Schema: published GuardDuty examples', () => {
  // The genuinely invalid ones, with their paths, are in expected-rejections.tsv (test/unit/validate/published.test.ts).
  const rejected = readFileSync(join(EVENTS, 'published/expected-rejections.tsv'), 'utf8').split('\n').map((line) => line.split('\t')[0]);
  it.each(publishedFiles.filter((f) => !rejected.includes(f)))('accepts %s', (file) => {
    // Act
    const result = validateEvent(readJson(join(EVENTS, 'published', file)));
    // Assess
    expect(result.kind).toBe('finding');
  });

  it('rejects the waf-acl test event, which lacks schemaVersion, id, arn and accountId', () => {
    // Act
    const result = validateEvent(readJson(join(EVENTS, 'published/ssh-bruteforce.sample.detail-wrapper.aws-samples-waf-acl.json')));
    // Assess
    expect(result).toMatchObject({ kind: 'rejected', path: '$.detail.schemaVersion' });
  });

  it('preserves unknown fields end to end', () => {
    // Prepare
    const event = sshEvent();
    event.detail.futureField = { nested: [1, 2] };
    event.detail.service.futureServiceField = 'kept';
    // Act
    const result = validateEvent(event);
    // Assess
    expect(result.kind === 'finding' && result.finding).toMatchObject({ futureField: { nested: [1, 2] }, service: { futureServiceField: 'kept' } });
    expect(result.kind === 'finding' && JSON.parse(JSON.stringify(result.finding))).toEqual(event.detail);
  });
});

describe('Schema: quirks tolerated', () => {
  const quirks: [string, (d: Record<string, any>) => void][] = [
    ['epoch-number nested timestamps', (d) => { d.resource.instanceDetails.launchTime = 1513612691551; }],
    ['asn as a number', (d) => { d.service.action.networkConnectionAction.remoteIpDetails.organization.asn = -1; }],
    ['platform: null', (d) => { d.resource.instanceDetails.platform = null; }],
    ['an unknown finding type', (d) => { d.type = 'Canary:EC2/Stateless.IntegTest'; }],
    ['an unknown resource type', (d) => { d.resource.resourceType = 'QuantumComputer'; }],
    ['no service block', (d) => { delete d.service; }],
    ['LoginAttributes with a capital L', (d) => { d.service.action = { actionType: 'RDS_LOGIN_ATTEMPT', rdsLoginAttemptAction: { LoginAttributes: [{ user: 'u', failedLoginAttempts: 3 }] } }; }],
  ];
  it.each(quirks)('accepts %s', (_name, mutate) => {
    // Prepare
    const event = sshEvent();
    mutate(event.detail);
    // Act / Assess
    expect(validateEvent(event).kind).toBe('finding');
  });
});

describe('Schema: bad input names the JSON path', () => {
  const negatives: [string, (e: Record<string, any>) => unknown, string][] = [
    ['a finding without id', (e) => { delete e.detail.id; return e; }, '$.detail.id'],
    ['severity as a string', (e) => { e.detail.severity = '8'; return e; }, '$.detail.severity'],
    ['severity above 10', (e) => { e.detail.severity = 11; return e; }, '$.detail.severity'],
    ['a short account id', (e) => { e.detail.accountId = '1234'; return e; }, '$.detail.accountId'],
    ['resource missing', (e) => { delete e.detail.resource; return e; }, '$.detail.resource'],
    ['count as a string', (e) => { e.detail.service.count = 'many'; return e; }, '$.detail.service.count'],
    ['tags not a list', (e) => { e.detail.resource.instanceDetails.tags = 'x'; return e; }, '$.detail.resource.instanceDetails.tags'],
    ['a remote port as a string', (e) => { e.detail.service.action.networkConnectionAction.remotePortDetails.port = '22'; return e; }, '$.detail.service.action.networkConnectionAction.remotePortDetails.port'],
    ['an envelope without id', (e) => { delete e.id; return e; }, '$.id'],
    ['a JSON array at the top', () => [], '$'],
    ['a string', () => 'finding', '$'],
  ];
  it.each(negatives)('rejects %s', (_name, mutate, path) => {
    // Prepare
    const input = mutate(sshEvent());
    // Act
    const result = validateEvent(input);
    // Assess
    expect(result).toMatchObject({ kind: 'rejected', path });
    expect(result.kind === 'rejected' && result.reason).toContain(path);
  });

  it('ignores other GuardDuty detail-types', () => {
    // Prepare
    const event = { ...sshEvent(), 'detail-type': 'GuardDuty Runtime Protection Unhealthy', detail: {} };
    // Act / Assess
    expect(validateEvent(event)).toMatchObject({ kind: 'ignored' });
  });

  it('accepts a bare finding', () => {
    // Act / Assess
    expect(validateEvent(sshEvent().detail).kind).toBe('finding');
  });
});
