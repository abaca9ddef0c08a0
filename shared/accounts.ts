import type { AccountInfo } from '../schemas/enriched.ts';
import { AccountsFileSchema, compileAccounts, staticAccountDirectory, unknownAccount, type AccountDirectory } from './accounts/directory.ts';
import { parseYamlSource } from './config/yaml-source.ts';

/** Parses `accounts.yml`; errors carry file:line:column. */
const loadAccounts = (text: string, file: string): Map<string, AccountInfo> => compileAccounts(parseYamlSource(text, file));

export { AccountsFileSchema, staticAccountDirectory, loadAccounts, compileAccounts, unknownAccount };
export type { AccountDirectory };
