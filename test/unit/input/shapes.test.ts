import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventsOf } from '../../../shared/cli/input/shapes.ts';
import { validateEvent } from '../../../shared/validate.ts';

const wire = (JSON.parse(readFileSync(new URL('../../events/api/get-findings.wire.json', import.meta.url), 'utf8')) as { findings: Record<string, unknown>[] }).findings;
const cli = JSON.parse(readFileSync(new URL('../../events/api/get-findings.cli-v1.json', import.meta.url), 'utf8')) as { Findings: Record<string, unknown>[] };
const event = JSON.parse(readFileSync(new URL('../../events/samples/backdoor-ec2-spambot.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('Input shapes', () => {
  it('opens a GetFindings response in SDK/CLI form and in wire form, naming each finding by its place', () => {
    // Act
    const fromCli = [...eventsOf(cli, 'out.json')];
    const fromWire = [...eventsOf({ findings: wire.slice(0, 2) }, 'page.json')];
    // Assess
    expect(fromCli.map((item) => item.source)).toEqual(cli.Findings.map((_, index) => `out.json.Findings[${index}]`));
    expect(fromCli.map((item) => item.value)).toEqual(wire);
    expect(fromWire).toEqual([
      { source: 'page.json.findings[0]', value: wire[0] },
      { source: 'page.json.findings[1]', value: wire[1] },
    ]);
  });

  it('converts a bare SDK-form finding and an array of them; passes wire findings, events and dead letters as they are', () => {
    const letter = { reason: 'x', stage: 'enrich', deadLetteredAt: '2026-01-01T00:00:00Z', payload: event };
    expect([...eventsOf(cli.Findings[0], 'one.json')]).toEqual([{ source: 'one.json', value: wire[0] }]);
    expect([...eventsOf(cli.Findings.slice(0, 2), 'two.json')]).toEqual([
      { source: 'two.json[0]', value: wire[0] },
      { source: 'two.json[1]', value: wire[1] },
    ]);
    for (const value of [wire[0], event, letter, { detail: wire[0] }]) expect([...eventsOf(value, 'x')]).toEqual([{ source: 'x', value }]);
  });

  it('opens GetFindings pages inside an array (jq -s of several pages)', () => {
    const pages = [{ Findings: cli.Findings.slice(0, 1) }, { Findings: cli.Findings.slice(1, 2) }];
    expect([...eventsOf(pages, 'pages.json')]).toEqual([
      { source: 'pages.json[0].Findings[0]', value: wire[0] },
      { source: 'pages.json[1].Findings[0]', value: wire[1] },
    ]);
  });

  it('reports unprocessed findings with their id and reason while the findings beside them flow', () => {
    // Prepare: the reason is input text: quoted, control characters escaped
    const response = { Findings: cli.Findings.slice(0, 1), UnprocessedFindings: [{ FindingId: 'f-9', ErrorCode: 'InternalError', ErrorMessage: 'try\nagain' }] };
    // Act
    const items = [...eventsOf(response, 'r.json')];
    // Assess
    expect(items).toEqual([
      { source: 'r.json.Findings[0]', value: wire[0] },
      { source: 'r.json.UnprocessedFindings[0]', error: 'GetFindings did not return this finding: finding "f-9": "InternalError" "try\\nagain"' },
    ]);
  });

  it.each([
    [{ Findings: [] }, 'looks like a GetFindings response with no findings'],
    [{ findings: [], $metadata: {} }, 'looks like a GetFindings response with no findings'],
    [{ Findings: 'none' }, 'looks like a GetFindings response, but "Findings" is a string, not an array of findings'],
    [{ FindingIds: ['a'], NextToken: 'n' }, 'looks like a ListFindings response (finding ids only)'],
    [{}, 'an empty object, not a GuardDuty finding'],
    [{ name: 'x', '\u001b[31mred': 1 }, 'not a GuardDuty finding: no id/type/resource (keys: "name", "\\u001b[31mred"); accepted: an EventBridge event'],
  ])('names what %j looks like instead of listing schema complaints', (value, reason) => {
    const items = [...eventsOf(value, 'bad.json')];
    expect(items).toHaveLength(1);
    expect(items[0]!.source).toBe('bad.json');
    expect(items[0]!.error).toContain(reason);
  });

  it('leaves a wire finding with a missing field to validation, which names the path', () => {
    const { severity: _, ...noSeverity } = wire[0]!;
    const [item] = [...eventsOf(noSeverity, 'x')];
    expect(validateEvent(item!.value)).toMatchObject({ kind: 'rejected', path: '$.severity' });
    const { Severity: __, ...cliNoSeverity } = cli.Findings[0]!;
    const [converted] = [...eventsOf(cliNoSeverity, 'x')];
    expect(validateEvent(converted!.value)).toMatchObject({ kind: 'rejected', path: '$.severity' });
  });
});
