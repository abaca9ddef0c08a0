import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_SUPPRESSIONS, SuppressionError, type BadSuppressionRow, type RuntimeSuppression, type SuppressionListing, type SuppressionStore } from '../suppressions/model.ts';
import { parseSuppressionRow, rowWhere } from '../suppressions/row.ts';

/**
 * Runtime suppressions in DynamoDB (SuppressionsTable, partition key `id`). One item per
 * suppression, the RuntimeSuppression's fields plus `expiresAtEpoch`, the table's TTL attribute.
 *
 * TTL is a week after the expiry, not at it: DynamoDB deletes expired items only eventually
 * (usually within days), so the route stage checks the expiry itself and never relies on TTL;
 * the extra week keeps an expired suppression visible to `config check` and `suppressions list`
 * so its owner can see that it ended (and renew it) before it disappears.
 */
const KEEP_AFTER_EXPIRY_SECONDS = 7 * 24 * 3600;
/** Items per Scan page: a page is at most 1 MB anyway; this keeps each request small. */
const PAGE_SIZE = 200;

/**
 * The listing alone, for the route stage: its bundle then carries no write command, and its
 * role needs only dynamodb:Scan.
 */
const dynamoSuppressionReader = (client: DynamoDBClient, tableName: string): Pick<SuppressionStore, 'list'> => ({
  list: listing(DynamoDBDocumentClient.from(client), tableName),
});

const dynamoSuppressionStore = (client: DynamoDBClient, tableName: string): SuppressionStore => {
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    put: async (suppression) => {
      const expiresAtEpoch = Math.floor(Date.parse(suppression.expiresAt) / 1000) + KEEP_AFTER_EXPIRY_SECONDS;
      await documents.send(new PutCommand({ TableName: tableName, Item: { ...suppression, expiresAtEpoch } }));
    },
    get: async (id) => {
      const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true }));
      if (Item === undefined) return undefined;
      try {
        return parseSuppressionRow(Item);
      } catch (error) {
        throw new SuppressionError(`suppression ${id} in table ${tableName} is malformed: ${(error as Error).message}`, { cause: error });
      }
    },
    list: listing(documents, tableName),
    remove: async (id) => {
      const { Attributes } = await documents.send(new DeleteCommand({ TableName: tableName, Key: { id }, ReturnValues: 'ALL_OLD' }));
      return Attributes !== undefined;
    },
  };
};

/** Every row, at most MAX_SUPPRESSIONS, page by page; a row that fails the checks is reported in `bad` and skipped. */
const listing = (documents: DynamoDBDocumentClient, tableName: string) => async (): Promise<SuppressionListing> => {
  const suppressions: RuntimeSuppression[] = [];
  const bad: BadSuppressionRow[] = [];
  let startKey: Record<string, unknown> | undefined;
  let seen = 0;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, Limit: Math.min(PAGE_SIZE, MAX_SUPPRESSIONS - seen), ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      seen++;
      try {
        suppressions.push(parseSuppressionRow(item));
      } catch (error) {
        bad.push({ where: `table ${tableName} ${rowWhere(item, `item ${seen}`)}`, reason: (error as Error).message });
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined && seen < MAX_SUPPRESSIONS);
  return { suppressions, bad, ...(startKey !== undefined ? { truncated: true } : {}) };
};

export { dynamoSuppressionStore, dynamoSuppressionReader };
