import { describe, expect, it } from 'vitest';
import { directlyAllowed } from '../../../shared/actions/config.ts';
import { decodeButtonValue, encodeButtonValue } from '../../../shared/actions/button-value.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { ConfigError } from '../../../shared/errors.ts';

const BASE = 'targets:\n  out: { type: console }\ndefault: { targets: [out] }\n';

const errorsOf = (text: string): string => {
  try {
    parseConfig(ROUTES_CONFIG, text, 'routes.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  return '';
};

describe('actions: block', () => {
  it('compiles allow-lists, suppress.maxDays and the per-actor rate limit', () => {
    // Prepare
    const text = `${BASE}actions:\n  slack: { signingSecret: { env: SLACK_SIGNING_SECRET } }\n  rateLimit: { perMinute: 3 }\n  archive: { slackUsers: [U0123ABC] }\n  suppress: { slackUsers: [U0123ABC], maxDays: 7 }\n`;
    // Act
    const { actions } = parseConfig(ROUTES_CONFIG, text, 'routes.yml');
    // Assess
    expect(actions.suppressMaxDays).toBe(7);
    expect(actions.perActorPerMinute).toBe(3);
    expect(directlyAllowed(actions, 'archive', { platform: 'slack', id: 'U0123ABC' })).toBe(true);
    expect(directlyAllowed(actions, 'archive', { platform: 'slack', id: 'U9999999' })).toBe(false);
    expect(directlyAllowed(actions, 'acknowledge', { platform: 'slack', id: 'U0123ABC' })).toBe(false);
    // Same id on another platform is another person.
    expect(directlyAllowed(actions, 'archive', { platform: 'teams', id: 'U0123ABC' })).toBe(false);
  });

  it('denies everything when the block is absent, and defaults maxDays to 30', () => {
    const { actions } = parseConfig(ROUTES_CONFIG, BASE, 'routes.yml');
    expect(actions.allow.size).toBe(0);
    expect(actions.suppressMaxDays).toBe(30);
    expect(directlyAllowed(actions, 'archive', { platform: 'slack', id: 'U0123ABC' })).toBe(false);
  });

  it('names an unknown key with a did-you-mean hint, and a user name written for an id', () => {
    const message = errorsOf(`${BASE}actions:\n  archive: { slackUser: [U0123ABC] }\n  useful: { slackUsers: [alice] }\n`);
    expect(message).toMatch(/routes\.yml:5:\d+: .*slackUser.*did you mean 'slackUsers'/);
    expect(message).toMatch(/routes\.yml:6:\d+: .*Slack user id/);
  });

  it('refuses a signing secret that is not a reference', () => {
    expect(errorsOf(`${BASE}actions:\n  slack: { signingSecret: abc }\n`)).toMatch(/routes\.yml:5:/);
  });
});

describe('button value', () => {
  const ref = { id: 'a1b2c3', accountId: '123456789012', region: 'eu-west-1', type: 'Recon:EC2/PortProbeUnprotectedPort' };

  it('round-trips a finding reference', () => {
    expect(decodeButtonValue(encodeButtonValue(ref))).toEqual(ref);
  });

  it.each([
    ['not JSON', 'x'],
    ['another version', '{"v":2,"f":"a","a":"123456789012","r":"eu-west-1"}'],
    ['a short account', '{"v":1,"f":"a","a":"1234","r":"eu-west-1"}'],
    ['a region with markup', '{"v":1,"f":"a","a":"123456789012","r":"<eu-west-1>"}'],
    ['an id with a slash', '{"v":1,"f":"a/b","a":"123456789012","r":"eu-west-1"}'],
    ['a type with a quote', '{"v":1,"f":"a","a":"123456789012","r":"eu-west-1","t":"a\\""}'],
  ])('refuses %s', (_label, text) => {
    expect(() => decodeButtonValue(text)).toThrow(/button value/);
  });
});
