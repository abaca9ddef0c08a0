import type { ValidateFunction } from 'ajv';
import * as z from 'zod/mini';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { decodeButtonValue } from '../../../shared/actions/button-value.ts';
import { teamsCardWithOutcome } from '../../../shared/actions/teams-card-actions.ts';
import { teamsInvokeResponse } from '../../../shared/actions/teams-invoke-response.ts';
import { buildTeamsMessage, escapeTeamsMarkdown, TEAMS_MAX_PAYLOAD_BYTES, TeamsConfigSchema, teamsTarget } from '../../../shared/targets/teams.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { targetContext } from '../../helpers/target-contract.ts';
import { adaptiveCardValidator } from '../../helpers/adaptive-card-schema.ts';

/**
 * The Teams card with Action.Execute buttons, validated as test/unit/targets/teams-card-schema
 * validates the plain card: the official Adaptive Card 1.4.0 schema extract
 * (test/events/adaptive-card), with `Action.Execute` added to the actions it accepts. The
 * definition is the 1.5.0 schema's (microsoft/AdaptiveCards schemas/1.5.0/adaptive-card.json at
 * 0353e1bd503ae180c814f4ff27f7d5b2134e0e21: its property names, `additionalProperties: false`,
 * data a string or an object, associatedInputs auto|none), because the 1.4.0 one has no `verb`,
 * which Teams needs. The card declares 1.5 because Teams runs Action.Execute only from 1.5;
 * validating the rest of it against 1.4 proves it uses nothing newer.
 */
const ALL = ['acknowledge', 'archive', 'false-positive', 'useful', 'suppress'] as const;

let validate: ValidateFunction;
beforeAll(() => {
  validate = adaptiveCardValidator((definitions) => {
    definitions['Action.Execute'] = {
      properties: {
        type: { enum: ['Action.Execute'] },
        verb: { type: 'string' },
        data: { anyOf: [{ type: 'string' }, { type: 'object' }] },
        associatedInputs: { enum: ['auto', 'none'] },
        ...Object.fromEntries(['title', 'iconUrl', 'id', 'style', 'fallback', 'tooltip', 'isEnabled', 'mode', 'requires'].map((name) => [name, {}])),
      },
      type: 'object',
      additionalProperties: false,
      allOf: [{ $ref: '#/definitions/Extendable.Action' }],
    };
    // Action.ShowCard as the 1.4.0 schema defines it (the card it shows is an AdaptiveCard).
    definitions['Action.ShowCard'] = {
      properties: {
        type: { enum: ['Action.ShowCard'] },
        card: { $ref: '#/definitions/AdaptiveCard' },
        ...Object.fromEntries(['title', 'iconUrl', 'style', 'fallback', 'requires'].map((name) => [name, {}])),
      },
      type: 'object',
      additionalProperties: false,
      allOf: [{ $ref: '#/definitions/Extendable.Action' }],
    };
    const implementations = definitions['ImplementationsOf.Action'] as { anyOf: unknown[] };
    definitions['ImplementationsOf.Action'] = {
      anyOf: [...implementations.anyOf, ...['Action.Execute', 'Action.ShowCard'].map((name) => ({ required: ['type'], allOf: [{ $ref: `#/definitions/${name}` }] }))],
    };
  });
});

type Card = { version: string; body: Record<string, unknown>[]; actions: Record<string, unknown>[]; [key: string]: unknown };
const cardOf = (message: unknown): Card => (message as { attachments: { content: Card }[] }).attachments[0]!.content;
const problems = (card: Card): string[] => {
  const { msteams: _hostExtension, ...rest } = card;
  return validate({ ...rest, version: '1.4' }) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
};

const rendered = (enriched: EnrichedFinding, settings: Record<string, unknown> = {}) => {
  const config = z.parse(TeamsConfigSchema, { type: 'teams', webhookUrl: { env: 'TEAMS_URL' }, ...settings });
  return JSON.parse(teamsTarget.create('teams', config, targetContext()).render(enriched).body) as unknown;
};
/** Every Action.Execute of the card, also those behind an Action.ShowCard's confirm step. */
const executeActions = (card: Card): Record<string, unknown>[] =>
  card.actions.flatMap((a) => (a.type === 'Action.Execute' ? [a] : a.type === 'Action.ShowCard' ? executeActions(a.card as Card) : []));

describe('Teams buttons (Action.Execute)', () => {
  it('without an actions setting the card is byte for byte the built 1.4 one (existing goldens hold)', async () => {
    // Prepare
    const [[, enriched]] = (await representativeFindings()) as [[string, EnrichedFinding]];

    // Act
    const message = rendered(enriched);

    // Assess
    expect(JSON.stringify(message)).toBe(JSON.stringify(buildTeamsMessage(enriched)));
    expect(cardOf(message).version).toBe('1.4');
  });

  it('with every action: one Action.Execute per action after the console link, the card declares 1.5, as in test/golden/teams-buttons', async () => {
    // Prepare
    const [[name, enriched]] = (await representativeFindings()) as [[string, EnrichedFinding]];

    // Act
    const card = cardOf(rendered(enriched, { actions: [...ALL] }));

    // Assess
    await expect(`${JSON.stringify(card, null, 2)}\n`).toMatchFileSnapshot(`../../golden/teams-buttons/${name}.json`);
    expect(card.version).toBe('1.5');
    expect(card.actions[0]!.type).toBe('Action.OpenUrl');
    expect(executeActions(card).map((a) => a.verb)).toEqual([...ALL]);
    expect(executeActions(card).map((a) => a.style)).toEqual(['positive', 'destructive', undefined, undefined, 'destructive']);
    // Archive and suppress ask first: their buttons only reveal the one that acts.
    expect(card.actions.map((a) => `${a.type} ${a.title}`)).toEqual([
      'Action.OpenUrl Open in the GuardDuty console',
      'Action.Execute Acknowledge',
      'Action.ShowCard Archive in GuardDuty',
      'Action.Execute False positive',
      'Action.Execute Useful',
      'Action.ShowCard Suppress similar 7 days',
    ]);
    const { finding } = enriched;
    for (const action of executeActions(card)) {
      const data = action.data as { value: string; days?: number };
      expect(decodeButtonValue(data.value)).toEqual({ id: finding.id, accountId: finding.accountId, region: finding.region, type: finding.type });
      expect(data.days).toBe(action.verb === 'suppress' ? 7 : undefined);
    }
  });

  it('every representative card with buttons validates against the schema, within the size limit', async () => {
    // Prepare
    const findings = (await representativeFindings()).map(([, enriched]) => enriched);

    // Act
    const messages = findings.map((enriched) => rendered(enriched, { actions: [...ALL] }));

    // Assess
    expect(messages.flatMap((m) => problems(cardOf(m)))).toEqual([]);
    expect(messages.every((m) => executeActions(cardOf(m)).length === 5)).toBe(true);
    expect(Math.max(...messages.map((m) => Buffer.byteLength(JSON.stringify(m))))).toBeLessThanOrEqual(TEAMS_MAX_PAYLOAD_BYTES);
  });

  it('the added definition has teeth: an Action.Execute with an unknown property is refused', async () => {
    // Prepare
    const [[, enriched]] = (await representativeFindings()) as [[string, EnrichedFinding]];
    const card = cardOf(rendered(enriched, { actions: ['archive'] }));
    executeActions(card)[0]!.url = 'https://example.com';

    // Act
    const found = problems(card);

    // Assess
    expect(found.length).toBeGreaterThan(0);
  });

  it('a hostile finding gets no buttons (its id would not survive the endpoint), a valid card, and stays within the size limit', async () => {
    // Prepare
    const enriched = await enrichedFrom(hostileFinding(), hostileAccount());

    // Act
    const message = rendered(enriched, { actions: [...ALL] });

    // Assess
    expect(executeActions(cardOf(message))).toEqual([]);
    expect(cardOf(message).version).toBe('1.4');
    expect(problems(cardOf(message))).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(TEAMS_MAX_PAYLOAD_BYTES);
  });

  it.each([
    ['an unknown action', ['archive', 'delete']],
    ['an empty list', []],
    ['a repeated action', ['useful', 'useful']],
  ])('the setting refuses %s', (_name, actions) => {
    // Act
    const result = z.safeParse(TeamsConfigSchema, { type: 'teams', webhookUrl: { env: 'TEAMS_URL' }, actions });

    // Assess
    expect(result.success).toBe(false);
  });

  it('the refreshed card shows who did what with escaped text, keeps the buttons, and replaces an earlier outcome line', async () => {
    // Prepare
    const [[, enriched]] = (await representativeFindings()) as [[string, EnrichedFinding]];
    const card = cardOf(rendered(enriched, { actions: [...ALL] }));
    const outcome = (name: string, message: string) => ({
      request: { action: 'archive' as const, finding: { id: 'f', accountId: '111122223333', region: 'eu-west-1' }, actor: { platform: 'teams' as const, id: 'aad', name }, receivedAt: 0 },
      status: 'done' as const,
      message,
    });
    const at = new Date('2026-12-05T08:30:00Z');

    // Act
    const once = teamsCardWithOutcome(card, outcome('[Mallory](https://evil.example)', 'done **now**'), at, escapeTeamsMarkdown) as Card;
    const twice = teamsCardWithOutcome(once, outcome('Ann', 'again'), at, escapeTeamsMarkdown) as Card;

    // Assess
    const lines = (c: Card) => c.body.filter((e) => e.id === 'findings-router-outcome').map((e) => e.text as string);
    expect(lines(once)).toEqual(['Archived in GuardDuty by ［Mallory］(https://evil.example) at 2026-12-05 08:30 UTC — done ∗∗now∗∗']);
    expect(lines(twice)).toEqual(['Archived in GuardDuty by Ann at 2026-12-05 08:30 UTC — again']);
    expect(twice.actions).toEqual(card.actions);
    expect(problems(twice)).toEqual([]);
  });
  it('the card of an invoke response (rebuilt from the button value) validates too', () => {
    // Prepare
    const outcome = {
      request: { action: 'suppress' as const, finding: { id: 'f1', accountId: '111122223333', region: 'eu-west-1', type: 'Recon:EC2/Port_Probe_' }, actor: { platform: 'teams' as const, id: 'aad' }, receivedAt: 0, days: 7 },
      status: 'refused' as const,
      message: 'not on the allow-list',
    };

    // Act
    const { value } = JSON.parse(teamsInvokeResponse(outcome, { at: new Date(0), actions: [...ALL] }).body) as { value: Card };

    // Assess
    expect(problems(value)).toEqual([]);
    expect(value.version).toBe('1.5');
    expect(executeActions(value).map((a) => a.verb)).toEqual([...ALL]);
    expect(JSON.stringify(value.body)).toContain('Recon:EC2/Port_Probe＿');
  });
});
