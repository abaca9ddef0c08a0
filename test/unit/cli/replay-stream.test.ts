import { spawnSync } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { replayStream, replaySession, type ReplayRecord } from '../../../shared/cli/replay/runner.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { createTargets } from '../../../shared/targets/create.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';
import { ACCOUNTS, makeFinding } from '../../helpers/finding-factory.ts';
import { listenLoopback, readBody } from '../../helpers/receiver-kit.ts';

/**
 * replayStream: deliveries of up to N findings overlap, never more; records come out in input
 * order whatever order the deliveries end in.
 */
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A webhook that holds requests until `batch` are waiting, then answers them last-come first. */
const gatedWebhook = async (batch: number, total: number) => {
  const waiting: { res: ServerResponse; id: string }[] = [];
  const answered: string[] = [];
  let received = 0;
  let mostWaiting = 0;
  const server = createServer(async (req, res) => {
    const body = JSON.parse((await readBody(req)).toString('utf8')) as { finding: { id: string } };
    received++;
    waiting.push({ res, id: body.finding.id });
    mostWaiting = Math.max(mostWaiting, waiting.length);
    if (waiting.length < batch && received < total) return;
    for (const { res: held, id } of waiting.splice(0).reverse()) {
      answered.push(id);
      held.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }
  });
  const listening = await listenLoopback(server);
  close = listening.close;
  return { url: `${listening.origin}/hook`, answered, mostWaiting: () => mostWaiting };
};

/** The findings, noting how many deliveries had been answered when each was taken. */
async function* findings(count: number, answeredAtTake: number[], answered: readonly string[]) {
  for (let i = 0; i < count; i++) {
    answeredAtTake.push(answered.length);
    yield { source: `in:${i + 1}`, value: makeFinding({ id: `finding-${i}` }) };
  }
}

describe('replayStream', () => {
  it('keeps at most N findings in flight and hands records over in input order', async () => {
    // Prepare: 12 findings, concurrency 4; the receiver answers only when 4 wait, newest first
    const receiver = await gatedWebhook(4, 12);
    const config = parseConfig(ROUTES_CONFIG, `targets:\n  hook: { type: webhook, url: "${receiver.url}", allowPrivateNetwork: true }\ndefault: { targets: [hook] }\nroutes: []\n`, 'routes.yml');
    const targets = createTargets(config, { secrets: localSecretResolver({}), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() });
    const records: ReplayRecord[] = [];
    const answeredAtTake: number[] = [];
    // Act
    await replayStream(findings(12, answeredAtTake, receiver.answered), { config, accounts: staticAccountDirectory(ACCOUNTS), targets, mode: 'send', ...replaySession() }, 4, (r) => void records.push(r));
    // Assess
    expect(receiver.mostWaiting()).toBe(4);
    // Finding k is taken once at least k - 4 findings have ended: 4 in flight, 1 waiting for a slot
    expect(answeredAtTake.map((answered, k) => answered >= k - 4)).toEqual(answeredAtTake.map(() => true));
    expect(receiver.answered.slice(0, 4)).toEqual(['finding-3', 'finding-2', 'finding-1', 'finding-0']);
    expect(records.map((r) => [r.findingId, r.outcome])).toEqual(Array.from({ length: 12 }, (_, i) => [`finding-${i}`, 'routed']));
  });
});

describe('replay digests under the receive budget', () => {
  it('dead-letters every member of a digest the target refuses, once each, with the reason', async () => {
    // Prepare: a Slack webhook that refuses everything; three findings held for one digest
    let requests = 0;
    const listening = await listenLoopback(
      createServer(async (req, res) => {
        await readBody(req);
        requests++;
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      }),
    );
    close = listening.close;
    const config = parseConfig(
      ROUTES_CONFIG,
      [
        'targets:',
        `  room: { type: slack, webhookUrl: { value: "${listening.origin}/services/T0/B0/x" }, allowPrivateNetwork: true }`,
        'default: { targets: [room] }',
        'routes:',
        '  - name: grouped',
        '    match: { severity: { min: 0 } }',
        '    targets: [room]',
        '    group: { by: [accountId], window: 5m }',
        '',
      ].join('\n'),
      'routes.yml',
    );
    const targets = createTargets(config, { secrets: localSecretResolver({}), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() });
    const session = replaySession();
    const letters: { target?: string; findingId?: string; reason: string }[] = [];
    const records: ReplayRecord[] = [];
    // Act
    await replayStream(findings(3, [], []), { config, accounts: staticAccountDirectory(ACCOUNTS), targets, mode: 'send', ...session, deadLetters: (l) => void letters.push(l) }, 4, (r) => void records.push(r));
    const digests = await session.digests.flushAll();
    // Assess
    expect(records.map((r) => r.reason)).toEqual(records.map(() => 'grouped into a digest: room'));
    expect(requests).toBe(1);
    expect(letters.map((l) => [l.target, l.findingId])).toEqual([0, 1, 2].map((i) => ['room', `finding-${i}`]));
    expect(letters.every((l) => l.reason.includes('HTTP 400'))).toBe(true);
    expect(digests.failures).toEqual([expect.stringContaining('room: digest of 3')]);
  });
});

describe('CLI: replay --concurrency and --dead-letters mistakes', () => {
  const BIN = join(import.meta.dirname, '../../../bin/findings-router.mjs');
  it.each([
    [['--concurrency', 'many'], "--concurrency must be a whole number from 1 to 256, got 'many'"],
    [['--concurrency', '0'], "--concurrency must be a whole number from 1 to 256, got '0'"],
    [['--dead-letters', '/nonexistent-folder/letters.ndjson'], '--dead-letters /nonexistent-folder/letters.ndjson: the folder /nonexistent-folder does not exist'],
  ])('replay %j: one line, exit 2, no work done', (flags, message) => {
    // Act
    const result = spawnSync(process.execPath, [BIN, 'replay', '--dry-run', ...flags], { encoding: 'utf8', timeout: 60_000 });
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
    expect(result.stdout).toBe('');
  });
});
