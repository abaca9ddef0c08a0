import { describe, expect, it } from 'vitest';
import { CriteriaError, parseCriteria } from '../../../shared/cli/pull/criteria.ts';
import { parseWindow, windowCondition, WindowError } from '../../../shared/cli/pull/window.ts';

describe('pull --criteria', () => {
  it('translates each operator to its FindingCriteria condition', () => {
    // Act
    const criterion = parseCriteria(['severity>=7', 'confidence>5,confidence<=9', 'accountId!=111111111111', 'resource.resourceType=Instance']);
    // Assess
    expect(criterion).toEqual({
      severity: { GreaterThanOrEqual: 7 },
      confidence: { GreaterThan: 5, LessThanOrEqual: 9 },
      accountId: { NotEquals: ['111111111111'] },
      'resource.resourceType': { Equals: ['Instance'] },
    });
  });

  it('merges two bounds on one field into one condition and keeps spaces out of values', () => {
    // Act
    const criterion = parseCriteria([' severity >= 4 , severity < 7 ']);
    // Assess
    expect(criterion).toEqual({ severity: { GreaterThanOrEqual: 4, LessThan: 7 } });
  });

  it('takes alternatives with | and finding types that hold ! : / & .', () => {
    // Act
    const criterion = parseCriteria(['type=Backdoor:EC2/C&CActivity.B!DNS|Recon:EC2/PortProbeUnprotectedPort', 'type!=Trojan:EC2/DNSDataExfiltration!DNS']);
    // Assess
    expect(criterion).toEqual({
      type: {
        Equals: ['Backdoor:EC2/C&CActivity.B!DNS', 'Recon:EC2/PortProbeUnprotectedPort'],
        NotEquals: ['Trojan:EC2/DNSDataExfiltration!DNS'],
      },
    });
  });

  it('passes any camelCase finding path through to GuardDuty', () => {
    // Act
    const criterion = parseCriteria(['service.action.dnsRequestAction.domain=example.com']);
    // Assess
    expect(criterion).toEqual({ 'service.action.dnsRequestAction.domain': { Equals: ['example.com'] } });
  });

  it.each([
    ['severity>=high', "criteria 'severity>=high': severity >= takes a whole number (GuardDuty compares integers), got 'high'"],
    ['severity>=6.5', "criteria 'severity>=6.5': severity >= takes a whole number (GuardDuty compares integers), got '6.5'"],
    ['severity', "criteria 'severity': expected FIELD OP VALUE with OP one of >= > <= < = !="],
    ['severity>=', "criteria 'severity>=': no value after '>='"],
    ['Severity>=7', "criteria 'Severity>=7': 'Severity' is not a finding field in GuardDuty's camelCase form (did you mean severity?)"],
    ['resourceType=Instance', "criteria 'resourceType=Instance': 'resourceType' is not a finding field in GuardDuty's camelCase form (did you mean resource.resourceType?)"],
    ['Resource.ResourceType=Instance', "criteria 'Resource.ResourceType=Instance': 'Resource.ResourceType' is not a finding field in GuardDuty's camelCase form (did you mean resource.resourceType?)"],
    ['severity>=7,severity>=8', "criteria 'severity>=8': severity >= is given twice"],
    ['type=A||B', "criteria 'type=A||B': empty alternative in 'A||B'"],
    ['severity>=7,', "criteria 'severity>=7,': empty clause"],
    ['', "criteria '': empty"],
    ['updatedAt>=1', "criteria 'updatedAt>=1': use --since and --until"],
    ['service.archived=true', "criteria 'service.archived=true': archived findings are left out; use --include-archived to pull them too"],
    [`id=${Array.from({ length: 51 }, (_, i) => `f${i}`).join('|')}`, 'at most 50 values, got 51'],
  ])('refuses %j with one line', (text, message) => {
    // Act
    const attempt = () => parseCriteria([text]);
    // Assess
    expect(attempt).toThrow(CriteriaError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('pull --since / --until', () => {
  const now = Date.parse('2026-12-05T06:00:00Z');

  it('reads durations back from now and dates as UTC instants', () => {
    // Act
    const week = parseWindow('7d', undefined, now);
    const dated = parseWindow('2026-11-01', '2026-11-15T08:30:00+02:00', now);
    const weeks = parseWindow('3w', '12h', now);
    // Assess
    expect(week).toEqual({ sinceMs: now - 7 * 86_400_000, untilMs: undefined });
    expect(dated).toEqual({ sinceMs: Date.parse('2026-11-01T00:00:00Z'), untilMs: Date.parse('2026-11-15T06:30:00Z') });
    expect(weeks).toEqual({ sinceMs: now - 21 * 86_400_000, untilMs: now - 12 * 3_600_000 });
  });

  it('becomes updatedAt >= since and < until, in epoch milliseconds', () => {
    // Act
    const condition = windowCondition(parseWindow('2026-11-01', '2026-11-02', now));
    // Assess
    expect(condition).toEqual({ GreaterThanOrEqual: 1_793_491_200_000, LessThan: 1_793_577_600_000 });
  });

  it.each([
    ['7 days', undefined, "--since '7 days': expected a duration (90d, 12h, 30m, 2w) or a date (2026-11-01, 2026-11-01T08:00:00Z)"],
    ['2026-11-01T08:00:00', undefined, "--since '2026-11-01T08:00:00': add the zone (Z or +hh:mm), e.g. 2026-11-01T08:00:00Z"],
    ['2026-13-45', undefined, "--since '2026-13-45': expected a duration"],
    ['2027-01-01', undefined, "--since '2027-01-01' is in the future"],
    ['1d', '2d', "--until '2d' is not after --since '1d'"],
  ])('refuses --since %j --until %j', (since, until, message) => {
    // Act
    const attempt = () => parseWindow(since, until, now);
    // Assess
    expect(attempt).toThrow(WindowError);
    expect(attempt).toThrow(message);
  });
});
