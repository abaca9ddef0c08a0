import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cefEvent, cefSeverity, escapeExtensionValue, escapeHeader, renderCef } from '../../../shared/targets/cef.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { enrichedFrom, HOSTILE_LINE, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { makeFinding } from '../../helpers/finding-factory.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { parseCef } from '../../helpers/rsyslog.ts';

const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Values a hostile finding uses to break out of a CEF field. */
const INJECTION = {
  title: 'Pipe | in name\\|7|forged=1 \\ back\r\nnext line\ttab',
  description: 'x|y=z \\ w\\=v\r\nline2 cs1=666666666666 msg=forged \\n literal',
  id: 'evil id=1 cs3=forged|x\\',
};

const injectionFinding = () =>
  enrichedFrom(
    makeFinding({ id: INJECTION.id, title: INJECTION.title, description: INJECTION.description, type: 'Backdoor:EC2/C&CActivity.B!DNS' }),
    { name: 'acct=name|pipe\\slash', tags: {} },
  );

const value = (pairs: [string, string][], key: string): string | undefined => pairs.find(([k]) => k === key)?.[1];

describe('Target: cef', () => {
  describe('golden lines', async () => {
    const pairs = await representativeFindings();
    it.each(pairs)('%s renders the golden CEF line, and a strict parser reads back every field', async (name, enriched) => {
      // Prepare
      const event = cefEvent(enriched);

      // Act
      const line = renderCef(enriched);
      const parsed = parseCef(line);

      // Assess
      await expect(`${line}\n`).toMatchFileSnapshot(`../../golden/cef/${name}.cef`);
      expect(parsed).toEqual({
        version: 'CEF:0',
        vendor: 'AWS',
        product: 'GuardDuty',
        deviceVersion: '1.0',
        signatureId: enriched.finding.type,
        name: event.header.name,
        severity: String(Math.floor(enriched.finding.severity)),
        extension: event.extension,
      });
      expect(value(parsed.extension, 'cs1')).toBe(enriched.finding.accountId);
      expect(value(parsed.extension, 'cs3')).toBe(enriched.finding.id);
      expect(value(parsed.extension, 'request')).toBe(enriched.enrichment.consoleUrl);
      expect(value(parsed.extension, 'rt')).toBe(String(Date.parse(String(enriched.finding.updatedAt))));
    });
  });

  describe('escaping', () => {
    it('round-trips pipes, equals signs, backslashes and CR/LF exactly through a strict parser', async () => {
      // Prepare
      const enriched = await injectionFinding();

      // Act
      const parsed = parseCef(renderCef(enriched));

      // Assess
      expect(parsed.name).toBe('Pipe | in name\\|7|forged=1 \\ back  next line tab');
      expect(parsed.signatureId).toBe('Backdoor:EC2/C&CActivity.B!DNS');
      expect(value(parsed.extension, 'msg')).toBe(INJECTION.description);
      expect(value(parsed.extension, 'cs3')).toBe(INJECTION.id);
      expect(value(parsed.extension, 'cs5')).toBe('acct=name|pipe\\slash');
      // The forged pairs stayed inside their values: one cs1 (the real account), no forged keys.
      expect(parsed.extension.filter(([key]) => key === 'cs1')).toEqual([['cs1', '111111111111']]);
      expect(parsed.extension.filter(([key]) => key === 'msg')).toHaveLength(1);
      expect(parsed.extension.map(([key]) => key)).not.toContain('forged');
      expect(value(parsed.extension, 'externalId')).toBe(INJECTION.id); // 24 characters: within externalId's 40
    });

    it('keeps ids longer than externalId allows (40) out of externalId, and in cs3 whole', async () => {
      // Prepare
      const short = await enrichedFrom(makeFinding({ id: 'a'.repeat(40) }));
      const long = await enrichedFrom(makeFinding({ id: 'b'.repeat(41) }));

      // Act
      const [shortParsed, longParsed] = [parseCef(renderCef(short)), parseCef(renderCef(long))];

      // Assess
      expect(value(shortParsed.extension, 'externalId')).toBe('a'.repeat(40));
      expect(value(longParsed.extension, 'externalId')).toBeUndefined();
      expect(value(longParsed.extension, 'cs3')).toBe('b'.repeat(41));
    });

    it('escapes header fields (\\ and |) and extension values (\\, =, CR, LF) as the standard says', () => {
      // Prepare
      const header = 'a\\b|c=d';
      const extension = 'a\\b|c=d\r\ne';

      // Act
      const [escapedHeader, escapedValue] = [escapeHeader(header), escapeExtensionValue(extension)];

      // Assess
      expect(escapedHeader).toBe('a\\\\b\\|c=d');
      expect(escapedValue).toBe('a\\\\b|c\\=d\\r\\ne');
    });

    it('parses back what it renders for any title and description (property)', async () => {
      // Prepare
      const base = makeFinding();
      const text = fc.string({ unit: 'binary', maxLength: 300 });

      // Act + Assess
      await fc.assert(
        fc.asyncProperty(text, text, async (title, description) => {
          const enriched = await enrichedFrom({ ...base, title, description });
          const parsed = parseCef(renderCef(enriched));
          const controls = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
          const expectedName = title.replace(controls, '').replace(/[\r\n\t]/g, ' ').replace(/^ +| +$/g, '') || base.type;
          expect(parsed.name).toBe(expectedName);
          const expectedMsg = description.replace(controls, '').replace(/\t/g, ' ').replace(/^ +| +$/g, '');
          expect(value(parsed.extension, 'msg')).toBe(expectedMsg === '' ? undefined : expectedMsg);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('limits', () => {
    it('cuts long hostile values to the dictionary lengths with a visible marker, never splitting a character', async () => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());

      // Act
      const line = renderCef(enriched);
      const parsed = parseCef(line);

      // Assess
      expect(parsed.name.length).toBeLessThanOrEqual(512);
      expect(parsed.name.endsWith(TRUNCATION_MARKER)).toBe(true);
      const limits: Record<string, number> = { msg: 1023, cs4: 4000, cs5: 4000, cs3: 4000, request: 1023, cat: 1023, suser: 1023 };
      for (const [key, limit] of Object.entries(limits)) {
        const v = value(parsed.extension, key);
        if (v !== undefined) expect(v.length, key).toBeLessThanOrEqual(limit);
      }
      expect(value(parsed.extension, 'msg')?.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(line).not.toMatch(BROKEN_SURROGATE);
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(value(parsed.extension, 'msg')?.startsWith(HOSTILE_LINE.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '').slice(0, 20))).toBe(true);
    });

    it.each([
      [0, 0],
      [0.5, 0],
      [1, 1],
      [3.9, 3],
      [4, 4],
      [6.9, 6],
      [7, 7],
      [8.9, 8],
      [9, 9],
      [10, 10],
    ])('maps GuardDuty severity %s to CEF severity %s (bands line up: 0-3 Low … 9-10 Very-High)', (guardDuty, cef) => {
      // Prepare + Act
      const severity = cefSeverity(guardDuty);

      // Assess
      expect(severity).toBe(cef);
    });
  });
});
