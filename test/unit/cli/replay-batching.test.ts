import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { replayStream, replaySession, type ReplayRecord } from '../../../shared/cli/replay/runner.ts';
import { recordLines } from '../../../shared/cli/replay/record-lines.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { createTargets } from '../../../shared/targets/create.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';
import { ACCOUNTS, makeFinding } from '../../helpers/finding-factory.ts';

/** Replay in batches (issue 17): records written a batch at a time, digests of at most the digest queue's batch. */
describe('recordLines', () => {
  const capture = () => {
    const writes: string[] = [];
    return { writes, stream: { write: (chunk: string) => writes.push(chunk) } };
  };

  it('writes queued lines once the event loop turns, as one write, bytes unchanged', async () => {
    const { writes, stream } = capture();
    const lines = recordLines(stream);
    lines.write('{"a":1}\n');
    lines.write('{"b":"\u2028"}\n');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['{"a":1}\n{"b":"\u2028"}\n']);
  });

  it('writes at once when the batch reaches its size, and flush() writes the rest', () => {
    const { writes, stream } = capture();
    const lines = recordLines(stream, 10);
    lines.write('12345\n');
    lines.write('67890\n');
    expect(writes).toEqual(['12345\n67890\n']);
    lines.write('x\n');
    lines.flush();
    lines.flush();
    expect(writes).toEqual(['12345\n67890\n', 'x\n']);
  });
});

describe('replay digests', () => {
  it('a group holds at most 100 findings (the digest queue batch the deliver Lambda reads): 250 findings of one group are 3 digests', async () => {
    // Prepare: one grouping route to the console; 250 findings of one account within one window
    const config = parseConfig(
      ROUTES_CONFIG,
      ['targets:', '  room: { type: console }', 'default: { targets: [room] }', 'routes:', '  - name: grouped', '    match: { severity: { max: 8.9 } }', '    targets: [room]', '    group: { by: [accountId], window: 5m }', ''].join('\n'),
      'routes.yml',
    );
    const printed: string[] = [];
    const stdout = { write: (chunk: string) => printed.push(chunk) } as unknown as NodeJS.WriteStream;
    const targets = createTargets(config, { secrets: localSecretResolver({}), http: createHttpClient(), stdout, ledger: memoryLedger() });
    const session = replaySession();
    async function* findings() {
      for (let i = 0; i < 250; i++) yield { source: `in:${i + 1}`, value: makeFinding({ id: `finding-${i}`, severity: 5 }) };
    }
    const records: ReplayRecord[] = [];
    // Act
    await replayStream(findings(), { config, accounts: staticAccountDirectory(ACCOUNTS), targets, mode: 'dry-run', ...session }, 4, (r) => void records.push(r));
    const digests = await session.digests.flushAll();
    // Assess
    expect(records.every((r) => r.deliveries?.room === 'held')).toBe(true);
    expect(digests).toMatchObject({ digests: 3, findings: 250, failures: [] });
  });

  it('the cap is the digest queue batch size in serverless.yml', () => {
    const template = readFileSync(join(import.meta.dirname, '../../../serverless.yml'), 'utf8');
    const digestEvent = /arn: \{ 'Fn::GetAtt': \[DigestQueue, Arn\] \}\s+batchSize: (\d+)/.exec(template);
    expect(digestEvent?.[1]).toBe('100');
  });
});
