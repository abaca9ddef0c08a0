import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { enrichFinding } from '../../../shared/enrich.ts';
import { jsonDocument, renderJsonFormat } from '../../../shared/formats/json-formats.ts';
import { OCSF_STRING_MAX_BYTES, toOcsf } from '../../../shared/formats/ocsf.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { validateEvent } from '../../../shared/validate.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { makeFinding } from '../../helpers/finding-factory.ts';
import { REPRESENTATIVE_ACCOUNTS, representativeFindings } from '../../helpers/representative.ts';

const SAMPLES = join(import.meta.dirname, '../../events/samples');

/** Every sample event in the corpus, validated and enriched the way the pipeline does it. */
const sampleCorpus = async (): Promise<[string, EnrichedFinding][]> => {
  const directory = staticAccountDirectory(REPRESENTATIVE_ACCOUNTS);
  const files = readdirSync(SAMPLES).filter((file) => file.endsWith('.json')).sort();
  const pairs: [string, EnrichedFinding][] = [];
  for (const file of files) {
    const result = validateEvent(JSON.parse(readFileSync(join(SAMPLES, file), 'utf8')));
    if (result.kind !== 'finding') throw new Error(`${file} does not validate`);
    pairs.push([file, await enrichFinding(result.finding, directory)]);
  }
  return pairs;
};

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);
const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isTimestamp = (value: unknown): boolean => isInt(value) && value > Date.UTC(2000, 0, 1) && value < Date.UTC(2100, 0, 1);
const optional = (value: unknown, check: (v: unknown) => boolean): boolean => value === undefined || check(value);

/**
 * The OCSF 1.1.0 Detection Finding contract, checked attribute by attribute: the base-event
 * required attributes, `finding_info` (uid and title required), the cloud profile (provider
 * required) and the types of every attribute this mapping writes.
 */
const assertDetectionFinding = (doc: Record<string, unknown>, enriched: EnrichedFinding): void => {
  const { finding, enrichment } = enriched;
  expect(doc.class_uid).toBe(2004);
  expect(doc.class_name).toBe('Detection Finding');
  expect(doc.category_uid).toBe(2);
  expect(doc.category_name).toBe('Findings');
  expect([1, 2]).toContain(doc.activity_id);
  expect(doc.activity_name).toBe(doc.activity_id === 1 ? 'Create' : 'Update');
  expect(doc.type_uid).toBe(2004 * 100 + (doc.activity_id as number));
  expect(doc.type_name).toBe(`Detection Finding: ${doc.activity_name}`);
  const severityIds = { low: 2, medium: 3, high: 4, critical: 5 } as const;
  expect(doc.severity_id).toBe(severityIds[enrichment.severityLabel]);
  expect(doc.severity).toBe(['Unknown', 'Informational', 'Low', 'Medium', 'High', 'Critical'][doc.severity_id as number]);
  expect([1, 3]).toContain(doc.status_id);
  expect(isTimestamp(doc.time), 'time').toBe(true);
  expect(optional(doc.start_time, isTimestamp), 'start_time').toBe(true);
  expect(optional(doc.end_time, isTimestamp), 'end_time').toBe(true);
  expect(isInt(doc.count) && (doc.count as number) >= 1, 'count').toBe(true);
  expect(isString(doc.message), 'message').toBe(true);

  const info = doc.finding_info as Record<string, unknown>;
  expect(info.uid).toBe(finding.arn);
  expect(isString(info.title), 'finding_info.title').toBe(true);
  expect(optional(info.desc, (v) => typeof v === 'string'), 'finding_info.desc').toBe(true);
  expect(info.types).toEqual([finding.type]);
  for (const key of ['created_time', 'modified_time', 'first_seen_time', 'last_seen_time']) {
    expect(optional(info[key], isTimestamp), `finding_info.${key}`).toBe(true);
  }
  expect(isTimestamp(info.created_time), 'created_time present').toBe(true);
  expect(info.src_url).toBe(enrichment.consoleUrl);
  expect(String(info.src_url)).toMatch(/^https:\/\/console\.aws\.amazon\.com\/guardduty\//);

  const cloud = doc.cloud as { provider: unknown; region: unknown; account: Record<string, unknown> };
  expect(cloud.provider).toBe('AWS');
  expect(cloud.region).toBe(finding.region);
  expect(cloud.account.uid).toMatch(/^\d{12}$/);
  expect(cloud.account.type_id).toBe(10);
  expect(cloud.account.type).toBe('AWS Account');
  expect(optional(cloud.account.name, isString), 'cloud.account.name').toBe(true);

  const resources = doc.resources as Record<string, unknown>[];
  expect(Array.isArray(resources) && resources.length > 0, 'resources').toBe(true);
  for (const resource of resources) {
    expect(isString(resource.type), 'resource.type').toBe(true);
    expect(optional(resource.uid, isString), 'resource.uid').toBe(true);
    expect(optional(resource.name, isString), 'resource.name').toBe(true);
    expect(resource.region).toBe(finding.region);
    expect(optional(resource.labels, (v) => Array.isArray(v) && v.every((l) => typeof l === 'string')), 'resource.labels').toBe(true);
  }
  for (const observable of (doc.observables as Record<string, unknown>[] | undefined) ?? []) {
    expect(observable.type_id).toBe(2);
    expect(isIP(String(observable.value))).not.toBe(0);
  }

  const metadata = doc.metadata as { version: unknown; product: Record<string, unknown>; profiles: unknown };
  expect(metadata.version).toBe('1.1.0');
  expect(metadata.product).toEqual({ name: 'GuardDuty', vendor_name: 'AWS' });
  expect(metadata.profiles).toEqual(['cloud']);
  expect((doc.unmapped as Record<string, unknown>).finding_id).toBe(finding.id);
  // Serialisable as is: no undefined, NaN or functions hide in the document.
  expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
};

describe('Format: ocsf', () => {
  describe('golden documents', async () => {
    const pairs = await representativeFindings();
    it.each(pairs)('%s maps to the golden Detection Finding', async (name, enriched) => {
      // Prepare + Act
      const doc = toOcsf(enriched);

      // Assess
      await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot(`../../golden/ocsf/${name}.json`);
      assertDetectionFinding(doc as unknown as Record<string, unknown>, enriched);
    });
  });

  describe('sample corpus', () => {
    it('maps every sample finding to a Detection Finding with the required OCSF attributes and types', async () => {
      // Prepare
      const corpus = await sampleCorpus();

      // Act
      const docs = corpus.map(([file, enriched]) => [file, toOcsf(enriched), enriched] as const);

      // Assess
      expect(docs.length).toBeGreaterThanOrEqual(250);
      for (const [file, doc, enriched] of docs) {
        try {
          assertDetectionFinding(doc as unknown as Record<string, unknown>, enriched);
        } catch (error) {
          throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
        }
      }
    });
  });

  describe('mapping', () => {
    it.each([
      [1, 'Create', 200401],
      [2, 'Update', 200402],
      [40, 'Update', 200402],
    ])('count %s is a %s activity (type_uid %s)', async (count, activity, typeUid) => {
      // Prepare
      const enriched = await enrichedFrom(makeFinding({ service: { serviceName: 'guardduty', count } }));

      // Act
      const doc = toOcsf(enriched);

      // Assess
      expect(doc.activity_name).toBe(activity);
      expect(doc.type_uid).toBe(typeUid);
    });

    it.each([
      [1.0, 2, 'Low'],
      [3.9, 2, 'Low'],
      [4.0, 3, 'Medium'],
      [6.9, 3, 'Medium'],
      [7.0, 4, 'High'],
      [8.9, 4, 'High'],
      [9.0, 5, 'Critical'],
      [10, 5, 'Critical'],
    ])('GuardDuty severity %s is severity_id %s (%s)', async (severity, id, caption) => {
      // Prepare
      const enriched = await enrichedFrom(makeFinding({ severity }));

      // Act
      const doc = toOcsf(enriched);

      // Assess
      expect(doc.severity_id).toBe(id);
      expect(doc.severity).toBe(caption);
      expect(doc.unmapped.severity_score).toBe(severity);
    });

    it('reads epoch-second and epoch-millisecond timestamps, and marks archived findings Suppressed', async () => {
      // Prepare
      const enriched = await enrichedFrom(
        makeFinding({
          createdAt: 1_780_000_000,
          updatedAt: 1_780_000_123_456,
          service: { serviceName: 'guardduty', archived: true, eventFirstSeen: '2026-05-28T20:26:40Z', eventLastSeen: 1_780_000_100 },
        }),
      );

      // Act
      const doc = toOcsf(enriched);

      // Assess
      expect(doc.finding_info.created_time).toBe(1_780_000_000_000);
      expect(doc.finding_info.modified_time).toBe(1_780_000_123_456);
      expect(doc.time).toBe(1_780_000_123_456);
      expect(doc.start_time).toBe(Date.parse('2026-05-28T20:26:40Z'));
      expect(doc.end_time).toBe(1_780_000_100_000);
      expect(doc.status).toBe('Suppressed');
      expect(doc.status_id).toBe(3);
    });

    it('keeps hostile strings as data: the JSON round-trips exactly', async () => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());

      // Act
      const text = renderJsonFormat(enriched, 'ocsf');
      const doc = JSON.parse(text) as ReturnType<typeof toOcsf>;

      // Assess
      expect(doc.finding_info.title).toBe(enriched.finding.title);
      expect(doc.finding_info.desc).toBe(enriched.finding.description);
      expect(doc.cloud.account.name).toBe(enriched.enrichment.account.name);
      expect(doc.resources.map((resource) => resource.type)).toEqual(['AwsEc2Instance', 'AwsS3Bucket']);
    });
  });

  describe('renderJsonFormat', () => {
    it('renders raw, enriched and ocsf documents as compact JSON', async () => {
      // Prepare
      const enriched = await enrichedFrom({ ...makeFinding(), futureField: { kept: true } });

      // Act
      const [raw, full, ocsf] = (['raw', 'enriched', 'ocsf'] as const).map((format) => renderJsonFormat(enriched, format));

      // Assess
      expect(JSON.parse(raw!)).toEqual(JSON.parse(JSON.stringify(enriched.finding)));
      expect(JSON.parse(raw!).futureField).toEqual({ kept: true });
      expect(JSON.parse(full!)).toEqual(JSON.parse(JSON.stringify(enriched)));
      expect(JSON.parse(ocsf!)).toEqual(JSON.parse(JSON.stringify(toOcsf(enriched))));
      expect(raw).not.toContain('\n');
      expect(jsonDocument(enriched)).toBe(enriched);
    });
  });

  describe('string limits and times', () => {
    it('cuts a description longer than OCSF string_t (65,535 UTF-8 bytes) with the marker, and every other string too', async () => {
      // Prepare: multi-byte text, so a character cap alone would not be enough.
      const long = 'é'.repeat(70_000);
      const enriched = await enrichedFrom(makeFinding({ description: long, title: `T${'€'.repeat(40_000)}` }));

      // Act
      const doc = toOcsf(enriched);

      // Assess
      const desc = doc.finding_info.desc!;
      expect(Buffer.byteLength(desc, 'utf8')).toBeLessThanOrEqual(OCSF_STRING_MAX_BYTES);
      expect(Buffer.byteLength(desc, 'utf8')).toBeGreaterThan(OCSF_STRING_MAX_BYTES - 8);
      expect(desc.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(desc.startsWith('éé')).toBe(true);
      expect(Buffer.byteLength(doc.message, 'utf8')).toBeLessThanOrEqual(OCSF_STRING_MAX_BYTES);
      expect(doc.finding_info.title.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(enriched.finding.description).toBe(long);
    });

    it('leaves a string of exactly the limit alone', async () => {
      // Prepare
      const exact = 'a'.repeat(OCSF_STRING_MAX_BYTES);

      // Act
      const doc = toOcsf(await enrichedFrom(makeFinding({ description: exact })));

      // Assess
      expect(doc.finding_info.desc).toBe(exact);
    });

    it.each([
      ['epoch seconds', 1_744_000_000, 1_744_000_000.5],
      ['epoch milliseconds', 1_744_000_000_000, 1_744_000_000_500],
      ['ISO strings', '2025-04-07T04:26:40.000Z', '2025-04-07T04:26:40.500Z'],
    ])('times GuardDuty sends as %s come out as the same epoch milliseconds', async (_, createdAt, updatedAt) => {
      // Prepare
      const enriched = await enrichedFrom(makeFinding({ createdAt, updatedAt } as never));

      // Act
      const doc = toOcsf(enriched);

      // Assess
      expect(doc.finding_info.created_time).toBe(1_744_000_000_000);
      expect(doc.time).toBe(1_744_000_000_500);
      expect(enriched.finding.createdAt).toBe(createdAt);
    });
  });
});
