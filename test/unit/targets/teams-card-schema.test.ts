import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTeamsMessage } from '../../../shared/targets/teams.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { adaptiveCardValidator } from '../../helpers/adaptive-card-schema.ts';

/**
 * Every Teams card validates against the Adaptive Card schema of the version it declares
 * (1.4: the official schema, extract in test/events/adaptive-card, PROVENANCE.md there).
 * `msteams` is Teams' own host extension (full-width cards), documented by Teams and outside
 * the Adaptive Card schema, so it is set aside before validating.
 */
const GOLDEN = join(import.meta.dirname, '../../golden/teams');

let validate: ValidateFunction;
beforeAll(() => {
  validate = adaptiveCardValidator();
});

const cardOf = (message: unknown): Record<string, unknown> => {
  const { msteams: _hostExtension, ...card } = (message as { attachments: { content: Record<string, unknown> }[] }).attachments[0]!.content;
  return card;
};

const problems = (card: Record<string, unknown>): string[] => {
  expect(card.version).toBe('1.4');
  return validate(card) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
};

describe('Teams card: Adaptive Card 1.4 schema', () => {
  it.each(readdirSync(GOLDEN).filter((f) => f.endsWith('.json')).sort())('golden %s validates', (file) => {
    // Act
    const card = cardOf(JSON.parse(readFileSync(join(GOLDEN, file), 'utf8')));

    // Assess
    expect(problems(card)).toEqual([]);
  });

  it('every representative and hostile finding renders a valid card', async () => {
    // Prepare
    const findings = [...(await representativeFindings()).map(([, enriched]) => enriched), await enrichedFrom(hostileFinding(), hostileAccount())];

    // Act
    const invalid = findings.flatMap((enriched) => problems(cardOf(buildTeamsMessage(enriched))));

    // Assess
    expect(invalid).toEqual([]);
  });

  it('the schema refuses a 1.5 property (TextBlock style "heading"), so the check has teeth', () => {
    // Prepare
    const card = { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'x', style: 'heading' }] };

    // Act
    const valid = validate(card);

    // Assess
    expect(valid).toBe(false);
  });
});
