import type { Client } from 'pg';
import type { PreflightCheck, PreflightReport } from '@latchkey/contracts';
import { connectTarget, getServerInfo, type ServerInfo, type TargetConnectionParams } from './connection';
import { redactCredentials, TargetConnectionError } from './connection-error';
import {
  adminOptionFix,
  createRolesFix,
  databaseGrantDetail,
  databaseGrantFix,
  MAX_FIX_STATEMENTS,
  plural,
  terminateBackendsFix,
  type SchemaGap,
} from './preflight-fixes';
import { isControlDatabaseSql } from './control-database';
import { MANAGED_MARKER_ROLE, ORPHAN_OWNER_ROLE } from './grants/role-names';
import { blockerCtesSql, NO_JIT } from './grants/unrequestable-roles';
import { quoteIdent, quoteLiteral } from './quote';

export interface PreflightOptions {
  connectorId: string;
  /** Databases inspected object by object; the others get the CONNECT check only. */
  maxDatabases?: number;
}

export const DEFAULT_PREFLIGHT_MAX_DATABASES = 50;
const OLDEST_SUPPORTED_VERSION_NUM = 130_000;
const DATABASE_CONCURRENCY = 4;
const ROLE_NAMES_SHOWN = 5;
// PostgreSQL 16 made CREATEROLE need ADMIN OPTION on the roles it grants.
const ADMIN_OPTION_REQUIRED_FROM_MAJOR = 16;

/**
 * Roles the connector lacks ADMIN OPTION on, that Latchkey may hand out ($1: how many to list):
 * never a role it refuses to hand out (ADMIN OPTION on it would put the connector one GRANT away
 * from it), except the marker roles it grants to every personal role.
 */
const ROLES_LACKING_ADMIN_SQL = `
  WITH RECURSIVE candidate AS (
    SELECT r.oid, r.rolname FROM pg_roles r
     WHERE NOT r.rolsuper
       AND r.rolname !~ '^pg_'
       AND r.rolname <> current_user
       AND NOT pg_has_role(r.oid, 'MEMBER WITH ADMIN OPTION')
  ),
  ${blockerCtesSql('SELECT oid FROM candidate')}
  SELECT c.rolname, (count(*) OVER ())::int AS total
    FROM candidate c
    LEFT JOIN blocker ON blocker.start = c.oid
   WHERE blocker.start IS NULL OR c.rolname IN (${quoteLiteral(MANAGED_MARKER_ROLE)}, ${quoteLiteral(ORPHAN_OWNER_ROLE)})
   ORDER BY c.rolname
   LIMIT $1`;

/** Databases to check, Latchkey's own control database left out: no fix is ever suggested for it. */
const DATABASES_SQL = `
  SELECT d.datname, has_database_privilege(d.oid, 'CONNECT WITH GRANT OPTION') AS can_grant_connect
    FROM pg_database d
   WHERE d.datallowconn AND NOT d.datistemplate AND has_database_privilege(d.oid, 'CONNECT')
     AND NOT ${isControlDatabaseSql('d.oid')}
   ORDER BY d.datname`;

/**
 * Tests an integration: connects with its sslmode, then reports capability by capability what
 * the connector user can do and the SQL that grants what is missing. Never throws: a failure
 * becomes a failed check.
 */
export async function runPreflight(params: TargetConnectionParams, opts: PreflightOptions): Promise<PreflightReport> {
  const base = { testedAt: new Date().toISOString(), connectorId: opts.connectorId };
  let client: Client;
  let tls: boolean;
  try {
    ({ client, tls } = await connectTarget(params));
  } catch (error) {
    return { ...base, ok: false, connected: false, tls: false, checks: [connectFailure(error, params)] };
  }
  let info: ServerInfo | undefined;
  try {
    info = await getServerInfo(client);
    const checks = [
      connectCheck(info, tls, params),
      createRolesCheck(info),
      ...(await databaseChecks(client, params, info, opts.maxDatabases ?? DEFAULT_PREFLIGHT_MAX_DATABASES)),
      await terminateBackendsCheck(client, info),
      await adminOptionCheck(client, info),
    ];
    return { ...base, ok: checks.every((c) => c.ok), connected: true, tls, ...serverFields(info), checks };
  } catch (error) {
    const detail = `Connected, but the preflight could not finish: ${redactCredentials(errorMessage(error), params)}`;
    return { ...base, ok: false, connected: true, tls, ...serverFields(info), checks: [{ id: 'connect', ok: false, detail }] };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function serverFields(info: ServerInfo | undefined): Pick<PreflightReport, 'serverVersion' | 'serverVersionNum' | 'user' | 'superuser'> {
  return info ? { serverVersion: info.version, serverVersionNum: info.versionNum, user: info.currentUser, superuser: info.superuser } : {};
}

function connectFailure(error: unknown, credentials: TargetConnectionParams): PreflightCheck {
  if (error instanceof TargetConnectionError) return { id: 'connect', ok: false, detail: error.message, fix: error.hint };
  return { id: 'connect', ok: false, detail: redactCredentials(errorMessage(error), credentials) };
}

function connectCheck(info: ServerInfo, tls: boolean, params: TargetConnectionParams): PreflightCheck {
  const detail =
    `PostgreSQL ${info.version} (server_version_num ${info.versionNum}); connected as the connector user, ` +
    `${info.superuser ? 'a superuser' : 'not a superuser'}, ${tls ? 'over TLS' : 'without TLS'} (sslmode=${params.sslmode}).`;
  if (info.versionNum < OLDEST_SUPPORTED_VERSION_NUM) {
    return { id: 'connect', ok: false, detail: `${detail} Latchkey supports PostgreSQL 13 and later.`, fix: 'Upgrade the server to PostgreSQL 13 or later.' };
  }
  return { id: 'connect', ok: true, detail };
}

function createRolesCheck(info: ServerInfo): PreflightCheck {
  if (info.superuser) return { id: 'create_roles', ok: true, detail: 'Superuser: can create roles.' };
  if (info.createRole) return { id: 'create_roles', ok: true, detail: 'Has CREATEROLE: can create and alter login and group roles.' };
  return {
    id: 'create_roles',
    ok: false,
    detail: 'Lacks CREATEROLE: cannot create the personal login roles and profile roles Latchkey grants through.',
    fix: createRolesFix(info.currentUser),
  };
}

async function terminateBackendsCheck(client: Client, info: ServerInfo): Promise<PreflightCheck> {
  if (info.superuser) return { id: 'terminate_backends', ok: true, detail: 'Superuser: can end any session.' };
  const { rows } = await client.query<{ can_signal: boolean }>(`SELECT pg_has_role('pg_signal_backend'::name, 'USAGE') AS can_signal`);
  if (rows[0]?.can_signal) {
    return { id: 'terminate_backends', ok: true, detail: 'Has the privileges of pg_signal_backend: can end the sessions of revoked users.' };
  }
  return {
    id: 'terminate_backends',
    ok: false,
    detail: 'Lacks pg_signal_backend: cannot end the open sessions of a user whose access was revoked.',
    fix: terminateBackendsFix(info.currentUser),
  };
}

async function adminOptionCheck(client: Client, info: ServerInfo): Promise<PreflightCheck> {
  if (info.superuser) return { id: 'admin_option', ok: true, detail: 'Superuser: can grant membership in any role.' };
  const before16 = info.majorVersion < ADMIN_OPTION_REQUIRED_FROM_MAJOR;
  if (before16 && info.createRole) {
    return { id: 'admin_option', ok: true, detail: `PostgreSQL ${info.majorVersion}: CREATEROLE lets it grant membership in any non-superuser role.` };
  }
  await client.query(NO_JIT);
  const { rows } = await client.query<{ rolname: string; total: number }>(ROLES_LACKING_ADMIN_SQL, [MAX_FIX_STATEMENTS]);
  const why = before16
    ? 'Without CREATEROLE it can grant only roles it holds ADMIN OPTION on.'
    : `PostgreSQL ${info.majorVersion} lets a role grant only roles it created or holds ADMIN OPTION on.`;
  const total = rows[0]?.total ?? 0;
  if (total === 0) return { id: 'admin_option', ok: true, detail: `${why} It holds ADMIN OPTION on every role Latchkey may hand out.` };
  const names = rows
    .slice(0, ROLE_NAMES_SHOWN)
    .map((r) => quoteIdent(r.rolname))
    .join(', ');
  const more = total > ROLE_NAMES_SHOWN ? `, and ${total - ROLE_NAMES_SHOWN} more` : '';
  return {
    id: 'admin_option',
    ok: false,
    detail: `${why} It lacks ADMIN OPTION on ${plural(total, 'role', 'roles')}: ${names}${more}.`,
    fix: adminOptionFix(
      info.currentUser,
      rows.map((r) => r.rolname),
      total,
    ),
  };
}

interface DatabaseRow {
  datname: string;
  can_grant_connect: boolean;
}

async function databaseChecks(client: Client, params: TargetConnectionParams, info: ServerInfo, maxDatabases: number): Promise<PreflightCheck[]> {
  const { rows } = await client.query<DatabaseRow>(DATABASES_SQL);
  return mapConcurrently(rows, DATABASE_CONCURRENCY, (db, index) => {
    if (index >= maxDatabases) return Promise.resolve(uninspectedDatabaseCheck(db, info, maxDatabases));
    return inspectDatabase(db, db.datname === params.dbname ? client : null, params, info);
  });
}

function uninspectedDatabaseCheck(db: DatabaseRow, info: ServerInfo, maxDatabases: number): PreflightCheck {
  const detail = `${databaseGrantDetail(db.can_grant_connect, [])} Schemas and tables not inspected: a preflight inspects at most ${maxDatabases} databases.`;
  return databaseCheck(db, info, [], detail);
}

/** Connects to one database (or reuses the session already there) to count what the user cannot grant. */
async function inspectDatabase(db: DatabaseRow, session: Client | null, params: TargetConnectionParams, info: ServerInfo): Promise<PreflightCheck> {
  const uninspectable = (reason: string): PreflightCheck => ({ ...databaseCheck(db, info, []), ok: false, detail: `Cannot inspect this database: ${reason}` });
  let client = session;
  if (!client) {
    try {
      ({ client } = await connectTarget({ ...params, dbname: db.datname }));
    } catch (error) {
      return uninspectable(error instanceof TargetConnectionError ? error.message : redactCredentials(errorMessage(error), params));
    }
  }
  try {
    return databaseCheck(db, info, await schemaGaps(client));
  } catch (error) {
    return uninspectable(redactCredentials(errorMessage(error), params));
  } finally {
    if (client !== session) await client.end().catch(() => undefined);
  }
}

function databaseCheck(db: DatabaseRow, info: ServerInfo, gaps: SchemaGap[], detail = databaseGrantDetail(db.can_grant_connect, gaps)): PreflightCheck {
  const ok = db.can_grant_connect && gaps.length === 0;
  return {
    id: 'grant_database',
    target: db.datname,
    ok,
    detail,
    ...(ok ? {} : { fix: databaseGrantFix(info.currentUser, db.datname, db.can_grant_connect, gaps) }),
  };
}

async function schemaGaps(client: Client): Promise<SchemaGap[]> {
  const { rows } = await client.query<{ nspname: string; lacks_usage: boolean; tables: number; sequences: number }>(
    `SELECT nspname, lacks_usage, tables, sequences
       FROM (SELECT n.nspname,
                    NOT has_schema_privilege(n.oid, 'USAGE WITH GRANT OPTION') AS lacks_usage,
                    (SELECT count(*) FROM pg_class c
                      WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                        AND NOT has_table_privilege(c.oid, 'SELECT WITH GRANT OPTION'))::int AS tables,
                    -- CASE, because has_sequence_privilege() fails on a relation that is not a sequence
                    -- and the planner may evaluate it before the relkind test.
                    (SELECT count(*) FROM pg_class c
                      WHERE c.relnamespace = n.oid
                        AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(c.oid, 'USAGE WITH GRANT OPTION') END)::int AS sequences
               FROM pg_namespace n
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                AND n.nspname !~ '^pg_(toast_)?temp_') AS g
      WHERE lacks_usage OR tables > 0 OR sequences > 0
      ORDER BY nspname`,
  );
  return rows.map((r) => ({ schema: r.nspname, lacksUsage: r.lacks_usage, tables: r.tables, sequences: r.sequences }));
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of `items`. */
async function mapConcurrently<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
