import { Client, DatabaseError } from 'pg';
import { DataSource, EntitySchema, MixedList } from 'typeorm';
import { CONTROL_DATABASE_TAG } from '@latchkey/contracts';
import { lockForTransaction, withSessionLock } from './advisory-locks';

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
    const ran = await withSessionLock(
      lock,
      `latchkey:migrate:${schema}`,
      async () => {
        await execFormatted(lock, 'CREATE SCHEMA IF NOT EXISTS %I', schema);
        if (!dataSource.isInitialized) await dataSource.initialize();
        return dataSource.runMigrations({ transaction: 'each' });
      },
      { wait: true },
    );
    return ran.taken ? ran.value.map((m) => m.name) : [];
  } finally {
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

const CONTROL_DATABASE_PROSE = 'Latchkey control database: connectors never discover, offer or grant anything in it.';

/**
 * Marks the control database named in `url` as Latchkey's own: CONTROL_DATABASE_TAG on a line of
 * its COMMENT (added to what the comment already says), which connectors read to leave it alone
 * when an integration points at the instance that holds it. Run at every start, so a comment
 * rewritten by hand gets the line back. Answers why it could not (the user does not own the
 * database), or null.
 */
export async function markControlDatabase(url: string): Promise<string | null> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    // COMMENT ON DATABASE from several services starting together would fail with "tuple concurrently updated".
    await lockForTransaction(client, 'latchkey:control-database-marker');
    const { rows } = await client.query<{ name: string; comment: string | null }>(
      `SELECT current_database() AS name, shobj_description(d.oid, 'pg_database') AS comment FROM pg_database d WHERE d.datname = current_database()`,
    );
    const { name, comment } = rows[0]!;
    if (!(comment ?? '').split(/\r?\n/).some((line) => line.trim() === CONTROL_DATABASE_TAG)) {
      const marked = comment ? `${comment}\n${CONTROL_DATABASE_TAG}` : `${CONTROL_DATABASE_PROSE}\n${CONTROL_DATABASE_TAG}`;
      const { rows: sql } = await client.query<{ sql: string }>('SELECT format($1::text, $2::text, $3::text) AS sql', [
        'COMMENT ON DATABASE %I IS %L',
        name,
        marked,
      ]);
      await client.query(sql[0]!.sql);
    }
    await client.query('COMMIT');
    return null;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof DatabaseError && err.code === '42501') return err.message;
    throw err;
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
