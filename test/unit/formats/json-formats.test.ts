import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderJsonFormat } from '../../../shared/formats/json-formats.ts';
import { copyEnriched } from '../../helpers/findings.ts';
import { representativeFindings } from '../../helpers/representative.ts';

afterEach(() => vi.restoreAllMocks());

describe('renderJsonFormat', () => {
  it('stringifies a finding once per format, however many targets render it', async () => {
    // Arrange
    const enriched = (await representativeFindings())[0]![1];
    const stringify = vi.spyOn(JSON, 'stringify');

    // Act
    const first = [renderJsonFormat(enriched), renderJsonFormat(enriched, 'enriched'), renderJsonFormat(enriched)];
    const raw = [renderJsonFormat(enriched, 'raw'), renderJsonFormat(enriched, 'raw')];
    const ocsf = [renderJsonFormat(enriched, 'ocsf'), renderJsonFormat(enriched, 'ocsf')];
    const calls = stringify.mock.calls.length;
    stringify.mockRestore();

    // Assess
    expect(calls).toBe(3);
    expect(new Set(first)).toEqual(new Set([JSON.stringify(enriched)]));
    expect(new Set(raw)).toEqual(new Set([JSON.stringify(enriched.finding)]));
    expect(JSON.parse(ocsf[0]!)).toEqual(JSON.parse(ocsf[1]!));
  });

  it('renders each finding from its own content', async () => {
    // Arrange
    const pairs = await representativeFindings();
    const [a, b] = [pairs[0]![1], pairs[1]![1]];
    const aCopy = copyEnriched(a);

    // Act
    const [ra, rb, rCopy] = [renderJsonFormat(a), renderJsonFormat(b), renderJsonFormat(aCopy)];

    // Assess
    expect(ra).toBe(JSON.stringify(a));
    expect(rb).toBe(JSON.stringify(b));
    expect(rb).not.toBe(ra);
    expect(rCopy).toBe(ra);
  });
});
