import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactRoutesYaml } from '../../../shared/cli/report/redact-yaml.ts';
import { unifiedDiff, unifiedDiffText } from '../../../shared/cli/report/text-diff.ts';

const CONFIGS = join(import.meta.dirname, '../../events/configs/diff');

/** Applies a unified diff to `text`, as `patch` would: the diff must turn old into new exactly. */
const apply = (text: string, diff: ReturnType<typeof unifiedDiff>): string => {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const out: string[] = [];
  let at = 0;
  for (const hunk of diff.hunks) {
    while (at < hunk.oldStart - 1) out.push(lines[at++]!);
    for (const line of hunk.lines) {
      if (line.kind === '+') out.push(line.text);
      else {
        expect(lines[at]).toBe(line.text);
        if (line.kind === ' ') out.push(line.text);
        at++;
      }
    }
  }
  while (at < lines.length) out.push(lines[at++]!);
  return `${out.join('\n')}\n`;
};

describe('unified diff of two routes files', () => {
  it('prints hunks as diff -u does, with three lines of context', () => {
    // Prepare
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n');
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i', 'j', 'k'].join('\n');
    // Act
    const text = unifiedDiffText(unifiedDiff(before, after));
    // Assess
    expect(text).toBe(['@@ -2,9 +2,10 @@', ' b', ' c', ' d', '-e', '+E', ' f', ' g', ' h', ' i', ' j', '+k'].join('\n'));
  });

  it.each(['route-added', 'target-removed', 'suppression-added', 'continue-flipped', 'route-removed'])('turns base.yml into %s.yml exactly', (name) => {
    // Prepare
    const before = readFileSync(join(CONFIGS, 'base.yml'), 'utf8');
    const after = readFileSync(join(CONFIGS, `${name}.yml`), 'utf8');
    // Act
    const diff = unifiedDiff(before, after);
    // Assess
    expect(diff.added + diff.removed).toBeGreaterThan(0);
    expect(apply(before, diff)).toBe(after);
  });

  it('stays correct, only less minimal, when the changed middle is too large to compare line by line', () => {
    // Prepare
    const before = 'head\nx1\nx2\ntail\n';
    const after = 'head\nx2\ny\ntail\n';
    // Act
    const diff = unifiedDiff(before, after, { maxCells: 1 });
    // Assess
    expect(diff.hunks[0]!.lines.map((l) => `${l.kind}${l.text}`)).toEqual([' head', '-x1', '-x2', '+x2', '+y', ' tail']);
    expect(apply(before, diff)).toBe(after);
  });

  it('has no hunks for the same text', () => {
    // Act / Assess
    expect(unifiedDiff('a\nb\n', 'a\nb\n').hunks).toEqual([]);
  });
});

describe('routes file text for the diff page: secrets masked', () => {
  it('masks inline secret values in flow and block form, block scalars and URL credentials and queries', () => {
    // Prepare
    const yaml = [
      'targets:',
      '  slack: { type: slack, webhookUrl: { value: "https://hooks.slack.com/services/T0/B0/SECRET1" } }',
      '  pager:',
      '    type: pagerduty',
      '    routingKey:',
      '      value: SECRET2',
      '  jira:',
      '    apiToken:',
      '      value: |',
      '        SECRET3',
      '        SECRET4',
      '    email: { env: JIRA_EMAIL }',
      '  hook: { type: webhook, url: "https://user:SECRET5@hooks.example.com/x?token=SECRET6" }',
    ].join('\n');
    // Act
    const masked = redactRoutesYaml(yaml, ['SECRET7-from-config']);
    // Assess
    for (const secret of ['SECRET1', 'SECRET2', 'SECRET3', 'SECRET4', 'SECRET5', 'SECRET6']) expect(masked).not.toContain(secret);
    expect(masked).toContain('email: { env: JIRA_EMAIL }');
    expect(masked.split('\n')).toHaveLength(yaml.split('\n').length);
    expect(redactRoutesYaml('note: "SECRET7-from-config"', ['SECRET7-from-config'])).toBe('note: "«redacted»"');
  });
});
