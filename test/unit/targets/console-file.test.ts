import { actorFacts, actorSummary } from '../../../shared/actor-summary.ts';
import { withHostileActor } from '../../helpers/hostile-actor.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { EnrichedFindingSchema, type EnrichedFinding } from '../../../schemas/enriched.ts';
import { DeliveryError } from '../../../shared/errors.ts';
import { consoleTarget, renderConsole } from '../../../shared/targets/console.ts';
import { fileTarget } from '../../../shared/targets/file.ts';
import type { DeliveryContext, TargetContext } from '../../../shared/targets/types.ts';
import { enrichedFrom, FILLER_SHIFTS, HOSTILE, hostileAccount, hostileFinding, loadFinding } from '../../helpers/findings.ts';
import { findingJob, targetContext } from '../../helpers/target-contract.ts';

const REPRESENTATIVE: { name: string; file: string; account?: Parameters<typeof enrichedFrom>[1] }[] = [
  {
    name: 'ssh-bruteforce',
    file: 'targets/ssh-bruteforce.sample.eventbridge.json',
    account: { name: 'security-sandbox', email: 'secops@example.com', tags: { owner: 'secops', env: 'sandbox' } },
  },
  {
    name: 'iam-accesskey',
    file: 'targets/iam-stealth-loggingconfigurationmodified.sample.eventbridge.json',
    account: { name: 'payments-prod', ou: 'Root/Workloads/Prod', tags: { owner: 'payments', env: 'prod' } },
  },
  { name: 's3-bucket', file: 'targets/s3-pentest-parrotlinux.sample.detail.json', account: { name: 'data-lake', email: 'data@example.com', tags: {} } },
  { name: 'unknown-type', file: 'targets/unknown-type-no-resource.COMPOSED.detail.json' },
];

/** Captures what a target writes on "stdout". */
const captureStdout = (): { stream: Writable; text: () => string } => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
};

const context = (stdout: NodeJS.WritableStream = process.stdout): TargetContext => targetContext({ stdout });
const delivery: DeliveryContext = { idempotencyKey: 'key-1', attempt: 1, deadline: Date.now() + 60_000 };

/** Control characters a terminal acts on (C0 but tab and LF, DEL, C1) and the Unicode line/paragraph separators. */
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

/** The JSON a reader gets back: the enriched finding without `undefined`s. */
const asJson = (enriched: EnrichedFinding): unknown => JSON.parse(JSON.stringify(enriched));

const tempDirs: string[] = [];
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'findings-router-file-target-'));
  tempDirs.push(dir);
  return dir;
};

describe('Target: console', () => {
  it.each(REPRESENTATIVE.map((entry) => entry.name))('renders %s as in test/golden/console', async (name) => {
    // Prepare
    const entry = REPRESENTATIVE.find((candidate) => candidate.name === name)!;
    const enriched = await enrichedFrom(loadFinding(entry.file), entry.account);

    // Act
    const text = renderConsole(enriched);

    // Assess
    await expect(text).toMatchFileSnapshot(`../../golden/console/${name}.txt`);
    // Five fixed lines, one per actor fact (what, from, ..., seen), and the final newline.
    expect(text.split('\n')).toHaveLength(6 + actorFacts(actorSummary(enriched.finding)).length);
    expect(text).toMatch(/\n {2}seen (?:first \S+, )?(?:last \S+, )?\d+ times?\n/);
  });

  it('send() writes the rendered text to the context stdout', async () => {
    // Prepare
    const stdout = captureStdout();
    const target = consoleTarget.create('chat', { type: 'console' }, context(stdout.stream));
    const enriched = await enrichedFrom(loadFinding(REPRESENTATIVE[0]!.file), REPRESENTATIVE[0]!.account);
    const payload = target.render(enriched);

    // Act
    await target.send({ payload, finding: enriched, ...delivery });

    // Assess
    expect(payload).toMatchObject({ contentType: 'text/plain; charset=utf-8', extension: 'txt' });
    expect(stdout.text()).toBe(renderConsole(enriched));
  });

  it.each(Array.from({ length: FILLER_SHIFTS }, (_, shift) => shift))(
    'hostile finding: no escape sequence, no CR, one line per fact (shift %i)',
    async (shift) => {
      // Prepare
      const enriched = await enrichedFrom(withHostileActor(hostileFinding({ shift })), hostileAccount());

      // Act
      const text = renderConsole(enriched);

      // Assess
      expect(text).not.toContain('\u001b');
      expect(text).not.toContain('\u009b');
      expect(text).not.toContain('\r');
      expect(text).not.toMatch(TERMINAL_CONTROL);
      expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      const lines = text.split('\n');
      expect(lines).toHaveLength(6 + 6);
      expect(lines.at(-1)).toBe('');
      expect(lines[0]).toMatch(/^\[HIGH 8\.9\] Backdoor:EC2\//);
      expect(lines.at(-2)).toBe(`  ${enriched.enrichment.consoleUrl}`);
      expect(lines.slice(4, 10).map((line) => line.split(' ')[2])).toEqual(['what', 'from', 'caller', 'process', 'container', 'seen']);
      expect(lines[4]).toContain(`what AWS API call: ListBuckets${HOSTILE.here} on s3.amazonaws.com`);
      expect(lines[5]).toContain('from 203.0.113.252, Bucharest[31mRED[0ma b c, Romania');
      // Still readable: the text is kept, only the control characters are gone.
      expect(lines[1]).toContain(`${HOSTILE.channel} ${HOSTILE.here} ${HOSTILE.user}`);
      expect(lines[1]).toContain('[31mRED[0m');
    },
  );
});

describe('Target: file', () => {
  it('appends exactly one NDJSON line per send, each the enriched finding with unknown fields kept', async () => {
    // Prepare
    const path = join(await tempDir(), 'out', 'siem.ndjson');
    const target = fileTarget.create('siem', { type: 'file', path }, context());
    const plain = await enrichedFrom(
      { ...loadFinding(REPRESENTATIVE[0]!.file), futureField: { x: 1 } },
      REPRESENTATIVE[0]!.account,
    );
    const hostile = await enrichedFrom(hostileFinding(), hostileAccount());

    // Act
    await target.send(findingJob(target, plain, delivery));
    const afterFirst = await readFile(path, 'utf8');
    await target.send(findingJob(target, hostile, delivery));
    const afterSecond = await readFile(path, 'utf8');

    // Assess
    expect(afterFirst.endsWith('\n')).toBe(true);
    expect(afterFirst.split('\n')).toHaveLength(2);
    expect(afterSecond.startsWith(afterFirst)).toBe(true);
    const lines = afterSecond.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const parsed = lines.slice(0, 2).map((line) => JSON.parse(line) as unknown);
    expect(parsed[0]).toEqual(asJson(plain));
    expect(parsed[1]).toEqual(asJson(hostile));
    expect((parsed[0] as { finding: { futureField: unknown } }).finding.futureField).toEqual({ x: 1 });
    expect((parsed[1] as { finding: { futureField: unknown } }).finding.futureField).toEqual({ x: 1 });
    expect(z.safeParse(EnrichedFindingSchema, parsed[1]).success).toBe(true);
    // The finding is untouched: hostile strings come back byte for byte (CR, LF, U+2028, ESC included).
    expect((parsed[1] as EnrichedFinding).finding.description).toBe(hostile.finding.description);
  });

  it('render() is one JSON line ending in LF, whatever the finding contains', async () => {
    // Prepare
    const target = fileTarget.create('siem', { type: 'file', path: 'unused.ndjson' }, context());
    const hostile = await enrichedFrom(hostileFinding(), hostileAccount());

    // Act
    const payload = target.render(hostile);

    // Assess
    expect(payload).toMatchObject({ contentType: 'application/x-ndjson', extension: 'ndjson' });
    expect(payload.body.indexOf('\n')).toBe(payload.body.length - 1);
    expect(payload.body).not.toContain('\r');
    expect(JSON.parse(payload.body)).toEqual(asJson(hostile));
  });

  it('a path that is a directory is a permanent DeliveryError', async () => {
    // Prepare
    const dir = await tempDir();
    const target = fileTarget.create('siem', { type: 'file', path: dir }, context());
    const enriched = await enrichedFrom(loadFinding(REPRESENTATIVE[3]!.file));

    // Act
    const sending = target.send(findingJob(target, enriched, delivery));

    // Assess
    await expect(sending).rejects.toBeInstanceOf(DeliveryError);
    await expect(sending).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('EISDIR') });
  });
});
