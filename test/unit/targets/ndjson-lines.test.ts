import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { targetDefinition } from '../../../shared/targets/registry.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { targetContext } from '../../helpers/target-contract.ts';

/**
 * Line-oriented outputs keep one record per line for splitters that also break at U+2028 and
 * U+2029 (JavaScript's line terminators, several log shippers): both are written as JSON
 * escapes, and the record still reads back to the same text.
 */
const TEXT = 'line\u2028separator and paragraph\u2029separator';

/** How a JavaScript-minded line splitter reads a body. */
const linesOf = (body: string): string[] => body.split(/\r\n|[\n\r\u2028\u2029]/).filter((line) => line !== '');

const render = (config: Record<string, unknown>, enriched: EnrichedFinding): string => {
  const definition = targetDefinition(String(config.type))!;
  const target = definition.create('lines', z.parse(definition.configSchema as z.ZodMiniType<unknown>, config), targetContext());
  return target.render(enriched).body;
};

let enriched: EnrichedFinding;
beforeAll(async () => {
  enriched = structuredClone((await representativeFindings())[0]![1]);
  enriched.finding.title = TEXT;
  enriched.finding.description = TEXT;
});

describe('NDJSON outputs escape U+2028 and U+2029', () => {
  it.each([
    ['file', { type: 'file', path: 'out/never-written.ndjson' }, 1],
    ['firehose', { type: 'firehose', deliveryStreamName: 'guardduty-findings', region: 'eu-west-1' }, 1],
    ['splunk', { type: 'splunk', url: 'https://splunk.example.com:8088', token: { env: 'HEC_TOKEN' } }, 1],
    ['elasticsearch _bulk', { type: 'elasticsearch', url: 'https://es.example.com:9200' }, 2],
  ] as const)('%s: one record per line, and the text reads back unchanged', (_name, config, records) => {
    // Act
    const body = render(config, enriched);

    // Assess
    const lines = linesOf(body);
    expect(lines).toHaveLength(records);
    expect(body).toContain('\\u2028');
    const document = JSON.stringify(lines.map((line) => JSON.parse(line) as unknown));
    expect(document).toContain(JSON.stringify(TEXT).slice(1, -1));
  });

  it('syslog JSON: the message stays on one line and reads back unchanged', () => {
    // Act
    const frame = render({ type: 'syslog', host: 'siem.example.com', format: 'json' }, enriched);

    // Assess
    expect(frame).not.toMatch(/[\u2028\u2029]/);
    const json = frame.slice(frame.indexOf('{'));
    expect((JSON.parse(json) as { title: string }).title).toBe(TEXT);
  });
});
