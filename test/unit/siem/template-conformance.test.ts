import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AccountInfo, EnrichedFinding } from '../../../schemas/enriched.ts';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { enrichFinding } from '../../../shared/enrich.ts';
import { checkDocument } from '../../helpers/siem-check-document.ts';
import { ecsMappings, type Flavor } from '../../../shared/cli/siem/index-template.ts';
import { buildBulkBody } from '../../../shared/targets/elasticsearch.ts';
import { validateEvent } from '../../../shared/validate.ts';
import { enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';

/**
 * Every document the elasticsearch target renders for the sample corpus and the published
 * findings conforms to the index template `siem setup` installs: the checker applies the
 * template's mappings field by field, as the cluster would, and any conflict fails.
 */
const EVENTS = join(import.meta.dirname, '../../events');
const corpus = (folder: string): [string, unknown][] =>
  readdirSync(join(EVENTS, folder))
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [`${folder}/${file}`, JSON.parse(readFileSync(join(EVENTS, folder, file), 'utf8'))]);

const ACCOUNTS = new Map<string, AccountInfo>([['111111111111', { id: '111111111111', known: true, name: 'payments-prod', tags: {} }]]);
const directory = staticAccountDirectory(ACCOUNTS);

const renderDocument = (enriched: EnrichedFinding): Record<string, unknown> => {
  const body = buildBulkBody(enriched, { type: 'elasticsearch', url: 'https://search.example.com' }, 'id');
  return JSON.parse(body.split('\n')[1] ?? '') as Record<string, unknown>;
};

const findingsOf = async (entries: [string, unknown][]): Promise<[string, EnrichedFinding][]> => {
  const out: [string, EnrichedFinding][] = [];
  for (const [name, event] of entries) {
    const result = validateEvent(event);
    if (result.kind === 'finding') out.push([name, await enrichFinding(result.finding, directory)]);
  }
  return out;
};

const FLAVORS: Flavor[] = ['elasticsearch', 'opensearch'];

describe('Index template conformance', () => {
  it.each(FLAVORS)('every sample and published finding renders a document the %s template maps without conflict', async (flavor) => {
    // Prepare
    const findings = await findingsOf([...corpus('samples'), ...corpus('published')]);
    const mappings = ecsMappings(flavor);

    // Act
    const problems = findings.flatMap(([name, enriched]) => checkDocument(mappings, renderDocument(enriched)).map((p) => `${name}: ${p.path}: ${p.message}`));

    // Assess
    expect(findings.length).toBeGreaterThanOrEqual(250);
    expect(problems).toEqual([]);
  });

  it('maps the remote IP location as a geo_point for the findings GuardDuty located', async () => {
    // Prepare
    const findings = await findingsOf(corpus('samples'));

    // Act
    const located = findings.map(([, enriched]) => renderDocument(enriched)).filter((doc) => (doc.source as { geo?: { location?: unknown } } | undefined)?.geo?.location);

    // Assess: the map panel has data to show.
    expect(located.length).toBeGreaterThan(50);
  });

  it('keeps findings whose fields mix types (launchTime, createdAt, asn) conforming: typed fields normalised, the raw copy as sent', async () => {
    // Prepare: the same field in the types real findings use, each in one finding.
    const base = (await findingsOf(corpus('samples').filter(([name]) => name.includes('sshbruteforce'))))[0]![1];
    const variants = [
      { launchTime: 1_744_000_000_000, createdAt: '2025-04-01T00:00:00Z', asn: '64498' },
      { launchTime: '2025-04-07T04:26:40.000Z', createdAt: 1_744_000_000, asn: 64498 },
    ].map(({ launchTime, createdAt, asn }) => {
      const finding = structuredClone(base.finding) as unknown as Record<string, any>;
      finding.resource.instanceDetails.launchTime = launchTime;
      finding.resource.s3BucketDetails = [{ name: 'b', createdAt }];
      finding.service.action.networkConnectionAction.remoteIpDetails.organization.asn = asn;
      finding.updatedAt = typeof createdAt === 'number' ? 1_744_000_000 : '2025-04-07T04:26:40.000Z';
      return { ...base, finding } as unknown as EnrichedFinding;
    });

    // Act
    const documents = variants.map(renderDocument);

    // Assess
    for (const flavor of FLAVORS) for (const document of documents) expect(checkDocument(ecsMappings(flavor), document)).toEqual([]);
    expect(documents.map((d) => d['@timestamp'])).toEqual(['2025-04-07T04:26:40.000Z', '2025-04-07T04:26:40.000Z']);
    expect(documents.map((d) => (d.source as { as: { number: unknown } }).as.number)).toEqual([64498, 64498]);
    const raw = documents.map((d) => (d.aws as { guardduty: { resource: { instanceDetails: { launchTime: unknown } } } }).guardduty.resource.instanceDetails.launchTime);
    expect(raw).toEqual([1_744_000_000_000, '2025-04-07T04:26:40.000Z']);
  });
});

describe('Index template conformance: bad input', () => {
  it('a hostile finding and one with times no date field takes still render conforming documents', async () => {
    // Prepare
    const hostile = await enrichedFrom(hostileFinding(), hostileAccount());
    const farFuture = structuredClone(hostile.finding) as unknown as Record<string, any>;
    farFuture.updatedAt = 1e15; // epoch ms in the year 33658: toISOString gives +033658-…
    farFuture.createdAt = 'not a date';
    farFuture.service.eventFirstSeen = -1e20;
    const odd = { ...hostile, finding: farFuture } as unknown as EnrichedFinding;

    // Act
    const documents = [hostile, odd].map(renderDocument);

    // Assess
    for (const flavor of FLAVORS) for (const document of documents) expect(checkDocument(ecsMappings(flavor), document)).toEqual([]);
    expect(documents[1]!['@timestamp']).toBeUndefined();
    expect((documents[1]!.aws as { guardduty: { updatedAt: unknown } }).guardduty.updatedAt).toBe(1e15);
  });
});

describe('checkDocument', () => {
  const mappings = ecsMappings('elasticsearch');
  it.each([
    ['a severity that is not a number', { event: { severity: 'high' } }, 'event.severity'],
    ['a date in epoch seconds', { '@timestamp': 1_744_000_000 }, '@timestamp'],
    ['an IP that is not one', { source: { ip: '999.1.1.1' } }, 'source.ip'],
    ['a location out of range', { source: { geo: { location: { lat: 91, lon: 0 } } } }, 'source.geo.location'],
    ['a field the template does not map', { threat: { indicator: 'x' } }, 'threat'],
    ['an object where a keyword is mapped', { rule: { name: { nested: true } } }, 'rule.name'],
    ['a scalar where the flattened finding is', { aws: { guardduty: 'text' } }, 'aws.guardduty'],
  ])('reports %s at its path', (_, document, path) => {
    // Act
    const problems = checkDocument(mappings, document);

    // Assess
    expect(problems.map((p) => p.path)).toEqual([path]);
  });

  it('reads a date by its format: epoch_millis takes a number, the ISO format does not', () => {
    // Prepare
    const both = { properties: { t: { type: 'date', format: 'strict_date_optional_time||epoch_millis' } as const } };
    const iso = { properties: { t: { type: 'date', format: 'strict_date_optional_time' } as const } };

    // Act
    const results = [checkDocument(both, { t: 1_744_000_000_000 }), checkDocument(both, { t: '2025-04-07T04:26:40Z' }), checkDocument(iso, { t: 1_744_000_000_000 })];

    // Assess
    expect(results.map((problems) => problems.length)).toEqual([0, 0, 1]);
  });

  it('accepts arrays of a mapped type, nulls and a flattened object of mixed types', () => {
    // Act
    const problems = checkDocument(mappings, { related: { ip: ['192.0.2.1', '2001:db8::1'] }, tags: null, aws: { guardduty: { a: 1, b: 'x', c: [{ d: true }] } } });

    // Assess
    expect(problems).toEqual([]);
  });
});
