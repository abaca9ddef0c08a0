import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSample, readRows, serialize, slugFor, type Row } from '../../../scripts/generate-samples.ts';

const SAMPLES = join(import.meta.dirname, '../../events/samples');
const rows: Row[] = readRows();
const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.json'));
const readSample = (row: Row): string => readFileSync(join(SAMPLES, `${slugFor(row.type)}.json`), 'utf8');

/** The resource block(s) each resourceType must carry. */
const DETAIL_KEYS: Record<string, string[]> = {
  Instance: ['instanceDetails'],
  AccessKey: ['accessKeyDetails'],
  S3Bucket: ['s3BucketDetails', 'accessKeyDetails'],
  S3Object: ['s3BucketDetails'],
  EKSCluster: ['eksClusterDetails', 'kubernetesDetails'],
  ECSCluster: ['ecsClusterDetails'],
  Container: ['containerDetails'],
  Lambda: ['lambdaDetails'],
  RDSDBInstance: ['rdsDbInstanceDetails', 'rdsDbUserDetails'],
  RDSLimitlessDB: ['rdsLimitlessDbDetails', 'rdsDbUserDetails'],
  EBSSnapshot: ['ebsSnapshotDetails'],
  EC2Image: ['ec2ImageDetails'],
  RecoveryPoint: ['recoveryPointDetails'],
};

describe('Samples: the generated corpus in test/events/samples', () => {
  it('has exactly one sample file per finding type in the TSV, and no others', () => {
    // Prepare
    const expected = rows.map((row) => `${slugFor(row.type)}.json`);

    // Act
    const unique = new Set(expected);

    // Assess
    expect(rows.length).toBe(250);
    expect(unique.size).toBe(rows.length);
    expect([...files].sort()).toEqual([...unique].sort());
  });

  it.each(rows.map((row) => [row.type, row] as const))('%s: detail.type matches and the resource block fits', (type, row) => {
    // Prepare
    const event = JSON.parse(readSample(row)) as { detail: { type: string; resource: Record<string, unknown> } };

    // Act
    const { resourceType } = event.detail.resource as { resourceType: string };
    const allowed = row.resource_type.replace(/\?+$/, '').replace(/\([^)]*\)/g, '').trim();

    // Assess
    expect(event.detail.type).toBe(type);
    if (allowed !== '') expect(allowed.split('|').map((s) => s.trim())).toContain(resourceType);
    const keys = DETAIL_KEYS[resourceType];
    expect(keys, `no detail block known for resourceType ${resourceType}`).toBeDefined();
    for (const key of keys ?? []) expect(event.detail.resource[key], `${resourceType} needs resource.${key}`).toBeDefined();
  });

  it.each(rows.map((row) => [row.type, row] as const))('%s: the checked-in file is exactly what the generator produces', (_type, row) => {
    // Prepare
    const checkedIn = readSample(row);

    // Act
    const generated = serialize(buildSample(row));

    // Assess
    expect(checkedIn, 'sample differs from generator output: run `npm run samples`').toBe(generated);
  });

  it('is deterministic: building the same row twice gives the same event', () => {
    // Prepare
    const row = rows[0] as Row;

    // Act
    const first = serialize(buildSample(row));
    const second = serialize(buildSample({ ...row }));

    // Assess
    expect(second).toBe(first);
  });

  it('slugs lowercase the type and collapse other characters to single dashes', () => {
    // Prepare
    const type = 'Backdoor:EC2/C&CActivity.B!DNS';

    // Act
    const slug = slugFor(type);

    // Assess
    expect(slug).toBe('backdoor-ec2-c-cactivity-b-dns');
  });
});
