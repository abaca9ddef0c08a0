import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountInfo, EnrichedFinding } from '../../schemas/enriched.ts';
import type { GuardDutyFinding } from '../../schemas/finding.ts';
import { staticAccountDirectory } from '../../shared/accounts/directory.ts';
import { enrichFinding } from '../../shared/enrich.ts';
import { validateEvent } from '../../shared/validate.ts';

/**
 * Representative findings for golden payload tests: one per resource family, taken from
 * the bundled sample corpus (test/events/samples) by finding type, plus an unknown type.
 */
const SAMPLES = join(import.meta.dirname, '../events/samples');

const REPRESENTATIVE_TYPES: Record<string, string> = {
  instance: 'UnauthorizedAccess:EC2/SSHBruteForce',
  'access-key': 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
  's3-bucket': 'Exfiltration:S3/AnomalousBehavior',
  eks: 'Execution:Kubernetes/ExecInKubeSystemPod',
  'ecs-container': 'CryptoCurrency:Runtime/BitcoinTool.B',
  rds: 'CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce',
  lambda: 'CryptoCurrency:Lambda/BitcoinTool.B',
  'malware-scan': 'Execution:EC2/MaliciousFile',
  'attack-sequence': 'AttackSequence:IAM/CompromisedCredentials',
};

const ACCOUNTS = new Map<string, AccountInfo>([
  ['111111111111', { id: '111111111111', known: true, name: 'payments-prod', email: 'payments@example.com', ou: 'Root/Workloads/Prod', tags: { env: 'prod', owner: 'payments' } }],
  ['222222222222', { id: '222222222222', known: true, name: 'payments-dev', ou: 'Root/Workloads/Dev', tags: { env: 'dev', owner: 'payments' } }],
  ['333333333333', { id: '333333333333', known: true, name: 'data-platform-prod', ou: 'Root/Workloads/Prod', tags: { env: 'prod', owner: 'data-platform' } }],
]);

const loadSampleFinding = (type: string): GuardDutyFinding => {
  for (const file of readdirSync(SAMPLES).filter((f) => f.endsWith('.json'))) {
    const event = JSON.parse(readFileSync(join(SAMPLES, file), 'utf8'));
    if (event.detail?.type === type) {
      const result = validateEvent(event);
      if (result.kind !== 'finding') throw new Error(`sample for ${type} does not validate`);
      return result.finding;
    }
  }
  throw new Error(`no sample for ${type}`);
};

const unknownTypeFinding = (): GuardDutyFinding => ({
  ...loadSampleFinding(REPRESENTATIVE_TYPES.instance!),
  type: 'Mystery:NewService/SomethingNew.Custom',
  resource: { resourceType: 'Teleporter' },
  title: 'A finding of a type this router has never seen',
});

/** The names `representativeFindings()` returns, in order (for `it.each`). */
const REPRESENTATIVE_NAMES = [...Object.keys(REPRESENTATIVE_TYPES), 'unknown-type'];

/** `[name, enriched]` pairs, stable in order, for golden tests. */
const representativeFindings = async (): Promise<[string, EnrichedFinding][]> => {
  const directory = staticAccountDirectory(ACCOUNTS);
  const pairs: [string, EnrichedFinding][] = [];
  for (const [name, type] of Object.entries(REPRESENTATIVE_TYPES)) pairs.push([name, await enrichFinding(loadSampleFinding(type), directory)]);
  pairs.push(['unknown-type', await enrichFinding(unknownTypeFinding(), directory)]);
  return pairs;
};

export { representativeFindings, loadSampleFinding, REPRESENTATIVE_TYPES, REPRESENTATIVE_NAMES, ACCOUNTS as REPRESENTATIVE_ACCOUNTS };
