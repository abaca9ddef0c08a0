import { beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { buildSlackMessage } from '../../../shared/targets/slack.ts';
import { representativeFindings } from '../../helpers/representative.ts';

/** Characters Slack text must never carry: C0/C1 controls (tab and newline aside) and bidirectional controls. */
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE_TEXT = 'Root *credentials* used **now** \u202eevil\u202c \u2066iso\u2069 \u0007bell \u001b[31mred \u009b1m';

/** Every string in `value`. */
const stringsOf = (value: unknown): string[] => {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
};

let base: EnrichedFinding;
beforeAll(async () => {
  base = (await representativeFindings())[0]![1];
});

const withText = (text: string): EnrichedFinding => {
  const enriched = structuredClone(base);
  enriched.finding.title = text;
  enriched.finding.description = text;
  enriched.enrichment.resourceSummary = text;
  return enriched;
};

describe('Slack text', () => {
  it('drops C0/C1 control and bidirectional characters from every text, as Teams and SNS do', () => {
    // Prepare
    const enriched = withText(HOSTILE_TEXT);

    // Act
    const message = buildSlackMessage(enriched);

    // Assess
    expect(stringsOf(message).filter((text) => INVISIBLE.test(text))).toEqual([]);
    expect(message.blocks[2]?.text?.text).toContain('evil iso bell [31mred 1m');
  });

  it('a * in the title cannot end the bold title early: exactly the two bold markers remain', () => {
    // Prepare
    const enriched = withText('Root *credentials* used by *');

    // Act
    const title = buildSlackMessage(enriched).blocks[0]?.text?.text ?? '';

    // Assess
    expect(title).toMatch(/^:[a-z_]+: \*[^*]+\*$/);
    expect(title).toContain('Root ∗credentials∗ used by ∗');
  });

  it('a bidi control at the end of the title does not leave a space before the closing *', () => {
    // Prepare
    const enriched = withText('Exfiltration \u202e');

    // Act
    const title = buildSlackMessage(enriched).blocks[0]?.text?.text ?? '';

    // Assess
    expect(title).toMatch(/ \*(\[SAMPLE\] )?Exfiltration\*$/);
  });
});
