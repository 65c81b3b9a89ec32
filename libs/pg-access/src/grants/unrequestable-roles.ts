import type { Client } from 'pg';
import { isControlDatabaseSql } from '../control-database';
import { quoteIdent, quoteLiteral } from '../quote';
import { GrantError } from './grant-error';
import { MANAGED_MARKER_ROLE, ORPHAN_OWNER_ROLE, PROFILE_ROLE_PREFIX } from './role-names';

/**
 * PostgreSQL's predefined roles whose power reaches past any resource Latchkey offers: a role that
 * is, or reaches through its memberships, one of them is never handed out. A name missing from an
 * older server simply matches nothing. Left out on purpose: pg_stat_scan_tables (read-only
 * statistics functions), pg_database_owner (no explicit members possible), and pg_monitor, which
 * is refused anyway because it reaches pg_read_all_settings and pg_read_all_stats.
 */
export const DANGEROUS_PREDEFINED_ROLES: ReadonlyArray<{ name: string; since: number; power: string }> = [
  { name: 'pg_execute_server_program', since: 11, power: 'runs programs on the database server as its operating-system user (COPY ... PROGRAM)' },
  { name: 'pg_read_server_files', since: 11, power: 'reads any file the database server can read (COPY FROM a file, pg_read_file)' },
  { name: 'pg_write_server_files', since: 11, power: 'writes any file the database server can write (COPY TO a file)' },
  { name: 'pg_signal_backend', since: 9.6, power: "cancels and terminates other users' sessions" },
  { name: 'pg_read_all_settings', since: 10, power: 'reads every setting, superuser-only ones included (connection strings there may hold passwords)' },
  { name: 'pg_read_all_stats', since: 10, power: "reads every session's query text, other people's literals included" },
  { name: 'pg_read_all_data', since: 14, power: 'reads every table, view and sequence of every database, whatever their grants' },
  { name: 'pg_write_all_data', since: 14, power: 'writes every table of every database, whatever their grants' },
  { name: 'pg_checkpoint', since: 15, power: 'forces checkpoints, a load on the whole instance' },
  { name: 'pg_create_subscription', since: 16, power: 'creates subscriptions: the server connects out to any host and writes what it receives into tables' },
  { name: 'pg_use_reserved_connections', since: 16, power: 'takes the connection slots reserved for administrators' },
  { name: 'pg_maintain', since: 17, power: 'runs VACUUM, ANALYZE, CLUSTER, REINDEX, REFRESH and LOCK TABLE on every relation (exclusive locks on any table)' },
  { name: 'pg_signal_autovacuum_worker', since: 18, power: 'cancels and terminates autovacuum workers' },
];

/** What makes a role unrequestable; the nearest blocker is named, the most serious first among equally near ones. */
export type BlockedAs = 'latchkey' | 'control_owner' | 'superuser' | 'createrole' | 'createdb' | 'replication' | 'bypassrls' | 'predefined' | 'postgres_own';

/** The first role on the way that makes the role unrequestable, and how far it is. */
export interface Blocker {
  blocked_by: string;
  blocked_as: BlockedAs;
  blocked_depth: number;
}

const literals = (names: readonly string[]) => names.map(quoteLiteral).join(', ');

/**
 * Sent once per session before blockerCtesSql() queries: the planner's estimate of the recursive
 * walk is far above what it reads, and above jit_above_cost, so the server would spend seconds
 * compiling a query that runs in milliseconds.
 */
export const NO_JIT = 'SET jit = off';

/**
 * Common table expressions, for a `WITH RECURSIVE` list, that give in `blocker` (columns start,
 * blocked_by, blocked_as, blocked_depth) the first blocker of each role whose oid `seed` (an SQL
 * query with an `oid` column) yields: among the role itself and every role it reaches through
 * pg_auth_members, recursively, whatever the membership's INHERIT, SET or ADMIN options (ADMIN
 * alone lets a member grant the role to itself). Roles nothing blocks have no row. Set-based, so
 * a page of thousands of roles costs a few hash joins; PostgreSQL refuses circular memberships,
 * and UNION drops repeated (role, reached, depth) rows, so the walk ends and stays small.
 */
export function blockerCtesSql(seed: string): string {
  const predefined = DANGEROUS_PREDEFINED_ROLES.map((r) => r.name);
  return `reach(start, oid, depth) AS (
      SELECT seed.oid, seed.oid, 0 FROM (${seed}) seed
      UNION
      SELECT reach.start, m.roleid, reach.depth + 1 FROM reach JOIN pg_auth_members m ON m.member = reach.oid
    ),
    control_owner AS (
      SELECT d.datdba FROM pg_database d WHERE ${isControlDatabaseSql('d.oid')}
    ),
    blocker AS (
      SELECT DISTINCT ON (reach.start) reach.start, g.rolname::text AS blocked_by, b.what AS blocked_as, reach.depth AS blocked_depth
        FROM reach
        JOIN pg_roles g ON g.oid = reach.oid
        CROSS JOIN LATERAL (VALUES
          (1, CASE WHEN g.rolname IN (${literals([MANAGED_MARKER_ROLE, ORPHAN_OWNER_ROLE])}) OR starts_with(g.rolname, ${quoteLiteral(PROFILE_ROLE_PREFIX)}) THEN 'latchkey' END),
          (2, CASE WHEN g.oid IN (SELECT datdba FROM control_owner) THEN 'control_owner' END),
          (3, CASE WHEN g.rolsuper THEN 'superuser' END),
          (4, CASE WHEN g.rolcreaterole THEN 'createrole' END),
          (5, CASE WHEN g.rolcreatedb THEN 'createdb' END),
          (6, CASE WHEN g.rolreplication THEN 'replication' END),
          (7, CASE WHEN g.rolbypassrls THEN 'bypassrls' END),
          (8, CASE WHEN g.rolname IN (${literals(predefined)}) THEN 'predefined' END),
          (9, CASE WHEN reach.depth = 0 AND starts_with(g.rolname, 'pg_') THEN 'postgres_own' END)
        ) AS b(priority, what)
       WHERE b.what IS NOT NULL
       ORDER BY reach.start, reach.depth, b.priority, g.rolname
    )`;
}

const WHAT: Record<Exclude<BlockedAs, 'predefined'>, string> = {
  latchkey: "is one of Latchkey's own roles (membership in it would bypass access flows and their approvers)",
  control_owner: "owns Latchkey's control database",
  superuser: 'is a superuser',
  createrole: 'has CREATEROLE',
  createdb: 'has CREATEDB',
  replication: 'has REPLICATION',
  bypassrls: 'has BYPASSRLS',
  postgres_own: "is one of PostgreSQL's predefined roles, which Latchkey never hands out",
};

/** Why membership in `role` is never handed out, as an administrator reads it; null when nothing blocks it. */
export function unrequestableReason(role: string, blocker: Partial<Blocker> | null | undefined): string | null {
  if (!blocker?.blocked_as || blocker.blocked_by === undefined || blocker.blocked_depth === undefined) return null;
  const by = blocker.blocked_by;
  const what =
    blocker.blocked_as === 'predefined'
      ? `is PostgreSQL's predefined role that ${DANGEROUS_PREDEFINED_ROLES.find((r) => r.name === by)?.power ?? 'holds powers over the whole instance'}`
      : WHAT[blocker.blocked_as];
  const depth = Number(blocker.blocked_depth);
  if (depth === 0) return `${quoteIdent(role)} ${what}`;
  return `${quoteIdent(role)} is a member of ${quoteIdent(by)} (${depth === 1 ? 'directly' : `through ${depth - 1} other role${depth === 2 ? '' : 's'}`}), which ${what}`;
}

/** Those of $1 (role names) that something blocks, with their blocker. */
const BLOCKED_ROLES_SQL = `
  WITH RECURSIVE ${blockerCtesSql('SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[])')}
  SELECT r.rolname::text AS role, blocker.blocked_by, blocker.blocked_as, blocker.blocked_depth
    FROM blocker JOIN pg_roles r ON r.oid = blocker.start
   ORDER BY r.rolname`;

/**
 * Throws GrantError('invalid_item') when one of `roles` is, or reaches, what Latchkey never hands
 * out. Read on the target at the time of the grant: a role may have changed since discovery.
 */
export async function assertRequestableRoles(client: Client, roles: string[]): Promise<void> {
  if (roles.length === 0) return;
  const { rows } = await client.query<Blocker & { role: string }>(BLOCKED_ROLES_SQL, [roles]);
  if (rows.length > 0) {
    throw new GrantError(
      'invalid_item',
      rows.map((row) => `Latchkey never hands out membership in ${quoteIdent(row.role)}: ${unrequestableReason(row.role, row)}.`).join(' '),
    );
  }
}
