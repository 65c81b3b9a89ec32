import { Client } from 'pg';
import { DataSource, EntitySchema, MixedList } from 'typeorm';

export interface ServiceDatabaseOptions {
  /** Connection URL of the control database. */
  url: string;
  /** The service's own PostgreSQL schema: no service reads another's tables. */
  schema: string;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
  poolSize?: number;
}

const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function createServiceDataSource(options: ServiceDatabaseOptions): DataSource {
  if (!SCHEMA_NAME.test(options.schema)) throw new Error(`invalid schema name ${options.schema}`);
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    extra: { application_name: `latchkey-${options.schema}` },
  });
}

/**
 * Creates the service's schema and runs its pending migrations under a PostgreSQL advisory lock,
 * so that replicas starting together migrate once. Returns the names of the migrations it ran.
 */
export async function migrate(dataSource: DataSource, schema: string): Promise<string[]> {
  const lock = new Client({ connectionString: dataSourceUrl(dataSource) });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`latchkey:migrate:${schema}`]);
    await execFormatted(lock, 'CREATE SCHEMA IF NOT EXISTS %I', schema);
    if (!dataSource.isInitialized) await dataSource.initialize();
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [`latchkey:migrate:${schema}`]).catch(() => undefined);
    await lock.end();
  }
}

function dataSourceUrl(dataSource: DataSource): string {
  const url = (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('data source has no url');
  return url;
}

/** Creates the control database named in `url` if it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('the database URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await execFormatted(client, 'CREATE DATABASE %I', name).catch((err: { code?: string }) => {
        // Created concurrently by another service: 42P04, or 23505 when both inserts race.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * Runs DDL whose identifier cannot be bound: PostgreSQL's own format('%I') quotes it, so this
 * library needs no quoting function of its own (target databases use pg-access's quoteIdent).
 */
async function execFormatted(client: Client, template: string, identifier: string): Promise<void> {
  const { rows } = await client.query<{ sql: string }>('SELECT format($1::text, $2::text) AS sql', [template, identifier]);
  await client.query(rows[0].sql);
}
