import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseError, type Client, type QueryConfig } from 'pg';
import { classifyDatabaseError, databaseErrorCode } from '@latchkey/messaging';
import { getServerInfo, type ServerInfo, type TargetConnectionParams } from '../connection';
import { targetSessions } from '../target-pool';
import { quoteIdent } from '../quote';
import { GrantError } from './grant-error';
import { MANAGED_MARKER_ROLE } from './role-names';
import { NO_JIT } from './unrequestable-roles';

const TRANSACTION_ATTEMPTS = 5;
// Long enough for a peer's grant, short enough that an uncommitted ALTER TABLE cannot stall the queue.
// JIT off: the planner overestimates the recursive walk of memberships, and compiling it would
// cost seconds for a query that runs in milliseconds.
const SESSION_SETTINGS = `SET lock_timeout = '5s'; ${NO_JIT}`;
const RETRY_BASE_MS = 25;
const TERMINATION_DEADLINE_MS = 5_000;
const TERMINATION_POLL_MS = 20;
/** Races of the engine's own statements that running them again resolves, besides what classifyDatabaseError() calls transient. */
const ROLE_CREATION_RACES = new Set([
  '23505', // unique_violation: two sessions creating the same role (from databases whose advisory locks differ)
  '42710', // duplicate_object: the same race, seen as "role already exists"
]);

const configured = new WeakSet<Client>();
const serverInfo = new WeakMap<Client, ServerInfo>();
const markersCheckedAt = new WeakMap<Client, number>();
/** A pooled session re-checks the marker roles this often: someone may drop them meanwhile. */
const MARKER_CHECK_MS = 60_000;

/** Runs `fn` on a (pooled) session on `dbname` with the connector's credentials. */
export async function withSession<T>(conn: TargetConnectionParams, dbname: string, fn: (client: Client) => Promise<T>): Promise<T> {
  return targetSessions.with({ ...conn, dbname }, async (client) => {
    if (!configured.has(client)) {
      await client.query(SESSION_SETTINGS);
      configured.add(client);
    }
    return fn(client);
  });
}

/** The session's server and role; they cannot change under an open session. */
export async function sessionInfo(client: Client): Promise<ServerInfo> {
  let info = serverInfo.get(client);
  if (!info) {
    info = await getServerInfo(client);
    serverInfo.set(client, info);
  }
  return info;
}

/** Runs `check` unless this session ran it within MARKER_CHECK_MS; forgets it when it fails. */
export async function onceInAWhile(client: Client, check: () => Promise<void>): Promise<void> {
  const at = markersCheckedAt.get(client);
  if (at !== undefined && Date.now() - at < MARKER_CHECK_MS) return;
  await check();
  markersCheckedAt.set(client, Date.now());
}

/** Errors that running the same transaction again (on the same session) resolves. */
export function isTransient(error: unknown): boolean {
  if (classifyDatabaseError(error) === 'transient') return true;
  const code = databaseErrorCode(error);
  return code !== undefined && ROLE_CREATION_RACES.has(code);
}

/** Runs `fn` in a transaction, running it again (with jitter) when it fails for a transient reason. */
export async function transaction<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  return retryTransient(async () => {
    await client.query('BEGIN');
    try {
      const result = await fn();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/** Runs `attempt` (which opens and ends its own transaction) again, with jitter, while it fails for a transient reason. */
export async function retryTransient<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= TRANSACTION_ATTEMPTS || !isTransient(error)) throw error;
      await sleep(RETRY_BASE_MS * n * (0.5 + Math.random()));
    }
  }
}

/** Names the lock that serializes Latchkey's GRANTs on objects within one database; no Latchkey role starts with a space. */
export const PRIVILEGES_LOCK = ' object privileges';

/**
 * Serializes Latchkey's changes to one role (a profile or a person), or to PRIVILEGES_LOCK, until
 * the transaction ends. Callers lock several names in sorted order. The two-key form keeps clear of
 * the application's own bigint advisory locks.
 */
export async function lockName(client: Client, name: string): Promise<void> {
  await client.query(lockNameSql('$1'), [name]);
}

/** lockName's statement, `name` an SQL expression (a parameter, or a quoteLiteral()). */
export function lockNameSql(name: string): string {
  return `SELECT pg_advisory_xact_lock(hashtext('latchkey'), hashtext(${name}))`;
}

export interface RoleRow {
  oid: number;
  rolsuper: boolean;
  /** Holds elevated attributes Latchkey never gives. */
  elevated: boolean;
  managed: boolean;
  comment: string | null;
}

export async function findRole(client: Client, name: string): Promise<RoleRow | null> {
  const { rows } = await client.query<RoleRow>({ ...FIND_ROLE, values: [name, MANAGED_MARKER_ROLE] });
  return rows[0] ?? null;
}

/**
 * RoleRow's columns of the role `r`, `$2` the marker role's name. `managed` is a lookup of the role's
 * own membership (a scalar subquery with LIMIT): as an EXISTS, PostgreSQL's plan for a read of
 * several roles hashed every member of the marker (10,000 personal roles: 6-9 ms a read).
 */
export const ROLE_ROW_COLUMNS = `r.oid::int AS oid, r.rolsuper, (r.rolsuper OR r.rolreplication OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb) AS elevated,
          coalesce((SELECT true FROM pg_auth_members m
                     WHERE m.member = r.oid AND m.roleid = (SELECT k.oid FROM pg_roles k WHERE k.rolname = $2) LIMIT 1), false) AS managed,
          shobj_description(r.oid, 'pg_authid') AS comment`;

const FIND_ROLE: PreparedStatement = {
  name: 'latchkey_find_role',
  text: `SELECT ${ROLE_ROW_COLUMNS}
     FROM pg_roles r
    WHERE r.rolname = $1`,
};

/**
 * The catalog reads the engine runs on every grant and revocation are named prepared statements:
 * a pooled session (target-pool.ts) parses each once and PostgreSQL plans it once (a generic
 * plan), where planning a query over pg_roles costs a millisecond or more, several times what
 * running it does. A name always stands for the same text.
 */
export type PreparedStatement = Required<Pick<QueryConfig, 'name' | 'text'>>;

/** Refuses to touch a login role Latchkey did not create: such a role is never a member of latchkey_managed. */
export function assertManaged(name: string, row: RoleRow): void {
  if (!row.managed) {
    throw new GrantError(
      'not_managed',
      `Role ${quoteIdent(name)} exists but is not a member of latchkey_managed: Latchkey did not create it and leaves it alone`,
    );
  }
}

/**
 * Ends every session of `roles` in every database, and waits until they are gone (a backend that
 * was authenticating while a role lost LOGIN can still appear, so it scans until none is left).
 * Answers how many sessions of each role ended.
 */
export async function terminateSessions(client: Client, roles: string[], connector: string): Promise<Map<string, number>> {
  const terminated = new Map<string, Set<number>>(roles.map((role) => [role, new Set<number>()]));
  const counts = () => new Map([...terminated].map(([role, pids]) => [role, pids.size]));
  const deadline = Date.now() + TERMINATION_DEADLINE_MS;
  for (;;) {
    let rows: Array<{ pid: number; role: string }>;
    try {
      ({ rows } = await client.query<{ pid: number; role: string }>({ ...TERMINATE_SESSIONS, values: [roles] }));
    } catch (error) {
      throw terminationError(error, roles, connector);
    }
    if (rows.length === 0) return counts();
    for (const row of rows) terminated.get(row.role)?.add(row.pid);
    if (Date.now() > deadline) {
      const survivors = [...new Set(rows.map((r) => r.role))].sort().map(quoteIdent).join(', ');
      throw new GrantError(
        'sessions_survive',
        `${rows.length} session(s) of ${survivors} were still alive ${TERMINATION_DEADLINE_MS} ms after being terminated`,
      );
    }
    await sleep(TERMINATION_POLL_MS);
  }
}

/** One scan of terminateSessions: signals every other session of the roles, answering their pids and roles. */
const TERMINATE_SESSIONS: PreparedStatement = {
  name: 'latchkey_terminate_sessions',
  text: 'SELECT pid, usename::text AS role, pg_terminate_backend(pid) AS signalled FROM pg_stat_activity WHERE usename = ANY($1::text[]) AND pid <> pg_backend_pid()',
};

/** What a failed scan of terminateSessions means: the connector may lack the right to signal the role's backends. */
export function terminationError(error: unknown, roles: string[], connector: string): unknown {
  if (error instanceof DatabaseError && error.code === '42501') {
    return new GrantError(
      'missing_privilege',
      `The connector cannot end the sessions of ${roles.map(quoteIdent).join(', ')}: ${error.message}`,
      `GRANT "pg_signal_backend" TO ${quoteIdent(connector)};`,
      'pg_signal_backend',
    );
  }
  return error;
}
