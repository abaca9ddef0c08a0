import { describe, expect, it } from 'vitest';
import { digestGroupKey, digestIdempotencyKey } from '../../../shared/delivery/digest.ts';
import { idempotencyKey } from '../../../shared/delivery/job.ts';
import { composeKey } from '../../../shared/keys.ts';
import { findingStateKey } from '../../../shared/state/finding-state.ts';
import { ledgerKey } from '../../../shared/targets/ledger.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';

/** Pairs of inputs that a separator-joined key used to confuse: each must now give two keys. */
describe('Keys: one unambiguous composition', () => {
  it('tells parts apart whatever separators they contain', () => {
    // Act
    const pairs = [
      [composeKey('k', 'a\nb', 'c'), composeKey('k', 'a', 'b\nc')],
      [composeKey('k', 'a#b', 'c'), composeKey('k', 'a', 'b#c')],
      [composeKey('k', 'a', 'b'), composeKey('k', ['a', 'b'])],
      [composeKey('k', '1'), composeKey('k', 1)],
      [composeKey('job', 'x'), composeKey('ledger', 'x')],
    ];
    // Assess
    for (const [left, right] of pairs) expect(left).not.toBe(right);
    expect(composeKey('k', 'a', 'b')).toMatch(/^[0-9a-f]{64}$/);
    expect(composeKey('k', 'a', 'b')).toBe(composeKey('k', 'a', 'b'));
  });

  it('gives the job idempotency keys of the reported collision pair two values', async () => {
    // Prepare
    const victim = await enrich(makeFinding({ id: 'victim\n2018-11-08T20:25:00Z', updatedAt: 'X' }));
    const lookalike = await enrich(makeFinding({ id: 'victim', updatedAt: '2018-11-08T20:25:00Z\nX' }));
    // Act / Assess
    expect(idempotencyKey('oncall', victim)).not.toBe(idempotencyKey('oncall', lookalike));
    expect(idempotencyKey('a\nb', victim)).not.toBe(idempotencyKey('a', await enrich(makeFinding({ id: `b\n${victim.finding.id}` }))));
  });

  it('keeps finding-state and ledger keys apart when a region or id holds the old "#" separator', () => {
    // Prepare
    const left = { accountId: '111111111111', region: 'eu-west-1#x', id: 'f' };
    const right = { accountId: '111111111111', region: 'eu-west-1', id: 'x#f' };
    // Act / Assess
    expect(findingStateKey(left)).not.toBe(findingStateKey(right));
    expect(findingStateKey(left)).toMatch(/^finding#[0-9a-f]{64}$/);
    expect(ledgerKey('jira', left)).not.toBe(ledgerKey('jira', right));
    expect(ledgerKey('jira', left)).not.toBe(ledgerKey('servicenow', left));
  });

  it('keys a digest by its members in any order, and never confuses member lists', () => {
    // Act / Assess
    expect(digestIdempotencyKey('slack', ['k1', 'k2'])).toBe(digestIdempotencyKey('slack', ['k2', 'k1']));
    expect(digestIdempotencyKey('slack', ['k1\nk2'])).not.toBe(digestIdempotencyKey('slack', ['k1', 'k2']));
    expect(digestIdempotencyKey('slack\nk1', ['k2'])).not.toBe(digestIdempotencyKey('slack', ['k1', 'k2']));
  });

  it('keeps two digest groups apart even when their readable keys read the same', () => {
    // Prepare: the readable key joins "field=value" with spaces, so these two read alike.
    const label = 'recon type=A accountId=B accountId=C';
    const one = { target: 'slack', digest: { route: 'recon', key: label, windowMs: 1, values: ['A accountId=B', 'C'] } };
    const other = { target: 'slack', digest: { route: 'recon', key: label, windowMs: 1, values: ['A', 'B accountId=C'] } };
    // Act / Assess
    expect(digestGroupKey(one)).not.toBe(digestGroupKey(other));
    expect(digestGroupKey(one)).toBe(digestGroupKey({ ...one, digest: { ...one.digest, windowMs: 2 } }));
    expect(digestGroupKey(one)).not.toBe(digestGroupKey({ ...one, target: 'teams' }));
  });
});
