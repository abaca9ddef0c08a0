import * as z from 'zod/mini';
import type { AccountInfo } from '../../schemas/enriched.ts';
import { ConfigError } from '../errors.ts';
import type { ConfigKind } from '../config/load.ts';
import type { ConfigSource } from '../config/source.ts';
import { ownRecord } from '../config/own-record.ts';
import { zodProblems } from '../config/problems.ts';
import { dataRecord } from '../data-record.ts';

/**
 * The account registry: who owns each member account. `accounts.yml` is the local
 * source; unknown accounts still flow with `known: false`. This module never imports the YAML
 * parser: loadConfig (config/load.ts) reads the build's JSON without one and loads it for YAML.
 */
const AccountEntrySchema = z.strictObject({
  name: z.optional(z.string()),
  email: z.optional(z.string()),
  ou: z.optional(z.string()),
  tags: z.optional(ownRecord(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
});

const AccountsFileSchema = z.strictObject({
  accounts: ownRecord(z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit account id (quote it in YAML)')), AccountEntrySchema),
});

interface AccountDirectory {
  lookup(accountId: string): Promise<AccountInfo>;
}

const unknownAccount = (id: string): AccountInfo => ({ id, known: false, tags: {} });

const staticAccountDirectory = (accounts: ReadonlyMap<string, AccountInfo>): AccountDirectory => ({
  lookup: async (id) => accounts.get(id) ?? unknownAccount(id),
});

/** The checks over any parsed source: YAML (CLI, build) or the build's JSON (Lambdas). */
const compileAccounts = (source: ConfigSource): Map<string, AccountInfo> => {
  const parsed = z.safeParse(AccountsFileSchema, source.value ?? { accounts: {} });
  if (!parsed.success) throw new ConfigError(zodProblems(parsed.error, source));
  const accounts = new Map<string, AccountInfo>();
  for (const [id, entry] of Object.entries(parsed.data.accounts)) {
    // Tag keys are data: a data record keeps `constructor` and `__proto__` ordinary keys.
    const tags = dataRecord(Object.entries(entry.tags ?? {}).map(([key, value]) => [key, String(value)] as const));
    accounts.set(id, {
      id,
      known: true,
      ...(entry.name === undefined ? {} : { name: entry.name }),
      ...(entry.email === undefined ? {} : { email: entry.email }),
      ...(entry.ou === undefined ? {} : { ou: entry.ou }),
      tags,
    });
  }
  return accounts;
};

/** The accounts file, for loadConfig and parseConfig. */
const ACCOUNTS_CONFIG: ConfigKind<Map<string, AccountInfo>> = {
  name: 'accounts',
  bundled: { env: 'ACCOUNTS_FILE', file: 'accounts.json' },
  compile: compileAccounts,
};

export { ACCOUNTS_CONFIG, staticAccountDirectory };
export type { AccountDirectory };
