import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMalformed, expectedTsv } from '../../../scripts/make-malformed.ts';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { readInputs } from '../../../shared/cli/inputs.ts';
import { ingest } from '../../../shared/pipeline.ts';
import { validateEvent } from '../../../shared/validate.ts';
import { renderableTargets } from '../../helpers/all-targets.ts';
import { loadEvent } from '../../helpers/findings.ts';

/**
 * The bad-input corpus (test/events/malformed, ≥ 50 files): each one rejected with a
 * reason naming the JSON path written down in expected.tsv (or ignored, or refused as
 * invalid JSON), nothing thrown, nothing overflowed, no prototype touched — and a replay
 * of the whole folder with one good event among them still delivers the good one.
 */
const DIR = join(import.meta.dirname, '../../events/malformed');
const BIN = join(import.meta.dirname, '../../../bin/findings-router.mjs');

interface Expectation {
  file: string;
  outcome: 'rejected' | 'ignored' | 'invalid-json';
  path: string;
}

const expectations: Expectation[] = readFileSync(join(DIR, 'expected.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [file, outcome, path] = line.split('\t');
    return { file: file!, outcome: outcome as Expectation['outcome'], path: path ?? '' };
  });

/** What replay's reader does with a `.json` file: one event, or each element of an array. */
const eventsIn = (text: string): unknown[] | 'invalid-json' => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'invalid-json';
  }
  return Array.isArray(parsed) ? parsed : [parsed];
};

const goodEvent = (id: string) => {
  const event = structuredClone(loadEvent('published/ssh-bruteforce.sample.eventbridge.json')) as Record<string, any>;
  event.detail.id = id;
  return event;
};

describe('malformed corpus: the files', () => {
  it('holds at least 50 events, exactly what scripts/make-malformed.ts generates', () => {
    // Prepare
    const built = buildMalformed();
    const onDisk = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
    // Assess
    expect(built.length).toBeGreaterThanOrEqual(50);
    expect(onDisk).toEqual(built.map((c) => `${c.name}.json`).sort());
    for (const c of built) expect(readFileSync(join(DIR, `${c.name}.json`)).equals(Buffer.from(c.content)), c.name).toBe(true);
    expect(readFileSync(join(DIR, 'expected.tsv'), 'utf8')).toBe(expectedTsv(built));
  });

  it('covers every family: oversized, 5,000 levels deep, prototype keys, duplicate keys, surrogates, BOM, letters', () => {
    // Prepare
    const names = expectations.map((e) => e.file);
    const sizes = names.map((name) => readFileSync(join(DIR, name)).length);
    // Assess
    expect(Math.max(...sizes)).toBeGreaterThan(250 * 1024);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024);
    expect(readFileSync(join(DIR, 'deep-object-in-instance-id.json'), 'utf8')).toContain('{"a":'.repeat(5_000));
    for (const family of ['proto', 'constructor', 'duplicate', 'surrogate', 'bom', 'letter', 'overflows', 'nan', 'top-level', 'ignored']) {
      expect(names.some((n) => n.includes(family)), family).toBe(true);
    }
  });
});

describe('malformed corpus: validateEvent', () => {
  it.each(expectations)('$file → $outcome $path', ({ file, outcome, path }) => {
    // Prepare
    const events = eventsIn(readFileSync(join(DIR, file), 'utf8'));
    // Assess: unparseable files are the reader's to refuse
    if (events === 'invalid-json') {
      expect(outcome).toBe('invalid-json');
      return;
    }
    expect(outcome).not.toBe('invalid-json');
    expect(events.length).toBeGreaterThan(0);
    for (const input of events) {
      // Act
      const result = validateEvent(input);
      // Assess
      expect(result.kind).toBe(outcome);
      if (result.kind === 'rejected') {
        expect(result.path).toBe(path);
        expect(result.reason.startsWith(`${path}: `)).toBe(true);
        expect(result.reason.length).toBeLessThan(2_000);
      }
      if (result.kind === 'ignored') expect(result.reason).toMatch(/^not a GuardDuty finding event \(source .*, detail-type .*\)$/);
    }
  });

  it('leaves every prototype alone', async () => {
    // Act
    for (const { file } of expectations) {
      const events = eventsIn(readFileSync(join(DIR, file), 'utf8'));
      if (events !== 'invalid-json') for (const input of events) await ingest(input, staticAccountDirectory(new Map()));
    }
    // Assess
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).severity).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('rejects what the reader refused too: replay reads every file to exactly one item with a $-path reason', async () => {
    // Act
    const items = [];
    for await (const item of readInputs([DIR])) items.push(item);
    // Assess: one item per file (the deep array file holds one element)
    expect(items).toHaveLength(expectations.length);
    for (const item of items) {
      const expectation = expectations.find((e) => item.source.endsWith(e.file) || item.source.endsWith(`${e.file}[0]`))!;
      expect(expectation, item.source).toBeDefined();
      if (expectation.outcome === 'invalid-json') expect(item.error).toMatch(/^invalid JSON: /);
      else expect(item.error).toBeUndefined();
    }
  });
});

describe('malformed corpus: odd but valid events are accepted and render everywhere', () => {
  const { targets } = renderableTargets();
  const odd: [string, (e: Record<string, any>) => void][] = [
    ['lone surrogates in the title, region and a tag; a surrogate pair in the id', (e) => {
      e.detail.id = 'f0b37a7d\uD83D\uDE00';
      e.detail.title = 'title \uDBFF end';
      e.detail.region = 'us-east-1\uDC00';
      e.detail.resource.instanceDetails.tags[0] = { key: '\uD83D', value: '\uDE00' };
    }],
    ['a BOM, NUL and bidi overrides in the text', (e) => {
      e.detail.title = '\uFEFFtitle\u0000\u202Egnp.exe';
      e.detail.description = '\u0000\u0007\u001b[2J\u2028\u2029';
    }],
    ['__proto__ and constructor keys inside the finding', (e) => {
      Object.defineProperty(e.detail, '__proto__', { value: { severity: 10, polluted: true }, enumerable: true, configurable: true, writable: true });
      e.detail.resource.constructor = { prototype: { polluted: true } };
    }],
    ['huge and tiny numbers where numbers are free', (e) => {
      e.detail.service.count = 1e308;
      e.detail.confidence = Number.MIN_VALUE;
      e.detail.service.action.networkConnectionAction.remotePortDetails.port = -0;
    }],
    ['additionalInfo nested up to the depth limit', (e) => {
      let node: Record<string, unknown> = {};
      e.detail.service.additionalInfo = node;
      for (let i = 0; i < 60; i++) node = (node.a = {}) as Record<string, unknown>;
    }],
    ['epoch timestamps far out of range', (e) => {
      e.detail.createdAt = -8.64e15;
      e.detail.updatedAt = 1e300;
    }],
  ];

  it.each(odd)('%s', async (_label, edit) => {
    // Prepare
    const event = goodEvent('f0b37a7d5504bba0ec3493e776a0c54f');
    edit(event);
    // Act
    const ingested = await ingest(event, staticAccountDirectory(new Map()));
    // Assess
    expect(ingested.kind).toBe('enriched');
    if (ingested.kind !== 'enriched') return;
    for (const target of targets) {
      const payload = target.render(ingested.enriched);
      expect(typeof payload.body, target.type).toBe('string');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('malformed corpus: replay of the whole folder', () => {
  it('delivers the good events among the bad: the folder, a batch with bad lines around a good one, and one good event', { timeout: 60_000 }, () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'malformed-replay-'));
    const out = join(dir, 'delivered.ndjson');
    writeFileSync(join(dir, 'routes.yml'), `targets:\n  out: { type: file, path: "${out}" }\ndefault: { targets: [out] }\nroutes: []\n`);
    writeFileSync(join(dir, 'good.json'), JSON.stringify(goodEvent('good00000000000000000000000000001')));
    const batch = [
      readFileSync(join(DIR, 'finding-severity-string.json'), 'utf8').replace(/\n\s*/g, ''),
      'this line is not JSON',
      JSON.stringify(goodEvent('good00000000000000000000000000002')),
      readFileSync(join(DIR, 'deep-object-in-instance-id.json'), 'utf8').trim(),
      readFileSync(join(DIR, 'oversized-type.json'), 'utf8').trim(),
      'null',
    ];
    writeFileSync(join(dir, 'batch.ndjson'), `${batch.join('\n')}\n`);
    // Act
    const result = spawnSync(
      process.execPath,
      [BIN, 'replay', '--json', '--routes', join(dir, 'routes.yml'), DIR, join(dir, 'batch.ndjson'), join(dir, 'good.json')],
      { cwd: dir, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    // Assess
    expect(result.status, result.stderr).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(records).toHaveLength(expectations.length + batch.length + 1);
    const good = records.filter((r) => String(r.findingId).startsWith('good'));
    expect(good.map((r) => [r.findingId, r.outcome])).toEqual([
      ['good00000000000000000000000000002', 'routed'],
      ['good00000000000000000000000000001', 'routed'],
    ]);
    for (const record of records.filter((r) => !String(r.findingId).startsWith('good'))) {
      expect(['rejected', 'ignored'], record.source).toContain(record.outcome);
      if (record.outcome === 'rejected') expect(record.reason, record.source).toMatch(/^\$/);
    }
    const delivered = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(delivered.map((d) => d.finding.id)).toEqual(['good00000000000000000000000000002', 'good00000000000000000000000000001']);
  });
});
