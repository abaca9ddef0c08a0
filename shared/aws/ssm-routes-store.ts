import { GetParameterCommand, GetParameterHistoryCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/**
 * The routes parameter as `config publish`, `rollback` and `status` see it: SSM keeps every
 * version (up to 100), so the previous document is always there to roll back to.
 */
interface StoredVersion {
  version: number;
  value: string;
  lastModified: Date | undefined;
  tier: string | undefined;
}

/** The client `config publish`, `rollback` and `status` use (the default region unless given). */
const ssmClient = (region: string | undefined): SSMClient => new SSMClient(region ? { region } : {});

const isParameterNotFound = (error: unknown): boolean => error instanceof ParameterNotFound;

/** The current value, or undefined when nothing was published at `path` yet. */
const readCurrent = async (ssm: SSMClient, path: string): Promise<StoredVersion | undefined> => {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: path }));
    if (Parameter?.Value === undefined) return undefined;
    return { version: Parameter.Version ?? 0, value: Parameter.Value, lastModified: Parameter.LastModifiedDate, tier: undefined };
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
};

/** Every stored version, oldest first (GetParameterHistory, all pages). */
const readHistory = async (ssm: SSMClient, path: string): Promise<StoredVersion[]> => {
  const versions: StoredVersion[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParameterHistoryCommand({ Name: path, MaxResults: 50, NextToken: nextToken }));
    for (const p of page.Parameters ?? []) {
      if (p.Value !== undefined && p.Version !== undefined) versions.push({ version: p.Version, value: p.Value, lastModified: p.LastModifiedDate, tier: p.Tier });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return versions.sort((a, b) => a.version - b.version);
};

/**
 * Writes `value` as the next version. Type String: routes hold no secrets (they are references),
 * and a String parameter needs no kms:Decrypt in the route role.
 */
const writeVersion = async (ssm: SSMClient, path: string, value: string, tier: 'Advanced' | 'Intelligent-Tiering', description: string): Promise<number> => {
  const { Version } = await ssm.send(new PutParameterCommand({ Name: path, Value: value, Type: 'String', Overwrite: true, Tier: tier, Description: description.slice(0, 1024) }));
  return Version ?? 0;
};

export { isParameterNotFound, readCurrent, readHistory, ssmClient, writeVersion };
