import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import schema from '../../../deploy/analytics-columns.json' with { type: 'json' };

/**
 * The Glue table, in DuckDB: the same columns (deploy/analytics-columns.json, which the CloudFormation
 * generator turns into Hive types) read by read_json over Firehose-shaped objects, with `dt` from the
 * `dt=` folder as partition projection gives it to Athena. DuckDB, like Athena, matches column and
 * struct field names without regard to case, so the queries' camelCase works on both.
 */
type ColumnType = string | { struct: Record<string, ColumnType> } | { array: ColumnType };

const DUCKDB_SCALARS: Record<string, string> = { string: 'VARCHAR', boolean: 'BOOLEAN', double: 'DOUBLE', bigint: 'BIGINT' };
const definitions = schema.definitions as unknown as Record<string, ColumnType>;
const columns = schema.columns as unknown as { name: string; type: ColumnType }[];

const duckdbType = (type: ColumnType): string => {
  if (typeof type === 'string') {
    if (type.startsWith('#')) {
      const definition = definitions[type.slice(1)];
      if (definition === undefined) throw new Error(`analytics-columns.json: no definition ${type}`);
      return duckdbType(definition);
    }
    const scalar = DUCKDB_SCALARS[type];
    if (scalar === undefined) throw new Error(`analytics-columns.json: no DuckDB type for ${type}`);
    return scalar;
  }
  if ('array' in type) return `${duckdbType(type.array)}[]`;
  return `STRUCT(${Object.entries(type.struct).map(([name, field]) => `"${name}" ${duckdbType(field)}`).join(', ')})`;
};

const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** `{'finding': 'STRUCT(...)', ...}`: read_json's columns argument. */
const columnsArgument = (): string =>
  `{${columns.map(({ name, type }) => `${sqlString(name)}: ${sqlString(duckdbType(type))}`).join(', ')}}`;

/** Every object under `<bucketDir>/findings/`, as Athena would list the table's location. */
const objectsUnder = (bucketDir: string): string[] => {
  const root = join(bucketDir, 'findings');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
};

/**
 * Creates the table over the bucket directory. An empty bucket is an empty table (Athena answers no
 * rows; DuckDB's read_json refuses an empty file list, so the empty table is made from the schema).
 */
const createFindingsTable = async (connection: DuckDBConnection, bucketDir: string): Promise<void> => {
  const table = schema.table;
  const partition = schema.partitionKeys.map(({ name }) => `${name} VARCHAR`).join(', ');
  const files = objectsUnder(bucketDir);
  if (files.length === 0) {
    const declared = columns.map(({ name, type }) => `"${name}" ${duckdbType(type)}`);
    await connection.run(`CREATE OR REPLACE TABLE ${table} (${[...declared, partition].join(', ')})`);
    return;
  }
  await connection.run(
    `CREATE OR REPLACE TABLE ${table} AS SELECT * FROM read_json([${files.map(sqlString).join(', ')}], ` +
      `format = 'newline_delimited', compression = 'gzip', columns = ${columnsArgument()}, ` +
      `hive_partitioning = true, hive_types = {${schema.partitionKeys.map(({ name }) => `${sqlString(name)}: 'VARCHAR'`).join(', ')}})`,
  );
};

export { createFindingsTable };
