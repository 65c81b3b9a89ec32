import type { Client } from 'pg';
import type { ResourceKind } from '@latchkey/contracts';
import { connectTarget, type TargetConnectionParams } from '../connection';
import { redactCredentials, TargetConnectionError } from '../connection-error';
import { MANAGED_MARKER_ROLE, ORPHAN_OWNER_ROLE } from '../grants/role-names';
import { NO_JIT, unrequestableReason } from '../grants/unrequestable-roles';
import { DATABASES_SQL, RELATIONS_SQL, RELKIND, ROLES_SQL, SCHEMAS_SQL, type CatalogRow, type RoleRow } from './catalog-queries';

/** One object found on the instance, each name exactly as PostgreSQL spells it. */
export interface DiscoveredObject {
  kind: ResourceKind;
  /** Every kind but `role` (roles belong to the whole instance). */
  database?: string;
  /** Schema-level kinds. */
  schema?: string;
  name: string;
  owner: string | null;
  comment: string | null;
  /** Latchkey's own roles. */
  managed: boolean;
  /** Roles only: why membership in it is never handed out (see unrequestableReason()); null otherwise. */
  unrequestableReason: string | null;
}

export interface DiscoveryOptions {
  /** Kinds to return; databases are visited whenever a schema-level kind is asked for. */
  kinds: ReadonlySet<ResourceKind>;
  /** Rows per catalog query page. */
  pageSize?: number;
  /** Databases read at the same time, each on its own session. */
  databaseConcurrency?: number;
}

export interface SkippedDatabase {
  database: string;
  reason: string;
}

export interface DiscoveryOutcome {
  /** Databases whose schema-level objects were all read. */
  databasesRead: string[];
  /** Databases that could not be read: their objects are unknown, not gone. */
  skipped: SkippedDatabase[];
}

/** Reading the instance failed part-way (the session dropped, a query was refused). */
export class DiscoveryReadError extends Error {
  override readonly name = 'DiscoveryReadError';
}

export const DEFAULT_DISCOVERY_PAGE_SIZE = 2000;
const DEFAULT_DATABASE_CONCURRENCY = 4;
const SCHEMA_LEVEL_KINDS: readonly ResourceKind[] = ['schema', 'table', 'partitioned_table', 'view', 'materialized_view', 'foreign_table', 'sequence'];

/**
 * Reads the inventory of one instance, one catalog query per kind per database, page by page:
 * the next page of a query is read while `sink` takes the previous one, and the sink is never
 * called again before its last call settled, so memory holds a few pages whatever the size of the
 * instance (`databaseConcurrency` databases at a time). The integration's own database is
 * the starting point: failing to reach it throws (TargetConnectionError) and nothing is
 * reported; another database that cannot be read is listed in `skipped`.
 */
export async function discoverInstance(
  params: TargetConnectionParams,
  options: DiscoveryOptions,
  sink: (objects: DiscoveredObject[]) => Promise<void>,
): Promise<DiscoveryOutcome> {
  const pageSize = options.pageSize ?? DEFAULT_DISCOVERY_PAGE_SIZE;
  const wanted = options.kinds;
  const schemaLevel = SCHEMA_LEVEL_KINDS.filter((k) => wanted.has(k));
  // Pages of several databases arrive concurrently; the sink sees them one at a time.
  const serialSink = serialize(sink);
  const { client } = await connectTarget(params);
  const fail = (error: unknown, what: string): never => {
    if (error instanceof SinkError) throw error.cause;
    if (error instanceof TargetConnectionError || error instanceof DiscoveryReadError) throw error;
    throw new DiscoveryReadError(`${what}: ${redactCredentials(errorMessage(error), params)}`);
  };
  try {
    const databases: Array<{ name: string; canConnect: boolean }> = [];
    try {
      await pageThrough<CatalogRow & { can_connect: boolean }>(client, DATABASES_SQL, [], pageSize, async (rows) => {
        for (const row of rows) databases.push({ name: row.name, canConnect: row.can_connect });
        if (wanted.has('database')) await serialSink(rows.map((row) => toObject('database', row)));
      });
      if (wanted.has('role')) await client.query(NO_JIT);
      if (wanted.has('role'))
        await pageThrough<RoleRow>(client, ROLES_SQL, [MANAGED_MARKER_ROLE, ORPHAN_OWNER_ROLE], pageSize, (rows) =>
          serialSink(rows.map((row) => toObject('role', row))),
        );
    } catch (error) {
      fail(error, `Reading databases and roles from ${params.dbname} failed`);
    }
    const outcome: DiscoveryOutcome = { databasesRead: [], skipped: [] };
    if (schemaLevel.length === 0) return outcome;

    await mapConcurrently(databases, options.databaseConcurrency ?? DEFAULT_DATABASE_CONCURRENCY, async (db, stop) => {
      if (!db.canConnect) {
        outcome.skipped.push({ database: db.name, reason: 'the connector user lacks CONNECT on this database' });
        return;
      }
      const own = db.name === params.dbname;
      let session: Client;
      try {
        session = own ? client : (await connectTarget({ ...params, dbname: db.name })).client;
      } catch (error) {
        outcome.skipped.push({
          database: db.name,
          reason: error instanceof TargetConnectionError ? error.message : redactCredentials(errorMessage(error), params),
        });
        return;
      }
      try {
        await readDatabase(session, db.name, schemaLevel, pageSize, serialSink, stop);
        outcome.databasesRead.push(db.name);
      } catch (error) {
        // The starting database stands for the instance, and the sink for the caller: either failing fails the read.
        if (own || error instanceof SinkError || stop.stopped) fail(error, `Reading database ${db.name} failed`);
        outcome.skipped.push({ database: db.name, reason: redactCredentials(errorMessage(error), params) });
      } finally {
        if (!own) await session.end().catch(() => undefined);
      }
    });
    return outcome;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readDatabase(
  client: Client,
  database: string,
  kinds: readonly ResourceKind[],
  pageSize: number,
  sink: (objects: DiscoveredObject[]) => Promise<void>,
  stop: Stop,
): Promise<void> {
  for (const kind of kinds) {
    const [sql, extra] = kind === 'schema' ? [SCHEMAS_SQL, []] : [RELATIONS_SQL, [RELKIND[kind]]];
    await pageThrough(client, sql, extra, pageSize, (rows) => sink(rows.map((row) => toObject(kind, row, database))), stop);
  }
}

/**
 * Runs a keyset-paged query ($1 last oid, $2 page size, then `extra`) and hands each page on. The
 * next page is read while the sink takes the previous one: at most two pages are held at a time.
 */
async function pageThrough<R extends CatalogRow>(
  client: Client,
  sql: string,
  extra: unknown[],
  pageSize: number,
  onPage: (rows: R[]) => Promise<void>,
  stop?: Stop,
): Promise<void> {
  let sinking: Promise<void> = Promise.resolve();
  let sinkFailure: { error: unknown } | undefined;
  const drain = async () => {
    await sinking;
    if (sinkFailure) throw new SinkError(sinkFailure.error);
  };
  let after = 0;
  try {
    for (;;) {
      if (stop?.stopped) throw new DiscoveryReadError('stopped: reading another database failed');
      const { rows } = await client.query<R>(sql, [after, pageSize, ...extra]);
      await drain();
      if (rows.length === 0) break;
      // Caught at once (an unhandled rejection would end the process), reported by drain().
      sinking = onPage(rows).catch((error: unknown) => {
        sinkFailure = { error };
      });
      if (rows.length < pageSize) break;
      after = rows[rows.length - 1].oid;
    }
  } catch (error) {
    // Nothing is written after this function returns, whatever ended the loop.
    await sinking;
    throw error;
  }
  await drain();
}

function toObject(kind: ResourceKind, row: CatalogRow | RoleRow, database?: string): DiscoveredObject {
  return {
    kind,
    ...(database === undefined ? {} : { database }),
    ...(row.schema === null ? {} : { schema: row.schema }),
    name: row.name,
    owner: row.owner,
    comment: row.comment,
    managed: row.managed,
    unrequestableReason: kind === 'role' ? unrequestableReason(row.name, row as RoleRow) : null,
  };
}

/** A failure of the sink (the caller's own storage), kept apart from failures to read the target. */
class SinkError extends Error {
  constructor(override readonly cause: unknown) {
    super('the discovery sink failed');
  }
}

function serialize<T>(fn: (value: T) => Promise<void>): (value: T) => Promise<void> {
  let tail: Promise<unknown> = Promise.resolve();
  return (value) => {
    const run = tail.then(() => fn(value));
    tail = run.catch(() => undefined);
    return run;
  };
}

interface Stop {
  stopped: boolean;
}

/**
 * Runs `task` over `items`, `concurrency` at a time. The first failure stops the others at their
 * next page, and is thrown only once every task has settled: nothing reaches the sink afterwards.
 */
async function mapConcurrently<T>(items: readonly T[], concurrency: number, task: (item: T, stop: Stop) => Promise<void>): Promise<void> {
  const stop: Stop = { stopped: false };
  let next = 0;
  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (!stop.stopped && next < items.length) {
        try {
          await task(items[next++], stop);
        } catch (error) {
          failure ??= { error };
          stop.stopped = true;
        }
      }
    }),
  );
  if (failure) throw failure.error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
