import { ListAccountsCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { optional, type ExpectedAccount } from '../members/diff.ts';

/** The organization's ACTIVE accounts (ListAccounts, following NextToken). */
const listOrganizationAccounts = async (client: OrganizationsClient): Promise<ExpectedAccount[]> => {
  const accounts: ExpectedAccount[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListAccountsCommand({ MaxResults: 20, ...(token ? { NextToken: token } : {}) }));
    for (const a of page.Accounts ?? []) {
      const state = (a as { State?: string }).State ?? a.Status;
      if (!a.Id || (state !== undefined && state !== 'ACTIVE')) continue;
      accounts.push({ id: a.Id, ...optional('name', a.Name), ...optional('email', a.Email), from: ['organizations'] });
    }
    token = page.NextToken;
  } while (token);
  return accounts;
};

export { listOrganizationAccounts };
