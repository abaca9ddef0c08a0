import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import type { RouterConfig } from '../../../shared/config/compile.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import type { DeliveryJob } from '../../../shared/delivery/job.ts';
import type { DeadLetter } from '../../../shared/delivery/sink.ts';
import { deliverQueued, route, type QueuedMessage } from '../../../shared/pipeline.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { memoryFindingState } from '../../../shared/state/finding-state.ts';
import { createTargets } from '../../../shared/targets/create.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';
import { startReceiver } from '../../helpers/receiver.ts';

/**
 * Stage 3's decisions over a batch of queued messages, against a loopback Slack webhook:
 * every message ends delivered, retried or dead-lettered, and a digest group's members share
 * the outcome (split only by their own receive count).
 */
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let targets: ReturnType<typeof createTargets>;
let config: RouterConfig;

beforeAll(async () => {
  receiver = await startReceiver();
  config = parseConfig(
    ROUTES_CONFIG,
    [
      'targets:',
      `  slack: { type: slack, webhookUrl: { value: "${receiver.url}/services/T/B/X" }, allowPrivateNetwork: true, rateLimit: { perSecond: 1000, burst: 1000 } }`,
      'default: { targets: [slack] }',
      'routes:',
      '  - name: recon',
      '    match: { threatPurpose: Recon }',
      '    targets: [slack]',
      '    group: { by: [type], window: 5m }',
    ].join('\n'),
    'queued.yml',
  );
  targets = createTargets(config, { secrets: localSecretResolver(), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() });
});
afterAll(async () => receiver?.close());
beforeEach(() => {
  receiver.requests.length = 0;
  receiver.respondWith(() => ({ status: 200, body: 'ok' }));
});

const heldJobs = async (n: number): Promise<DeliveryJob[]> => {
  const state = memoryFindingState();
  const jobs: DeliveryJob[] = [];
  for (let i = 0; i < n; i++) {
    const enriched = await enrich(makeFinding({ id: `r${String(i).padStart(31, '0')}`, type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 3 }));
    jobs.push(...(await route(enriched, { config, state })).jobs);
  }
  return jobs;
};
const message = (id: string, job: DeliveryJob | string, receiveCount = 1): QueuedMessage => ({ id, body: typeof job === 'string' ? job : JSON.stringify(job), receiveCount });
const collectingSink = () => {
  const letters: DeadLetter[] = [];
  return { letters, deadLetter: async (letter: DeadLetter) => void letters.push(letter) };
};
const deps = (sink: { deadLetter(letter: DeadLetter): Promise<void> }) => ({ targets, sink, maxReceives: 5, deadline: () => Date.now() + 5_000 });

describe('Stage 3 over a queue batch', () => {
  it('sends a digest group once, counting a message handed out twice in the batch as one member', async () => {
    // Prepare
    const [a, b, c] = await heldJobs(3);
    const sink = collectingSink();
    // Act
    const outcomes = await deliverQueued([message('m1', a!), message('m2', b!), message('m1-again', a!), message('m3', c!)], deps(sink));
    // Assess
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ kind: 'delivered', digest: true, duplicate: false });
    expect(outcomes[0]!.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm1-again', 'm3']);
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body).text).toContain('3 similar findings');
    expect(sink.letters).toEqual([]);
  });

  it('retries the members of a failed digest whose budget lasts and dead-letters those whose budget is spent', async () => {
    // Prepare
    const [a, b] = await heldJobs(2);
    receiver.respondWith(() => ({ status: 503, body: 'busy' }));
    const sink = collectingSink();
    // Act
    const outcomes = await deliverQueued([message('fresh', a!, 1), message('spent', b!, 5)], deps(sink));
    // Assess
    expect(outcomes.map((o) => [o.kind, o.messages.map((m) => m.id)])).toEqual([
      ['dead-lettered', ['spent']],
      ['retry', ['fresh']],
    ]);
    expect(sink.letters).toHaveLength(1);
    expect(sink.letters[0]).toMatchObject({ stage: 'deliver', target: 'slack', idempotencyKey: b!.idempotencyKey, reason: expect.stringContaining('503') });
  });

  it('hands a message back rather than drop it when its dead letter cannot be sent', async () => {
    // Prepare
    const sink = {
      deadLetter: async () => {
        throw new Error('SQS unavailable');
      },
    };
    // Act
    const outcomes = await deliverQueued([message('poison', '{"digest":{}}')], deps(sink));
    // Assess
    expect(outcomes).toEqual([
      expect.objectContaining({ kind: 'retry', messages: [expect.objectContaining({ id: 'poison' })], reason: expect.stringMatching(/^dead letter not sent \(SQS unavailable\): delivery job invalid: \$\.target: /) }),
    ]);
  });
});
