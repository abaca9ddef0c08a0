/**
 * `npm run migrate-state-keys -- --table <FindingStateTable> [--dry-run] [--delete-legacy]`:
 * copies finding-state and ledger items written before the composed keys to their new keys
 * (see shared/aws/migrate-state-keys.ts and the README's delivery guarantees). Run it before
 * the deploy and once more right after; it is idempotent. AWS region and credentials come from
 * the environment, as for the AWS CLI.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { migrateStateKeys } from '../shared/aws/migrate-state-keys.ts';

const main = async (): Promise<number> => {
  let values: { table?: string | undefined; 'dry-run'?: boolean | undefined; 'delete-legacy'?: boolean | undefined };
  try {
    ({ values } = parseArgs({ options: { table: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'delete-legacy': { type: 'boolean' } } }));
  } catch (error) {
    process.stderr.write(`migrate-state-keys: ${(error as Error).message}\n`);
    return 2;
  }
  if (values.table === undefined) {
    process.stderr.write('migrate-state-keys: --table <FindingStateTable name> is required\n');
    return 2;
  }
  const client = new DynamoDBClient({});
  try {
    const counts = await migrateStateKeys(client, values.table, { dryRun: values['dry-run'] === true, deleteLegacy: values['delete-legacy'] === true });
    const verb = values['dry-run'] ? 'would copy' : 'copied';
    process.stdout.write(`${values.table}: scanned ${counts.scanned}, ${verb} ${counts.copied}, kept ${counts.kept} (new key already set), deleted ${counts.deleted}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`migrate-state-keys: ${values.table}: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    client.destroy();
  }
};

process.exitCode = await main();
