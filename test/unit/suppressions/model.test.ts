import { describe, expect, it } from 'vitest';
import { suppressionFromFinding, SuppressionError } from '../../../shared/suppressions/model.ts';
import { resourceIdOf } from '../../../shared/suppressions/resource-id.ts';
import { makeFinding } from '../../helpers/finding-factory.ts';
import { ANALYST, DAY, NOW } from './helpers.ts';

const options = { reason: 'Known scanner on the bastion', days: 7, actor: ANALYST, now: NOW, maxDays: 30 };

describe('Function: suppressionFromFinding', () => {
  it('builds the conditions from the finding (type, account, resource type and id) with actor, times and source finding', () => {
    // Act
    const s = suppressionFromFinding(makeFinding(), options);
    // Assess
    expect(s.conditions).toEqual({ type: 'UnauthorizedAccess:EC2/SSHBruteForce', accountId: '111111111111', resourceType: 'Instance', resourceId: 'i-0abc' });
    expect(s).toMatchObject({ reason: 'Known scanner on the bastion', createdBy: ANALYST, sourceFindingId: 'f00dfeedf00dfeedf00dfeedf00dfeed' });
    expect(s.createdAt).toBe('2026-12-05T08:00:00.000Z');
    expect(s.expiresAt).toBe('2026-12-12T08:00:00.000Z');
    expect(s.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('cuts the duration at maxDays', () => {
    // Act
    const s = suppressionFromFinding(makeFinding(), { ...options, days: 365, maxDays: 14 });
    // Assess
    expect(Date.parse(s.expiresAt) - NOW).toBe(14 * DAY);
  });

  it('gives the same id to the same conditions (another finding id, another analyst) and another id to another resource', () => {
    // Act
    const first = suppressionFromFinding(makeFinding(), options);
    const again = suppressionFromFinding(makeFinding({ id: 'another-finding' }), { ...options, actor: { platform: 'teams', id: 'aad-1' } });
    const other = suppressionFromFinding(makeFinding({ resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-0def' } } }), options);
    const otherAccount = suppressionFromFinding(makeFinding({ accountId: '222222222222' }), options);
    // Assess
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);
    expect(otherAccount.id).not.toBe(first.id);
  });

  it('refuses a finding without a resource identifier, a short reason and a bad number of days, each in one line', () => {
    // Prepare
    const noId = makeFinding({ resource: { resourceType: 'Instance', instanceDetails: {} } });
    // Act
    const attempts = [
      () => suppressionFromFinding(noId, options),
      () => suppressionFromFinding(makeFinding(), { ...options, reason: '  x ' }),
      () => suppressionFromFinding(makeFinding(), { ...options, days: 0 }),
      () => suppressionFromFinding(makeFinding(), { ...options, days: 1.5 }),
      () => suppressionFromFinding(makeFinding(), { ...options, reason: 'r'.repeat(501) }),
    ];
    // Assess
    for (const attempt of attempts) {
      expect(attempt).toThrow(SuppressionError);
      try {
        attempt();
      } catch (error) {
        expect((error as Error).message).not.toContain('\n');
      }
    }
    expect(attempts[0]).toThrow(/names no Instance identifier/);
  });
});

describe('Function: resourceIdOf', () => {
  it('keys an access key on its principal, not the (rotating) key id', () => {
    // Prepare
    const session = (key: string) => ({ resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: key, userName: 'deploy-bot', userType: 'AssumedRole' } });
    // Act
    const one = resourceIdOf(session('ASIAAAAAAAAAAAAAAAAA'));
    const next = resourceIdOf(session('ASIABBBBBBBBBBBBBBBB'));
    // Assess
    expect(one).toBe('AssumedRole/deploy-bot');
    expect(next).toBe(one);
  });

  it('prefers an ARN where GuardDuty gives one, and names nothing for an unknown or inherited type name', () => {
    // Act
    const bucket = resourceIdOf({ resourceType: 'S3Bucket', s3BucketDetails: [{ name: 'logs', arn: 'arn:aws:s3:::logs' }, { name: 'other' }] });
    const fn = resourceIdOf({ resourceType: 'Lambda', lambdaDetails: { functionName: 'f', functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:f' } });
    const inherited = resourceIdOf({ resourceType: 'constructor' });
    const unknown = resourceIdOf({ resourceType: 'Spaceship' });
    // Assess
    expect(bucket).toBe('arn:aws:s3:::logs');
    expect(fn).toBe('arn:aws:lambda:us-east-1:111111111111:function:f');
    expect(inherited).toBeUndefined();
    expect(unknown).toBeUndefined();
  });
});
