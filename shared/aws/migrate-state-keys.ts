import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { findingStateKey } from '../state/finding-state.ts';
import { ledgerKey } from '../targets/ledger.ts';

/**
 * One-off upgrade of FindingStateTable to the composed keys (shared/keys.ts). Versions before
 * wrote `finding#<account>#<region>#<id>` and `ledger#<target>#<account>#<region>#<id>`;
 * this copies each such item to the key the current version reads. The ledger needs it (no
 * TTL; without it Jira and ServiceNow open a second ticket for a finding ticketed before the
 * upgrade); for finding state it spares one repeated notification per finding.
 * Safe to run again and alongside the new version: an item already at its new key is kept.
 */
interface MigrationCounts {
  scanned: number;
  copied: number;
  /** The new key already held an item (written by the new version, or by an earlier run). */
  kept: number;
  deleted: number;
}

// Account ids are 12 digits and AWS region names never hold '#'; target names cannot (config
// schema). So the legacy parts split unambiguously; the finding id is whatever remains.
const LEGACY_FINDING = /^finding#(\d{12})#([^#]*)#([\s\S]+)$/;
const LEGACY_LEDGER = /^ledger#([A-Za-z0-9][\w.-]*)#(\d{12})#([^#]*)#([\s\S]+)$/;

/** The current key for a legacy one; `undefined` for a key that is current already (or unknown). */
const currentKeyFor = (legacyKey: string): string | undefined => {
  const finding = LEGACY_FINDING.exec(legacyKey);
  if (finding) return findingStateKey({ accountId: finding[1]!, region: finding[2]!, id: finding[3]! });
  const ledger = LEGACY_LEDGER.exec(legacyKey);
  if (ledger) return `ledger#${ledgerKey(ledger[1]!, { accountId: ledger[2]!, region: ledger[3]!, id: ledger[4]! })}`;
  return undefined;
};

const migrateStateKeys = async (
  client: DynamoDBClient,
  tableName: string,
  options: { deleteLegacy?: boolean; dryRun?: boolean } = {},
): Promise<MigrationCounts> => {
  const documents = DynamoDBDocumentClient.from(client);
  const counts: MigrationCounts = { scanned: 0, copied: 0, kept: 0, deleted: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    for (const item of page.Items ?? []) {
      counts.scanned++;
      const legacyKey = typeof item.findingKey === 'string' ? item.findingKey : '';
      const currentKey = currentKeyFor(legacyKey);
      if (currentKey === undefined) continue;
      if (options.dryRun) {
        counts.copied++;
        continue;
      }
      try {
        await documents.send(
          new PutCommand({ TableName: tableName, Item: { ...item, findingKey: currentKey }, ConditionExpression: 'attribute_not_exists(findingKey)' }),
        );
        counts.copied++;
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        counts.kept++;
      }
      if (options.deleteLegacy) {
        await documents.send(new DeleteCommand({ TableName: tableName, Key: { findingKey: legacyKey } }));
        counts.deleted++;
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return counts;
};

export { migrateStateKeys, currentKeyFor };
