import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Member } from '@aws-sdk/client-guardduty';
import { GuardDutyClient } from '../aws/lazy/guardduty.ts';
import { OrganizationsClient } from '../aws/lazy/organizations.ts';
import type { AccountInfo } from '../../schemas/enriched.ts';
import { ACCOUNTS_CONFIG } from '../accounts/directory.ts';
import { loadConfig } from '../config/load.ts';
import { describeError } from '../accounts/chain.ts';
import { ConfigError } from '../errors.ts';
import { parseMembersCsv } from './members/csv.ts';
import { listOrganizationAccounts } from '../aws/organizations-accounts.ts';
import { diffMembership, expectedFromRegistry, mergeExpected, type DiffEntry, type ExpectedAccount, type MembershipDiff } from '../members/diff.ts';
import { chunk, createAndInviteMembers, listAllMembers, MAX_ACCOUNTS_PER_CALL, resolveDetectorId } from '../aws/guardduty-members.ts';

/**
 * `findings-router members import|status|diff`: GuardDuty member management from the
 * administrator account (credentials and region from the usual AWS environment, or
 * --region). Exit codes: 0 done, 1 bad input, unprocessed accounts or an AWS error,
 * 2 usage error (and, for `diff`, drift found).
 */
type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

const IMPORT_USAGE = `Usage: findings-router members import FILE.csv [--message M] [--dry-run] [--detector-id ID] [--region R]

Adds the accounts of a CSV (header 'Account ID,Email', as the GuardDuty console takes it) as
GuardDuty members and invites them: CreateMembers, then InviteMembers, in batches of ${MAX_ACCOUNTS_PER_CALL}.
Every row is validated first; a file with a bad row makes no AWS call at all.
  --message                      invitation message
  --disable-email-notification   invite without the email notification
  --dry-run                      validate and print the plan; call nothing
  --detector-id                  the administrator's detector (default: ListDetectors)
  --region                       the administrator's region (default: AWS_REGION)
`;

const STATUS_USAGE = `Usage: findings-router members status [--json] [--accounts FILE] [--no-organizations] [--detector-id ID] [--region R]

Every member (ListMembers, associated or not): account id, name, email, relationship status,
invitedAt, updatedAt. Names come from --accounts (default ./accounts.yml when present) and
Organizations ListAccounts (skipped with --no-organizations, or when access is denied).
`;

const DIFF_USAGE = `Usage: findings-router members diff [--accounts FILE] [--no-organizations] [--json] [--detector-id ID] [--region R]

Expected accounts (accounts.yml and/or the organization's ACTIVE accounts) against what
GuardDuty monitors: missing, not yet accepted, not monitored (Resigned, Removed, Disabled,
EmailVerificationFailed), and members no source expects. Exit 2 when an expected account is
missing or not monitored.
`;

const commonOptions = {
  'detector-id': { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const guardDutyClient = (region: string | undefined) => new GuardDutyClient(region ? { region } : {});
const organizationsClient = (region: string | undefined) => new OrganizationsClient(region ? { region } : {});

/** AWS errors end the command with one line, not a stack. */
const awsFailure = (io: Io, command: string, error: unknown): number => {
  if (error instanceof ConfigError) throw error;
  const name = (error as { name?: string }).name ?? '';
  if (name === 'DetectorError' || (error as { $metadata?: unknown }).$metadata !== undefined || name.endsWith('Exception') || name.startsWith('Credentials')) {
    io.stderr.write(`findings-router members ${command}: ${describeError(error)}\n`);
    return 1;
  }
  throw error;
};

// ── import ────────────────────────────────────────────────────────────────────
const runMembersImport = async (argv: string[], io: Io): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...commonOptions,
      message: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'disable-email-notification': { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(IMPORT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr.write(`findings-router members import: expected one CSV file\n${IMPORT_USAGE}`);
    return 2;
  }
  const file = positionals[0]!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    io.stderr.write(`${file}: cannot read (${(cause as { code?: string }).code ?? cause})\n`);
    return 1;
  }
  const parsed = parseMembersCsv(text);
  if (parsed.problems.length > 0) {
    for (const p of parsed.problems) io.stderr.write(`${file}:${p.line}: ${p.message}\n`);
    io.stderr.write(`${parsed.problems.length} bad row${parsed.problems.length === 1 ? '' : 's'} in ${file}; nothing was sent to GuardDuty.\n`);
    return 1;
  }
  if (parsed.rows.length === 0) {
    io.stderr.write(`${file}: no accounts to import\n`);
    return 1;
  }
  const batches = chunk(parsed.rows, MAX_ACCOUNTS_PER_CALL);
  if (values['dry-run']) {
    io.stdout.write(`Plan for ${parsed.rows.length} account${parsed.rows.length === 1 ? '' : 's'} from ${file} (dry run, nothing sent):\n`);
    io.stdout.write(table(['Line', 'Account ID', 'Email'], parsed.rows.map((r) => [String(r.line), r.accountId, r.email])));
    io.stdout.write(`CreateMembers: ${batches.length} call${batches.length === 1 ? '' : 's'} (${batches.map((b) => b.length).join(', ')} accounts)\n`);
    io.stdout.write(`InviteMembers: ${batches.length} call${batches.length === 1 ? '' : 's'}${values.message !== undefined ? `, message: ${JSON.stringify(values.message)}` : ''}${values['disable-email-notification'] ? ', no email notification' : ''}\n`);
    io.stdout.write(`Detector: ${values['detector-id'] ?? '(ListDetectors)'}\n`);
    return 0;
  }
  const client = guardDutyClient(values.region);
  try {
    const detectorId = await resolveDetectorId(client, values['detector-id']);
    const outcome = await createAndInviteMembers(client, detectorId, parsed.rows, {
      ...(values.message !== undefined ? { message: values.message } : {}),
      disableEmailNotification: values['disable-email-notification'],
      onBatch: (op, n, of, count) => io.stderr.write(`${op} ${n}/${of}: ${count} account${count === 1 ? '' : 's'}\n`),
    });
    io.stdout.write(`Detector ${detectorId}: ${outcome.created.length} created, ${outcome.invited.length} invited, ${outcome.unprocessed.length} unprocessed.\n`);
    if (outcome.unprocessed.length > 0) {
      io.stdout.write(table(['Account ID', 'Operation', 'Result'], outcome.unprocessed.map((u) => [u.accountId, u.operation, u.result])));
      return 1;
    }
    return 0;
  } catch (error) {
    return awsFailure(io, 'import', error);
  } finally {
    client.destroy();
  }
};

// ── status ────────────────────────────────────────────────────────────────────
interface StatusRow {
  accountId: string;
  name?: string;
  email?: string;
  relationshipStatus: string;
  invitedAt?: string;
  updatedAt?: string;
}

const runMembersStatus = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    options: { ...commonOptions, json: { type: 'boolean', default: false }, accounts: { type: 'string' }, organizations: { type: 'boolean', default: true } },
  });
  if (values.help) {
    io.stdout.write(STATUS_USAGE);
    return 0;
  }
  const registry = await readRegistry(values.accounts);
  const client = guardDutyClient(values.region);
  const orgs = values.organizations ? organizationsClient(values.region) : undefined;
  try {
    const detectorId = await resolveDetectorId(client, values['detector-id']);
    const members = await listAllMembers(client, detectorId);
    const names = new Map<string, string>();
    if (orgs) {
      try {
        for (const a of await listOrganizationAccounts(orgs)) if (a.name) names.set(a.id, a.name);
      } catch (error) {
        io.stderr.write(`warning: no names from Organizations (${describeError(error)})\n`);
      }
    }
    for (const a of registry.values()) if (a.name) names.set(a.id, a.name);
    const rows: StatusRow[] = members
      .map((m) => statusRow(m, names))
      .sort((a, b) => a.accountId.localeCompare(b.accountId));
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ detectorId, members: rows }, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(`Detector ${detectorId}: ${rows.length} member${rows.length === 1 ? '' : 's'}\n`);
    io.stdout.write(
      table(
        ['Account ID', 'Name', 'Email', 'Status', 'Invited at', 'Updated at'],
        rows.map((r) => [r.accountId, r.name ?? '-', r.email ?? '-', r.relationshipStatus, r.invitedAt ?? '-', r.updatedAt ?? '-']),
      ),
    );
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.relationshipStatus, (counts.get(r.relationshipStatus) ?? 0) + 1);
    if (rows.length > 0) io.stdout.write(`${[...counts].map(([s, n]) => `${s}: ${n}`).join(', ')}\n`);
    return 0;
  } catch (error) {
    return awsFailure(io, 'status', error);
  } finally {
    client.destroy();
    orgs?.destroy();
  }
};

const statusRow = (m: Member, names: ReadonlyMap<string, string>): StatusRow => ({
  accountId: m.AccountId ?? '?',
  ...(names.get(m.AccountId ?? '') ? { name: names.get(m.AccountId ?? '')! } : {}),
  ...(m.Email ? { email: m.Email } : {}),
  relationshipStatus: m.RelationshipStatus ?? 'Unknown',
  ...(m.InvitedAt ? { invitedAt: m.InvitedAt } : {}),
  ...(m.UpdatedAt ? { updatedAt: m.UpdatedAt } : {}),
});

// ── diff ──────────────────────────────────────────────────────────────────────
const runMembersDiff = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    options: { ...commonOptions, json: { type: 'boolean', default: false }, accounts: { type: 'string' }, organizations: { type: 'boolean', default: true } },
  });
  if (values.help) {
    io.stdout.write(DIFF_USAGE);
    return 0;
  }
  const registry = await readRegistry(values.accounts);
  if (registry.size === 0 && !values.organizations) {
    io.stderr.write(`findings-router members diff: no expected accounts (give --accounts FILE, or allow Organizations)\n${DIFF_USAGE}`);
    return 2;
  }
  const client = guardDutyClient(values.region);
  const orgs = values.organizations ? organizationsClient(values.region) : undefined;
  try {
    const detectorId = await resolveDetectorId(client, values['detector-id']);
    const fromOrg: ExpectedAccount[] = orgs ? await listOrganizationAccounts(orgs) : [];
    const expected = mergeExpected(expectedFromRegistry(registry), fromOrg);
    const diff = diffMembership(expected, await listAllMembers(client, detectorId));
    const drift = diff.missing.length + diff.notMonitored.length > 0;
    if (values.json) io.stdout.write(`${JSON.stringify({ detectorId, ...diff }, null, 2)}\n`);
    else io.stdout.write(renderDiff(detectorId, diff));
    return drift ? 2 : 0;
  } catch (error) {
    return awsFailure(io, 'diff', error);
  } finally {
    client.destroy();
    orgs?.destroy();
  }
};

const renderDiff = (detectorId: string, diff: MembershipDiff): string => {
  const section = (title: string, entries: DiffEntry[]) =>
    entries.length === 0
      ? ''
      : `\n${title} (${entries.length}):\n${table(['Account ID', 'Name', 'Email', 'Status', 'Updated at'], entries.map((e) => [e.accountId, e.name ?? '-', e.email ?? '-', e.status, e.updatedAt ?? '-']))}`;
  return [
    `Detector ${detectorId}: ${diff.expected} expected, ${diff.monitored.length} monitored, ${diff.pending.length} not yet accepted, ` +
      `${diff.notMonitored.length} not monitored, ${diff.missing.length} missing, ${diff.unexpected.length} unknown\n`,
    section('Missing (expected, not a GuardDuty member)', diff.missing),
    section('Not monitored (resigned, removed, disabled, email verification failed)', diff.notMonitored),
    section('Not yet accepted', diff.pending),
    section('Unknown (members no source expects)', diff.unexpected),
  ].join('');
};

// ── helpers ───────────────────────────────────────────────────────────────────
/** accounts.yml: the given file (must exist), else ./accounts.yml when present, else none. */
const readRegistry = async (file: string | undefined): Promise<Map<string, AccountInfo>> => {
  const path = file ?? (existsSync('accounts.yml') ? 'accounts.yml' : undefined);
  if (path === undefined) return new Map();
  return loadConfig(ACCOUNTS_CONFIG, { file: path });
};

const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
};

export { runMembersImport, runMembersStatus, runMembersDiff, table };
