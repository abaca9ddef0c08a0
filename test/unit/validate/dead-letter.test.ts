import { describe, expect, it } from 'vitest';
import { ENRICHED_DETAIL_TYPE, ENRICHED_SOURCE } from '../../../schemas/envelope.ts';
import type { DeadLetter } from '../../../shared/aws/queues.ts';
import { makeJob } from '../../../shared/delivery/job.ts';
import { validateEvent } from '../../../shared/validate.ts';
import { enrichedFrom, loadEvent } from '../../helpers/findings.ts';

/**
 * validateEvent and dead letters (what `dlq export` writes, what `replay` reads): a
 * letter is judged by what it carries, once; plus the two guards that keep bad input
 * from crashing later stages: nesting depth and a finding id that cannot be URL-encoded.
 */
const sshEvent = (): Record<string, any> => structuredClone(loadEvent('published/ssh-bruteforce.sample.eventbridge.json')) as Record<string, any>;

const letter = (stage: DeadLetter['stage'], payload: unknown, extra: Partial<DeadLetter> = {}): DeadLetter => ({
  reason: 'DeliveryError: HTTP 503 rejected',
  stage,
  payload,
  deadLetteredAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

const nested = (depth: number): Record<string, unknown> => {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 1; i < depth; i++) node = (node.a = {}) as Record<string, unknown>;
  return root;
};

describe('validateEvent: dead letters', () => {
  it('unwraps a delivery letter to the finding of its job', async () => {
    // Prepare
    const event = sshEvent();
    const job = makeJob('hook', await enrichedFrom(event.detail), ['high']);
    // Act
    const result = validateEvent(letter('deliver', job, { target: 'hook', findingId: event.detail.id, idempotencyKey: job.idempotencyKey }));
    // Assess
    expect(result.kind).toBe('finding');
    // GuardDuty sent `platform: null`: read as absent, kept in the finding's JSON.
    if (result.kind === 'finding') expect(JSON.parse(JSON.stringify(result.finding))).toEqual(event.detail);
    if (result.kind === 'finding') expect('platform' in result.finding.resource.instanceDetails!).toBe(false);
  });

  it('unwraps a quarantine letter to its event, and a route letter to the finding inside the enriched event', async () => {
    // Prepare
    const event = sshEvent();
    const enriched = await enrichedFrom(event.detail);
    const enrichedEvent = { ...event, source: ENRICHED_SOURCE, 'detail-type': ENRICHED_DETAIL_TYPE, detail: enriched };
    // Act
    const quarantined = validateEvent(letter('enrich', event));
    const routed = validateEvent(letter('route', enrichedEvent));
    // Assess
    expect(quarantined).toMatchObject({ kind: 'finding', finding: { id: event.detail.id } });
    expect(routed).toMatchObject({ kind: 'finding', finding: { id: event.detail.id } });
  });

  it('names paths under $.payload when what the letter carries is bad, with the finding id', async () => {
    // Prepare
    const event = sshEvent();
    event.detail.severity = 'high';
    const job = { ...makeJob('hook', await enrichedFrom(sshEvent().detail), []), enriched: { finding: event.detail, enrichment: {} } };
    // Act / Assess
    expect(validateEvent(letter('enrich', event))).toMatchObject({ kind: 'rejected', path: '$.payload.detail.severity', findingId: event.detail.id });
    expect(validateEvent(letter('deliver', job))).toMatchObject({ kind: 'rejected', path: '$.payload.enriched.finding.severity', findingId: event.detail.id });
    expect(validateEvent(letter('deliver', 'unparseable job body'))).toMatchObject({ kind: 'rejected', path: '$.payload', reason: '$.payload: expected a JSON object, got string' });
    expect(validateEvent(letter('route', { finding: { id: 'f1', region: 'us-east-1' } }))).toMatchObject({
      kind: 'rejected',
      path: '$.payload.finding.schemaVersion',
      findingId: 'f1',
    });
  });

  it('ignores a letter carrying another kind of event', () => {
    // Prepare
    const event = { ...sshEvent(), 'detail-type': 'GuardDuty Runtime Protection Health' };
    // Act / Assess
    expect(validateEvent(letter('enrich', event)).kind).toBe('ignored');
  });

  it('unwraps once only: a letter inside a letter is judged as an event', () => {
    // Act
    const result = validateEvent(letter('deliver', letter('deliver', sshEvent())));
    // Assess
    expect(result).toMatchObject({ kind: 'rejected', path: '$.payload.schemaVersion' });
  });

  it('takes only the full letter shape for a letter; an event with a payload key stays an event', () => {
    // Prepare
    const event = sshEvent();
    const noDate = { reason: 'x', stage: 'deliver', payload: event };
    const badStage = { ...letter('deliver', event), stage: 'later' };
    const withPayloadKey = { ...event, detail: { ...event.detail, payload: 'extra', reason: 'x', stage: 'deliver', deadLetteredAt: 'x' } };
    // Act / Assess
    expect(validateEvent(noDate)).toMatchObject({ kind: 'rejected', path: '$.schemaVersion' });
    expect(validateEvent(badStage)).toMatchObject({ kind: 'rejected', path: '$.schemaVersion' });
    expect(validateEvent(withPayloadKey).kind).toBe('finding');
  });
});

describe('validateEvent: guards for the stages after it', () => {
  it('allows 64 levels of nesting and rejects the 65th with its path, without recursion', () => {
    // Prepare: the event itself is level 0, detail 1, service 2, additionalInfo 3
    const atLimit = sshEvent();
    atLimit.detail.service.additionalInfo = nested(61);
    const overLimit = sshEvent();
    overLimit.detail.service.additionalInfo = nested(62);
    let veryDeep: unknown = 1;
    for (let i = 0; i < 200_000; i++) veryDeep = [veryDeep];
    // Act / Assess
    expect(validateEvent(atLimit).kind).toBe('finding');
    const path = `$.detail.service.additionalInfo${'.a'.repeat(61)}`;
    expect(validateEvent(overLimit)).toEqual({
      kind: 'rejected',
      path,
      reason: `${path}: nested more than 64 levels deep`,
      findingId: overLimit.detail.id,
      type: overLimit.detail.type,
    });
    expect(validateEvent(veryDeep)).toMatchObject({ kind: 'rejected', path: `$${'[0]'.repeat(64)}` });
  });

  it('rejects a finding id with a lone surrogate (it cannot be URL-encoded) and keeps one with a surrogate pair', () => {
    // Prepare
    const lone = sshEvent();
    lone.detail.id = 'f0b37a7d\uD800';
    const pair = sshEvent();
    pair.detail.id = 'f0b37a7d\uD83D\uDE00';
    // Act / Assess
    expect(validateEvent(lone)).toMatchObject({ kind: 'rejected', path: '$.detail.id', reason: '$.detail.id: not well-formed Unicode (a lone surrogate)' });
    expect(validateEvent(pair).kind).toBe('finding');
  });
});
