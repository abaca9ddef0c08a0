import { setFlagsFromString } from 'node:v8';
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { dataRecord } from '../../shared/data-record.ts';
import { ownRecord } from '../../shared/config/own-record.ts';
import { ACCOUNTS_CONFIG } from '../../shared/accounts/directory.ts';
import { parseConfig } from '../../shared/cli/config/parse.ts';
import { enrichedFrom, loadFinding } from '../helpers/findings.ts';

// V8's own answer to "is this object in fast mode?": JSON.stringify's fast path needs every
// object of a document to be, or it starts the document over on its slow path (issue 17).
setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

describe('dataRecord', () => {
  it('keeps every key ordinary: no prototype, __proto__ and constructor own keys, the last duplicate winning, in order', () => {
    // Act
    const record = dataRecord([['env', 'prod'], ['__proto__', 'p'], ['constructor', 'c'], ['env', 'dev']]);

    // Assess
    expect(Object.getPrototypeOf(record)).toBeNull();
    expect(Object.keys(record)).toEqual(['env', '__proto__', 'constructor']);
    expect(record).toMatchObject({ env: 'dev', constructor: 'c' });
    expect(Object.hasOwn(record, '__proto__') && record['__proto__']).toBe('p');
    expect(record['toString']).toBeUndefined();
  });

  it('is in V8 fast mode, as are the records the pipeline makes with it', async () => {
    // Arrange
    const parsedTags = z.parse(ownRecord(z.string(), z.string()), { env: 'prod', __proto__x: 'y' });
    const enriched = await enrichedFrom(loadFinding('samples/attacksequence-ec2-compromisedinstancegroup.json'));
    const accounts = parseConfig(ACCOUNTS_CONFIG, 'accounts:\n  "111122223333": { name: prod, tags: { team: data, constructor: x } }\n', 'accounts.yml');

    // Assess
    expect(hasFastProperties(dataRecord([['a', 1]]))).toBe(true);
    expect(hasFastProperties(parsedTags)).toBe(true);
    expect(Object.keys(enriched.enrichment.resourceTags).length).toBeGreaterThan(0);
    expect(hasFastProperties(enriched.enrichment.resourceTags)).toBe(true);
    expect(hasFastProperties(accounts.get('111122223333')!.tags)).toBe(true);
    // The guard is real: the way these were made before is not in fast mode.
    expect(hasFastProperties(Object.assign(Object.create(null) as object, { a: 1 }))).toBe(false);
  });
});
