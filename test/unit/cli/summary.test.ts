import { describe, expect, it } from 'vitest';
import { deliveryStatuses } from '../../../shared/cli/delivery-status.ts';
import type { ReplayRecord } from '../../../shared/cli/replay/runner.ts';
import { ReplaySummary } from '../../../shared/cli/summary.ts';

const routed = (overrides: Partial<ReplayRecord>): ReplayRecord => ({
  source: 'in.jsonl:1',
  findingId: 'f1',
  type: 'Recon:EC2/PortProbeUnprotectedPort',
  severity: 5,
  outcome: 'routed',
  routes: ['r'],
  targets: ['siem', 'slack'],
  reason: null,
  deliveries: { siem: 'sent', slack: 'rendered' },
  ...overrides,
});

const rejected = (source: string, reason: string): ReplayRecord => ({
  source,
  findingId: null,
  type: null,
  severity: null,
  outcome: 'rejected',
  routes: [],
  targets: [],
  reason,
});

/** The data rows of the "Deliveries per target" table, as cells. */
const deliveryRows = (text: string): string[][] => {
  const lines = text.split('\n');
  const start = lines.indexOf('Deliveries per target (findings):');
  const rows: string[][] = [];
  for (const line of lines.slice(start + 3)) {
    if (line === '') break;
    rows.push(line.trim().split(/\s{2,}/));
  }
  return rows;
};

describe('Replay summary: what was sent, rendered only and failed', () => {
  it('counts each target by what became of its delivery, not by being routed to', () => {
    // Prepare
    const summary = new ReplaySummary();
    // Act
    summary.add(routed({}));
    summary.add(routed({ outcome: 'failed', deliveries: { siem: 'sent', slack: 'failed' }, reason: 'slack: secret env:X is not set' }));
    summary.add(routed({ deliveries: { siem: 'duplicate', slack: 'held' } }));
    const text = summary.render();
    // Assess
    expect(deliveryRows(text)).toEqual([
      ['siem', '2', '0', '0', '0', '1'],
      ['slack', '0', '1', '1', '1', '0'],
    ]);
    expect(text).toContain('target  sent  rendered only  failed  held for digest  duplicate');
    expect(text).toContain('Failed deliveries (1):\n  in.jsonl:1: slack: secret env:X is not set');
    expect(summary.toJSON().deliveries).toEqual({
      siem: { sent: 2, rendered: 0, failed: 0, held: 0, duplicate: 1 },
      slack: { sent: 0, rendered: 1, failed: 1, held: 1, duplicate: 0 },
    });
  });

  it('counts digests as sent or rendered by whether their target sends in this run', () => {
    // Prepare
    const summary = new ReplaySummary((target) => target === 'chat');
    // Act
    summary.setDigests({ digests: 3, findings: 9, failures: ['slack: digest of 2: 500'], byTarget: { chat: 2, slack: 1 } });
    // Assess
    expect(summary.render()).toContain('Digest groups: 2 sent, 1 rendered only, 1 failed, for 9 grouped findings (a group of one goes as its finding)\n  slack: digest of 2: 500');
    expect(summary.toJSON().digests).toMatchObject({ sent: 2, rendered: 1, failed: 1, findings: 9 });
  });

  it('names the first rejected and skipped inputs with file and line, then counts the rest', () => {
    // Prepare
    const summary = new ReplaySummary();
    // Act
    for (let line = 1; line <= 13; line++) summary.add(rejected(`in.jsonl:${line}`, `$: invalid JSON: line ${line}`));
    summary.add(rejected('gone.json', '$: gone.json: cannot open (EACCES)'));
    summary.skip('in/notes.txt', 'not .json');
    const text = summary.render();
    // Assess
    expect(text).toContain('Rejected (14):\n  in.jsonl:1: invalid JSON: line 1\n  in.jsonl:2: invalid JSON: line 2\n');
    expect(text).toContain('  in.jsonl:10: invalid JSON: line 10\n  … and 4 more (replay --json names every one)');
    expect(text).toContain('Skipped files (1):\n  in/notes.txt: not .json');
    expect(summary.toJSON()).toMatchObject({ rejected: { count: 14 }, skipped: { count: 1, first: [{ source: 'in/notes.txt', why: 'not .json' }] } });
  });

  it('never writes a control character from an input to the terminal', () => {
    // Prepare
    const summary = new ReplaySummary();
    // Act
    summary.add(rejected('blob.json', `$: invalid JSON: Unexpected token '\u007f', "\u007fELF\u0002\u0001\u001b[2J"... is not valid JSON`));
    const text = summary.render();
    // Assess
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(text).toContain('\\u007fELF\\u0002\\u0001\\u001b[2J');
  });
});

describe('Delivery statuses per target', () => {
  it('tells held, failed, duplicate, sent and rendered apart, and counts a jurisdiction refusal as failed', () => {
    // Act
    const statuses = deliveryStatuses(
      [{ target: 'a' }, { target: 'b' }, { target: 'c' }, { target: 'd' }, { target: 'e' }],
      [undefined, { error: new Error('500') }, { duplicate: true }, { duplicate: false }, { duplicate: false }],
      (target) => target === 'd',
      [{ target: 'eu-only' }],
    );
    // Assess
    expect(statuses).toEqual({ a: 'held', b: 'failed', c: 'duplicate', d: 'sent', e: 'rendered', 'eu-only': 'failed' });
  });
});
