import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditRecordOf } from '../../../shared/actions/audit.ts';
import { auditTargetSink } from '../../../shared/actions/audit-targets.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { createTargets } from '../../../shared/targets/create.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';

/** The audit record reaches the audit targets (and only them) as its own event, one line, escaped. */
const dir = mkdtempSync(join(tmpdir(), 'audit-targets-'));
const config = parseConfig(
  ROUTES_CONFIG,
  [
    'targets:',
    `  audit-file: { type: file, path: ${JSON.stringify(join(dir, 'audit.ndjson'))}, audit: true }`,
    `  plain-file: { type: file, path: ${JSON.stringify(join(dir, 'findings.ndjson'))} }`,
    'default: { targets: [plain-file] }',
  ].join('\n'),
  'routes.yml',
);
const targets = createTargets(config, { secrets: localSecretResolver({}), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() });

describe('action audit records to the audit targets', () => {
  it('writes one JSON line per record to audit targets only, with hostile display text stripped of line breaks and control characters', async () => {
    const logs: string[] = [];
    const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const record = auditRecordOf(
      {
        request: { action: 'archive', finding: { id: 'abc', accountId: '123456789012', region: 'eu-west-1', type: 'Recon:EC2/Port\u2028Probe' }, actor: { platform: 'slack', id: 'U0123ABC', name: 'eve\n{"forged":true}\u001b[31m' }, receivedAt: 0 },
        status: 'done',
        message: 'archived\r\nin GuardDuty',
      },
      ['GetFindings', 'ArchiveFindings'],
      Date.UTC(2026, 11, 5),
    );
    await auditTargetSink(config, targets, log).record(record);
    const lines = readFileSync(join(dir, 'audit.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const written = JSON.parse(lines[0]!);
    expect(written).toMatchObject({ kind: 'findings-router.action', action: 'archive', status: 'done', actor: { name: 'eve {"forged":true} [31m' }, message: 'archived  in GuardDuty' });
    expect(lines[0]).not.toMatch(/[\u0000-\u001f\u2028\u2029]/);
    expect(() => readFileSync(join(dir, 'findings.ndjson'), 'utf8')).toThrow();
    expect(logs).toContain('action audit');
  });
});
