import type { AccountInfo, EnrichedFinding } from '../../schemas/enriched.ts';
import type { GuardDutyFinding } from '../../schemas/finding.ts';
import { staticAccountDirectory } from '../../shared/accounts/directory.ts';
import { enrichFinding } from '../../shared/enrich.ts';

/** A minimal valid finding; override any field. */
const makeFinding = (overrides: Partial<GuardDutyFinding> & Record<string, unknown> = {}): GuardDutyFinding => ({
  schemaVersion: '2.0',
  accountId: '111111111111',
  region: 'us-east-1',
  partition: 'aws',
  id: 'f00dfeedf00dfeedf00dfeedf00dfeed',
  arn: 'arn:aws:guardduty:us-east-1:111111111111:detector/d1/finding/f00dfeedf00dfeedf00dfeedf00dfeed',
  type: 'UnauthorizedAccess:EC2/SSHBruteForce',
  resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-0abc', tags: [{ key: 'env', value: 'prod' }] } },
  service: { serviceName: 'guardduty', count: 1, archived: false, additionalInfo: {} },
  severity: 5,
  createdAt: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-01T10:00:00.000Z',
  title: 'Test finding',
  description: 'A finding for tests',
  ...overrides,
});

const ACCOUNTS = new Map<string, AccountInfo>([
  ['111111111111', { id: '111111111111', known: true, name: 'payments-prod', ou: 'Root/Workloads/Prod', tags: { env: 'prod', owner: 'payments' } }],
  ['222222222222', { id: '222222222222', known: true, name: 'payments-dev', ou: 'Root/Workloads/Dev', tags: { env: 'dev', owner: 'payments' } }],
]);

const enrich = (finding: GuardDutyFinding, accounts: ReadonlyMap<string, AccountInfo> = ACCOUNTS): Promise<EnrichedFinding> =>
  enrichFinding(finding, staticAccountDirectory(accounts));

export { makeFinding, enrich, ACCOUNTS };
