import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoFindingState } from '../../shared/aws/dynamo-finding-state.ts';
import { dynamoLedger } from '../../shared/aws/dynamo-ledger.ts';
import { idempotentDelivery } from '../../shared/delivery/idempotency.ts';
import { makeJob } from '../../shared/delivery/job.ts';
import { enrich, makeFinding } from '../helpers/finding-factory.ts';
import { startDynalite } from '../helpers/dynalite.ts';

/** The DynamoDB adapters against dynalite, which speaks the DynamoDB wire protocol. */
let dynamo: Awaited<ReturnType<typeof startDynalite>>;

beforeAll(async () => {
  process.env.AWS_LAMBDA_FUNCTION_NAME ??= 'findings-router-deliver';
  dynamo = await startDynalite();
  await dynamo.createTable('state', 'findingKey');
  await dynamo.createTable('idempotency', 'id');
});
afterAll(async () => dynamo?.close());

const snap = (minute: number, count: number, severity = 5) => ({ updatedAtMs: Date.UTC(2026, 10, 1, 10, minute), count, severity });

describe('DynamoDB: finding high-water mark', () => {
  it('moves only forward and tells first, newer, same and stale apart', async () => {
    // Prepare
    const state = dynamoFindingState(dynamo.client, 'state');
    // Act
    const relations = [
      await state.advance('f1', snap(0, 1)),
      await state.advance('f1', snap(0, 1)),
      await state.advance('f1', snap(15, 2, 8)),
      await state.advance('f1', snap(15, 2, 8)),
      await state.advance('f1', snap(5, 1)),
      await state.advance('f1', snap(15, 3)),
    ];
    // Assess
    expect(relations).toEqual([
      { relation: 'first' },
      { relation: 'same' },
      { relation: 'newer', previous: snap(0, 1) },
      { relation: 'same', previous: snap(0, 1) },
      { relation: 'stale', previous: snap(15, 2, 8) },
      { relation: 'newer', previous: snap(15, 2, 8) },
    ]);
  });

  it('lets exactly one of many concurrent writers of the same update win', async () => {
    // Prepare
    const state = dynamoFindingState(dynamo.client, 'state');
    // Act
    const results = await Promise.all(Array.from({ length: 8 }, () => state.advance('f2', snap(1, 1))));
    // Assess
    expect(results.filter((r) => r.relation === 'first')).toHaveLength(1);
    expect(results.filter((r) => r.relation === 'same')).toHaveLength(7);
  });

  it('remembers the last notification time for repeat intervals', async () => {
    // Prepare
    const state = dynamoFindingState(dynamo.client, 'state');
    await state.advance('f3', snap(0, 1));
    // Act
    await state.markNotified('f3', 1_000);
    await state.markNotified('f3', 500);
    const next = await state.advance('f3', snap(10, 2));
    // Assess
    expect(next.lastNotifiedAtMs).toBe(1_000);
  });
});

describe('DynamoDB: target ledger', () => {
  it('agrees on one remote record when two first deliveries race', async () => {
    // Prepare
    const ledger = dynamoLedger(dynamo.client, 'state');
    // Act
    const stored = await Promise.all([ledger.putIfAbsent('jira#k', 'SEC-1'), ledger.putIfAbsent('jira#k', 'SEC-2')]);
    // Assess
    expect(stored[0]).toBe(stored[1]);
    expect(await ledger.get('jira#k')).toBe(stored[0]);
  });
});

describe('DynamoDB: idempotent delivery', () => {
  it('runs a job once for concurrent duplicates; the loser sees it in progress and can retry later', async () => {
    // Prepare
    const store = new DynamoDBPersistenceLayer({ tableName: 'idempotency', awsSdkV3Client: dynamo.client });
    const job = makeJob('hook', await enrich(makeFinding({ id: 'c'.repeat(32) })), ['r']);
    let sends = 0;
    const once = idempotentDelivery(async () => {
      sends++;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { status: 'delivered', attempts: 1 };
    }, store);
    // Act
    const results = await Promise.allSettled([once(job), once(job)]);
    const later = await once(job);
    // Assess
    expect(sends).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.name).toBe('IdempotencyAlreadyInProgressError');
    expect(later).toMatchObject({ status: 'delivered', duplicate: true });
  });

  it('refuses a job without an idempotency key instead of delivering unprotected', async () => {
    // Prepare
    const store = new DynamoDBPersistenceLayer({ tableName: 'idempotency', awsSdkV3Client: dynamo.client });
    const job = { ...makeJob('hook', await enrich(makeFinding({ id: 'd'.repeat(32) })), ['r']), idempotencyKey: undefined as unknown as string };
    let sends = 0;
    const once = idempotentDelivery(async () => {
      sends++;
      return { status: 'delivered', attempts: 1 };
    }, store);
    // Act
    const error = await once(job).catch((e: Error) => e);
    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(sends).toBe(0);
  });
});
