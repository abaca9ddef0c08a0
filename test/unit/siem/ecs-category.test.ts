import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { enrichFinding } from '../../../shared/enrich.ts';
import { buildEcsDocument } from '../../../shared/targets/elasticsearch.ts';
import { representativeFindings } from '../../helpers/representative.ts';

/**
 * ECS `event.category` holds `malware` for malware findings only (Trojan and Backdoor threat
 * purposes, malware-file verdicts, malware scans), never for a type that merely contains
 * "Malicious" (an IP or domain on a threat list). Checked over every type GuardDuty documents
 * (../shared/guardduty/finding-types.tsv, vendored as test/events/finding-types.tsv).
 */
const TYPES = readFileSync(join(import.meta.dirname, '../../events/finding-types.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t')[0] ?? '')
  .filter((type) => type.includes(':'));

let base: EnrichedFinding;
beforeAll(async () => {
  base = (await representativeFindings()).find(([name]) => name === 'instance')![1];
});

const categoriesOf = async (type: string): Promise<string[]> => {
  const enriched = await enrichFinding({ ...base.finding, type }, staticAccountDirectory(new Map()));
  return (buildEcsDocument(enriched).event as { category: string[] }).category;
};

describe('ECS event.category', () => {
  it.each([
    'Discovery:S3/MaliciousIPCaller.Custom',
    'UnauthorizedAccess:EC2/MaliciousIPCaller.Custom',
    'Impact:EC2/MaliciousDomainRequest.Reputation',
    'CredentialAccess:RDS/MaliciousIPCaller.SuccessfulLogin',
    'Execution:Runtime/ReverseShell',
  ])('%s is not malware', async (type) => {
    // Act
    const categories = await categoriesOf(type);

    // Assess
    expect(categories).toContain('intrusion_detection');
    expect(categories).not.toContain('malware');
  });

  it.each([
    'Trojan:EC2/DropPoint',
    'Backdoor:EC2/C&CActivity.B',
    'Execution:EC2/MaliciousFile',
    'Execution:EC2/SuspiciousFile',
    'Object:S3/MaliciousFile',
    'Execution:Runtime/MaliciousFileExecuted',
    'Execution:S3/MaliciousFile!RecoveryPoint',
  ])('%s is malware', async (type) => {
    // Act
    const categories = await categoriesOf(type);

    // Assess
    expect(categories).toContain('malware');
  });

  it('no documented type naming a malicious IP caller or domain request is malware', async () => {
    // Prepare
    const reputationTypes = TYPES.filter((type) => /Malicious(IPCaller|DomainRequest)/.test(type));

    // Act
    const malware = [];
    for (const type of reputationTypes) if ((await categoriesOf(type)).includes('malware')) malware.push(type);

    // Assess
    expect(reputationTypes.length).toBeGreaterThanOrEqual(25);
    expect(malware).toEqual([]);
  });

  it('a malware scan (ebsVolumeScanDetails) is malware whatever its type says', async () => {
    // Prepare
    const finding = { ...base.finding, type: 'Mystery:EC2/Scan', service: { ...base.finding.service!, ebsVolumeScanDetails: { scanId: 's' } } };

    // Act
    const document = buildEcsDocument(await enrichFinding(finding as typeof base.finding, staticAccountDirectory(new Map())));

    // Assess
    expect((document.event as { category: string[] }).category).toContain('malware');
  });
});
