import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqsPort } from '../../shared/aws/queues.ts';
import { sqsJobSink } from '../../shared/aws/sqs-job-sink.ts';
import { parseConfig } from '../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../shared/config/routes-config.ts';
import type { DeliveryJob } from '../../shared/delivery/job.ts';
import { memoryJobSink } from '../../shared/cli/delivery/memory-sink.ts';
import type { DeadLetter, JobSink } from '../../shared/delivery/sink.ts';
import { dispatch, route } from '../../shared/pipeline.ts';
import { memoryFindingState } from '../../shared/state/finding-state.ts';
import { startAwsLoopback, type AwsLoopback } from '../helpers/aws-loopback.ts';
import { enrich, makeFinding } from '../helpers/finding-factory.ts';

/**
 * One contract, two homes: whatever the pipeline decides (deliver now, hold for a digest,
 * dead-letter with a reason) comes out the same from the in-memory sink (replay) and the
 * SQS sink (Lambda, against a loopback speaking the SQS wire protocol).
 */
interface Observed {
  now: DeliveryJob[];
  held: DeliveryJob[];
  letters: DeadLetter[];
}

interface Home {
  name: string;
  sink(options: { canHold: boolean }): JobSink;
  observe(): Promise<Observed>;
}

let aws: AwsLoopback;
beforeAll(async () => {
  aws = await startAwsLoopback({ queues: ['delivery', 'digest', 'delivery-dlq'] });
});
afterAll(async () => {
  await aws?.close();
});

const memoryHome = (): Home => {
  const seen: Observed = { now: [], held: [], letters: [] };
  const sinks: ReturnType<typeof memoryJobSink>[] = [];
  return {
    name: 'memory',
    sink: ({ canHold }) => {
      const sink = memoryJobSink({
        run: async (job) => {
          seen.now.push(job);
          return { duplicate: false };
        },
        hold: canHold ? async (job) => void seen.held.push(job) : undefined,
      });
      sinks.push(sink);
      return sink;
    },
    observe: async () => ({ ...seen, letters: sinks.flatMap((sink) => sink.letters) }),
  };
};

const sqsHome = (): Home => ({
  name: 'sqs',
  sink: ({ canHold }) =>
    sqsJobSink(sqsPort(new SQSClient(aws.clientConfig)), {
      delivery: aws.queueUrl('delivery'),
      digest: canHold ? aws.queueUrl('digest') : undefined,
      deadLetter: aws.queueUrl('delivery-dlq'),
    }),
  observe: async () => {
    const bodies = (queue: string) => aws.queue(queue).messages.map((message) => JSON.parse(message.Body));
    return { now: bodies('delivery'), held: bodies('digest'), letters: bodies('delivery-dlq') };
  },
});

const config = parseConfig(
  ROUTES_CONFIG,
  [
    'targets:',
    '  slack: { type: slack, webhookUrl: { value: "https://hooks.slack.com/services/T/B/X" } }',
    '  siem: { type: file, path: /dev/null }',
    '  oncall: { type: webhook, url: "https://oncall.example.com/hook", jurisdiction: us }',
    'jurisdictions: { us: ["us-*"] }',
    'default: { targets: [siem] }',
    'routes:',
    '  - name: recon',
    '    match: { threatPurpose: Recon }',
    '    targets: [slack, siem, oncall]',
    '    group: { by: [type], window: 5m }',
  ].join('\n'),
  'sink.yml',
);

const routedRecon = async (id: string) => {
  const enriched = await enrich(makeFinding({ id, region: 'eu-west-1', type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 5 }));
  return { enriched, result: await route(enriched, { config, state: memoryFindingState() }) };
};

describe.each([
  { name: 'memory', home: memoryHome },
  { name: 'SQS', home: sqsHome },
])('Job sink contract: $name', ({ home }) => {
  beforeEach(() => {
    aws.reset();
    for (const queue of aws.queues.values()) queue.messages.length = 0;
  });

  it('holds the grouped chat job, sends the others now, dead-letters the refusal with its reason', async () => {
    // Prepare
    const place = home();
    const { enriched, result } = await routedRecon('a'.repeat(32));
    // Act
    await dispatch(enriched, result, place.sink({ canHold: true }), () => new Date('2026-12-01T00:00:00.000Z'));
    // Assess
    const seen = await place.observe();
    expect(seen.held.map((job) => job.target)).toEqual(['slack']);
    expect(seen.held[0]?.digest?.key).toBe('recon type=Recon:EC2/PortProbeUnprotectedPort');
    expect(seen.now.map((job) => job.target)).toEqual(['siem']);
    expect(seen.now[0]).toEqual(JSON.parse(JSON.stringify(result.jobs.find((job) => job.target === 'siem'))));
    expect(seen.letters).toEqual([
      {
        stage: 'route',
        reason: "jurisdiction: region eu-west-1 is outside jurisdiction 'us' of target 'oncall'",
        target: 'oncall',
        findingId: 'a'.repeat(32),
        payload: { finding: { id: 'a'.repeat(32), accountId: '111111111111', region: 'eu-west-1', type: 'Recon:EC2/PortProbeUnprotectedPort' } },
        deadLetteredAt: '2026-12-01T00:00:00.000Z',
      },
    ]);
  });

  it('sends every job now, without its digest mark, where nothing can hold it', async () => {
    // Prepare
    const place = home();
    const { enriched, result } = await routedRecon('b'.repeat(32));
    // Act
    await dispatch(enriched, result, place.sink({ canHold: false }));
    // Assess
    const seen = await place.observe();
    expect(seen.held).toEqual([]);
    expect(seen.now.map((job) => job.target).sort()).toEqual(['siem', 'slack']);
    expect(seen.now.every((job) => !('digest' in job))).toBe(true);
  });

  it('keeps every job it is given, more than one SQS batch of them, exactly as given', async () => {
    // Prepare
    const place = home();
    const sink = place.sink({ canHold: true });
    const jobs = await Promise.all(Array.from({ length: 23 }, async (_, i) => (await routedRecon(`c${String(i).padStart(31, '0')}`)).result.jobs));
    const siemJobs = jobs.flat().filter((job) => job.target === 'siem');
    // Act
    await sink.deliverNow(siemJobs);
    // Assess
    const seen = await place.observe();
    expect(seen.now).toEqual(JSON.parse(JSON.stringify(siemJobs)));
  });
});
