import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runActionsSimulate } from '../../shared/cli/actions-cmd.ts';

/** `findings-router actions simulate`: the whole path in process, printed step by step. */
const dir = mkdtempSync(join(tmpdir(), 'actions-simulate-'));
const routes = join(dir, 'routes.yml');
writeFileSync(routes, [
  'targets:',
  '  out: { type: console }',
  `  siem: { type: file, path: ${JSON.stringify(join(dir, 'audit.ndjson'))}, audit: true }`,
  'default: { targets: [out] }',
  'actions:',
  '  slack: { signingSecret: { env: SLACK_SIGNING_SECRET } }',
  '  archive: { slackUsers: [U0PERMIT1] }',
].join('\n'));
const FINDING = '3443fe169fa659afd7896922e2de9d83'; // test/events/samples/attacksequence-ec2-compromisedinstancegroup.json

const simulate = async (...argv: string[]) => {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (chunk) => (text += chunk));
  const code = await runActionsSimulate(argv, { stdout, stderr: new PassThrough() });
  return { code, text };
};

describe('actions simulate', () => {
  it('archives for a permitted user: verified, GetFindings then ArchiveFindings, message updated, audit record printed', async () => {
    const { code, text } = await simulate('--action', 'archive', '--finding', FINDING, '--as', 'U0PERMIT1', '--config', routes);
    expect(code).toBe(0);
    expect(text).toContain('2. endpoint answered 200 (signature verified');
    expect(text).toMatch(/GetFindings \{"findingIds":\["3443fe169fa659afd7896922e2de9d83"\]\} → 200\n\s+ArchiveFindings \{"findingIds":\["3443fe169fa659afd7896922e2de9d83"\]\} → 200/);
    expect(text).toContain('2. archive: done — archived in GuardDuty');
    expect(text).toContain('"kind":"findings-router.action"');
    expect(text).toContain('audit targets that would receive it: siem (file)');
  });

  it('refuses a user not on the allow-list, with no GuardDuty call, and exits 1', async () => {
    const { code, text } = await simulate('--action', 'archive', '--finding', FINDING, '--as', 'U0NOBODY1', '--config', routes);
    expect(code).toBe(1);
    expect(text).toContain('4. GuardDuty calls: none');
    expect(text).toContain('refused — not permitted');
  });

  it('names a finding that is not in the input', async () => {
    await expect(simulate('--action', 'archive', '--finding', 'nope', '--as', 'U0PERMIT1', '--config', routes)).rejects.toThrow(/finding nope is not in/);
  });
});
