import { describe, expect, it } from 'vitest';
import { encodeButtonValue } from '../../../shared/actions/button-value.ts';
import { parseSlackActionBody } from '../../../shared/actions/slack-payload.ts';

const REF = { id: 'a1b2c3', accountId: '123456789012', region: 'eu-west-1', type: 'Recon:EC2/PortProbeUnprotectedPort' };
const base = () => ({
  type: 'block_actions',
  user: { id: 'U0123ABC', username: 'alice' },
  actions: [{ action_id: 'findings-router.archive', value: encodeButtonValue(REF) }],
  response_url: 'https://hooks.slack.com/actions/T0/1/abc',
  message: { blocks: [{ type: 'section', block_id: 'b' }] },
});
const form = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

describe('Slack interactivity payload', () => {
  it('reads the action, the finding from the button value, the actor, the response URL and the blocks', () => {
    const call = parseSlackActionBody(form(base()), 1000);
    expect(call.request).toEqual({ action: 'archive', finding: REF, actor: { platform: 'slack', id: 'U0123ABC', name: 'alice' }, receivedAt: 1000 });
    expect(call.responseUrl).toBe('https://hooks.slack.com/actions/T0/1/abc');
    expect(call.blocks).toEqual([{ type: 'section', block_id: 'b' }]);
  });

  it('reads the days of "suppress similar" from the action id', () => {
    const payload = { ...base(), actions: [{ action_id: 'findings-router.suppress-7d', value: encodeButtonValue(REF) }] };
    expect(parseSlackActionBody(form(payload), 0).request).toMatchObject({ action: 'suppress', days: 7 });
  });

  it.each([
    ['no payload field', 'x=1', /no payload field/],
    ['a payload that is not JSON', 'payload=%7B', /not JSON/],
    ['another interaction type', form({ ...base(), type: 'view_submission' }), /not block_actions/],
    ['a user id that is a name', form({ ...base(), user: { id: 'alice' } }), /user.id/],
    ['two actions', form({ ...base(), actions: [base().actions[0], base().actions[0]] }), /exactly one action/],
    ['a button that is not ours', form({ ...base(), actions: [{ action_id: 'other.archive', value: encodeButtonValue(REF) }] }), /not one of the router buttons/],
    ['a tampered button value', form({ ...base(), actions: [{ action_id: 'findings-router.archive', value: '{"v":1,"f":"a","a":"1","r":"eu-west-1"}' }] }), /12-digit account/],
    ['a response URL elsewhere', form({ ...base(), response_url: 'https://evil.example/hooks.slack.com' }), /response_url/],
    ['a response URL over http', form({ ...base(), response_url: 'http://hooks.slack.com/actions/T0/1/abc' }), /response_url/],
    ['a response URL with credentials', form({ ...base(), response_url: 'https://u:p@hooks.slack.com/x' }), /response_url/],
  ])('refuses %s, naming the field', (_label, body, message) => {
    expect(() => parseSlackActionBody(body, 0)).toThrow(message);
  });
});
