import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOrgGuardDutyLoopback, type GdMember, type OrgGuardDutyLoopback } from '../helpers/org-guardduty-loopback.ts';

/**
 * `findings-router members ...` as an operator runs it: the real bin under the pinned
 * node, the real SDK clients, AWS_ENDPOINT_URL pointing at the Organizations + GuardDuty
 * loopback. (spawn, not spawnSync: the loopback lives in this process's event loop.)
 */
const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');
let loopback: OrgGuardDutyLoopback | undefined;

afterEach(async () => {
  await loopback?.close();
  loopback = undefined;
});

const start = async (options: Parameters<typeof startOrgGuardDutyLoopback>[0] = {}) => {
  loopback = await startOrgGuardDutyLoopback(options);
  return loopback;
};

const run = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, AWS_CONFIG_FILE: join(cwd, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'none'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

const tempDir = () => mkdtempSync(join(tmpdir(), 'members-cli-'));
const id = (n: number) => String(100000000000 + n);
const csvOf = (count: number) => ['Account ID,Email', ...Array.from({ length: count }, (_, i) => `${id(i)},sec+${i}@example.com`)].join('\r\n');

describe('members import', () => {
  it('creates then invites 120 accounts in batches of at most 50, with the message', async () => {
    // Prepare
    const aws = await start();
    const cwd = tempDir();
    writeFileSync(join(cwd, 'accounts.csv'), `\uFEFF${csvOf(120)}\r\n`);
    // Act
    const { code, stdout, stderr } = await run(['members', 'import', 'accounts.csv', '--message', 'Please accept: security monitoring'], cwd, aws.env());
    // Assess
    expect(code, stderr).toBe(0);
    expect(aws.operations()).toEqual(['ListDetectors', 'CreateMembers', 'CreateMembers', 'CreateMembers', 'InviteMembers', 'InviteMembers', 'InviteMembers']);
    const creates = aws.calls.filter((c) => c.operation === 'CreateMembers');
    expect(creates.map((c) => c.body.accountDetails.length)).toEqual([50, 50, 20]);
    expect(creates[0]).toMatchObject({ method: 'POST', path: `/detector/${aws.detectorIds[0]}/member` });
    expect(creates[0]!.body.accountDetails[0]).toEqual({ accountId: id(0), email: 'sec+0@example.com' });
    const invites = aws.calls.filter((c) => c.operation === 'InviteMembers');
    expect(invites.map((c) => c.body.accountIds.length)).toEqual([50, 50, 20]);
    expect(invites[0]).toMatchObject({ path: `/detector/${aws.detectorIds[0]}/member/invite`, body: { message: 'Please accept: security monitoring' } });
    for (const call of aws.calls) expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDORGLOOPBACK\/\d{8}\/us-east-1\/guardduty\/aws4_request/);
    expect([...aws.members.values()].every((m) => m.relationshipStatus === 'Invited' && m.invitedAt)).toBe(true);
    expect(stdout).toContain('120 created, 120 invited, 0 unprocessed');
  });

  it('reports unprocessed accounts, invites only those created, and exits 1', async () => {
    // Prepare
    const aws = await start({ rejectCreate: { [id(1)]: 'The request is rejected because the account is already a member of another administrator.' } });
    const cwd = tempDir();
    writeFileSync(join(cwd, 'accounts.csv'), csvOf(3));
    // Act
    const { code, stdout } = await run(['members', 'import', 'accounts.csv', '--detector-id', aws.detectorIds[0]!], cwd, aws.env());
    // Assess
    expect(code).toBe(1);
    expect(aws.operations()).toEqual(['CreateMembers', 'InviteMembers']); // --detector-id: no ListDetectors
    expect(aws.calls[1]!.body.accountIds).toEqual([id(0), id(2)]);
    expect(stdout).toContain('2 created, 2 invited, 1 unprocessed');
    expect(stdout).toMatch(new RegExp(`${id(1)}\\s+CreateMembers\\s+The request is rejected because the account is already a member`));
  });

  it('--dry-run validates and prints the plan without any AWS call', async () => {
    // Prepare
    const aws = await start();
    const cwd = tempDir();
    writeFileSync(join(cwd, 'accounts.csv'), csvOf(51));
    // Act
    const { code, stdout } = await run(['members', 'import', 'accounts.csv', '--dry-run', '--message', 'hi'], cwd, aws.env());
    // Assess
    expect(code).toBe(0);
    expect(aws.calls).toHaveLength(0);
    expect(stdout).toContain('Plan for 51 accounts');
    expect(stdout).toContain('CreateMembers: 2 calls (50, 1 accounts)');
    expect(stdout).toContain('InviteMembers: 2 calls, message: "hi"');
  });

  it('exits non-zero before any AWS call when a row is bad, listing every bad row with its line', async () => {
    // Prepare
    const aws = await start();
    const cwd = tempDir();
    writeFileSync(join(cwd, 'bad.csv'), 'Account ID,Email\n111111111111,ok@example.com\n12345,x@example.com\n\n111111111111,dup@example.com\n222222222222,nope\n');
    // Act
    const { code, stderr, stdout } = await run(['members', 'import', 'bad.csv'], cwd, aws.env());
    // Assess
    expect(code).toBe(1);
    expect(aws.calls).toHaveLength(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('bad.csv:3: account id \'12345\' has 5 digits');
    expect(stderr).toContain('bad.csv:5: duplicate account id 111111111111 (first on line 2)');
    expect(stderr).toContain('bad.csv:6: email must be 6 to 64 characters long');
    expect(stderr).toContain('3 bad rows in bad.csv; nothing was sent to GuardDuty.');
  });

  it('ends with one line when GuardDuty throttles (HTTP 429)', async () => {
    // Prepare
    const aws = await start();
    aws.failNext('CreateMembers', { code: 'TooManyRequestsException', message: 'Rate exceeded', times: 5 });
    const cwd = tempDir();
    writeFileSync(join(cwd, 'accounts.csv'), csvOf(2));
    // Act
    const { code, stderr } = await run(['members', 'import', 'accounts.csv'], cwd, aws.env());
    // Assess
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('findings-router members import: TooManyRequestsException (HTTP 429): Rate exceeded');
  });
});

const fleet = (): GdMember[] => [
  { accountId: '111111111111', email: 'payments@example.com', relationshipStatus: 'Enabled', invitedAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-02T00:00:00.000Z' },
  { accountId: '222222222222', email: 'payments-dev@example.com', relationshipStatus: 'Resigned', invitedAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-05-01T00:00:00.000Z' },
  { accountId: '333333333333', email: 'data@example.com', relationshipStatus: 'Invited', invitedAt: '2024-06-01T00:00:00.000Z', updatedAt: '2024-06-01T00:00:00.000Z' },
  { accountId: '666666666666', email: 'stray@example.com', relationshipStatus: 'Created', updatedAt: '2024-06-01T00:00:00.000Z' },
  ...Array.from({ length: 55 }, (_, i): GdMember => ({ accountId: String(700000000000 + i), email: `m${i}@example.com`, relationshipStatus: 'Enabled', updatedAt: '2024-01-01T00:00:00.000Z' })),
];

describe('members status', () => {
  it('pages through every member (onlyAssociated=false) and prints the table with names from accounts.yml and Organizations', async () => {
    // Prepare
    const aws = await start({
      members: fleet(),
      accounts: [{ id: '333333333333', name: 'data-platform-prod', email: 'data@example.com', parentId: 'r-examplerootid' }],
    });
    const cwd = tempDir();
    writeFileSync(join(cwd, 'accounts.yml'), 'accounts:\n  "111111111111": { name: payments-prod }\n');
    // Act
    const { code, stdout, stderr } = await run(['members', 'status'], cwd, aws.env());
    // Assess
    expect(code, stderr).toBe(0);
    const lists = aws.calls.filter((c) => c.operation === 'ListMembers');
    expect(lists).toHaveLength(2);
    expect(lists[0]!.query).toEqual({ maxResults: '50', onlyAssociated: 'false' });
    expect(lists[1]!.query.nextToken).toBeDefined();
    expect(aws.operations()).toContain('ListAccounts');
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`Detector ${aws.detectorIds[0]}: 59 members`);
    expect(lines[1]).toMatch(/^Account ID\s+Name\s+Email\s+Status\s+Invited at\s+Updated at$/);
    expect(stdout).toMatch(/111111111111\s+payments-prod\s+payments@example\.com\s+Enabled\s+2024-01-01T00:00:00\.000Z\s+2024-01-02T00:00:00\.000Z/);
    expect(stdout).toMatch(/222222222222\s+-\s+payments-dev@example\.com\s+Resigned/);
    expect(stdout).toMatch(/333333333333\s+data-platform-prod\s+data@example\.com\s+Invited/);
    expect(stdout).toContain('Enabled: 56, Resigned: 1, Invited: 1, Created: 1');
  });

  it('--json prints the members as data, and a denied Organizations only costs the names', async () => {
    // Prepare
    const aws = await start({ members: fleet().slice(0, 3) });
    aws.failNext('ListAccounts', { code: 'AccessDeniedException', message: 'You don\'t have permissions to access this resource.' });
    const cwd = tempDir();
    // Act
    const { code, stdout, stderr } = await run(['members', 'status', '--json'], cwd, aws.env());
    // Assess
    expect(code).toBe(0);
    expect(stderr).toContain('warning: no names from Organizations (AccessDeniedException');
    expect(JSON.parse(stdout)).toEqual({
      detectorId: aws.detectorIds[0],
      members: [
        { accountId: '111111111111', email: 'payments@example.com', relationshipStatus: 'Enabled', invitedAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-02T00:00:00.000Z' },
        { accountId: '222222222222', email: 'payments-dev@example.com', relationshipStatus: 'Resigned', invitedAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-05-01T00:00:00.000Z' },
        { accountId: '333333333333', email: 'data@example.com', relationshipStatus: 'Invited', invitedAt: '2024-06-01T00:00:00.000Z', updatedAt: '2024-06-01T00:00:00.000Z' },
      ],
    });
  });
});

describe('members diff', () => {
  it('compares accounts.yml and the organization with the members: missing, not accepted, resigned, unknown; exit 2', async () => {
    // Prepare
    const aws = await start({
      members: fleet().slice(0, 4),
      accounts: [
        { id: '111111111111', name: 'payments-prod', email: 'a@example.com', parentId: 'r-examplerootid' },
        { id: '555555555555', name: 'new-workload', email: 'new@example.com', parentId: 'r-examplerootid' },
        { id: '888888888888', name: 'closed', email: 'closed@example.com', parentId: 'r-examplerootid', state: 'CLOSED' },
        { id: '999999999999', name: 'security-admin', email: 'sec@example.com', parentId: 'r-examplerootid' }, // the administrator itself
      ],
    });
    const cwd = tempDir();
    writeFileSync(join(cwd, 'expected.yml'), 'accounts:\n  "222222222222": { name: payments-dev }\n  "333333333333": { name: data-platform-prod }\n');
    // Act
    const text = await run(['members', 'diff', '--accounts', 'expected.yml'], cwd, aws.env());
    const json = await run(['members', 'diff', '--accounts', 'expected.yml', '--json'], cwd, aws.env());
    // Assess
    expect(text.code).toBe(2);
    expect(text.stdout).toContain('4 expected, 1 monitored, 1 not yet accepted, 1 not monitored, 1 missing, 1 unknown');
    expect(text.stdout).toMatch(/Missing \(expected, not a GuardDuty member\) \(1\):[\s\S]*555555555555\s+new-workload\s+new@example\.com\s+Missing/);
    expect(text.stdout).toMatch(/Not monitored[^\n]*\(1\):[\s\S]*222222222222\s+payments-dev\s+payments-dev@example\.com\s+Resigned/);
    expect(text.stdout).toMatch(/Not yet accepted \(1\):[\s\S]*333333333333\s+data-platform-prod/);
    expect(text.stdout).toMatch(/Unknown \(members no source expects\) \(1\):[\s\S]*666666666666/);
    const diff = JSON.parse(json.stdout);
    expect(json.code).toBe(2);
    expect(diff.administratorId).toBe('999999999999');
    expect(diff.missing.map((e: any) => e.accountId)).toEqual(['555555555555']);
    expect(diff.notMonitored.map((e: any) => [e.accountId, e.status])).toEqual([['222222222222', 'Resigned']]);
  });

  it('exits 0 when every expected account is monitored (accounts.yml only)', async () => {
    // Prepare
    const aws = await start({ members: fleet().slice(0, 1) });
    const cwd = tempDir();
    writeFileSync(join(cwd, 'accounts.yml'), 'accounts:\n  "111111111111": { name: payments-prod }\n');
    // Act
    const { code, stdout } = await run(['members', 'diff', '--no-organizations'], cwd, aws.env());
    // Assess
    expect(code).toBe(0);
    expect(aws.operations()).not.toContain('ListAccounts');
    expect(stdout).toContain('1 expected, 1 monitored, 0 not yet accepted, 0 not monitored, 0 missing, 0 unknown');
  });
});
