import type { Client } from 'pg';
import type { ServerInfo, TargetConnectionParams } from '../connection';
import { quoteIdent } from '../quote';
import { selfGrantStatement } from './grant-sql';
import { disableManagedRole } from './revoke-grant';
import { ensureMarkerRoles } from './role-admin';
import { ORPHAN_OWNER_ROLE } from './role-names';
import { findRole, lockName, transaction, withSession, sessionInfo } from './target-session';

/**
 * Cleans a personal role up: it is disabled first (NOLOGIN, memberships out, sessions ended), then
 * in every database the connector can reach what it owns goes to latchkey_orphan_owner and what it
 * was granted is dropped, then the role itself. When that is impossible (it owns objects in a
 * database the connector cannot reach, say) the role stays disabled and the reason is returned.
 */
export async function dropPersonalRole(conn: TargetConnectionParams, role: string): Promise<{ dropped: boolean; reason?: string }> {
  return withSession(conn, conn.dbname, async (client) => {
    const info = await sessionInfo(client);
    const row = await findRole(client, role);
    if (!row) return { dropped: true };
    if (!row.managed) return { dropped: false, reason: `Role ${quoteIdent(role)} is not a member of latchkey_managed: Latchkey did not create it` };
    await disableManagedRole(client, info, role);
    await ensureMarkerRoles(client, info);
    // REASSIGN OWNED and DROP OWNED need the privileges of both roles.
    for (const target of [role, ORPHAN_OWNER_ROLE]) await actAs(client, info, target);

    const failures: string[] = [];
    const { rows: databases } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datallowconn AND has_database_privilege(oid, 'CONNECT') ORDER BY datname`,
    );
    for (const { datname } of databases) {
      const handOver = (session: Client) =>
        transaction(session, async () => {
          await session.query(`REASSIGN OWNED BY ${quoteIdent(role)} TO ${quoteIdent(ORPHAN_OWNER_ROLE)}`);
          await session.query(`DROP OWNED BY ${quoteIdent(role)}`);
        });
      try {
        await (datname === conn.dbname ? handOver(client) : withSession(conn, datname, handOver));
      } catch (error) {
        failures.push(`database ${quoteIdent(datname)}: ${errorMessage(error)}`);
      }
    }
    try {
      await transaction(client, async () => {
        await lockName(client, role);
        await client.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
      });
      return { dropped: true };
    } catch (error) {
      // The role stays, disabled; the connector gives back the membership it took to act as it.
      await client.query(`REVOKE ${quoteIdent(role)} FROM ${quoteIdent(info.currentUser)}`).catch(() => undefined);
      return { dropped: false, reason: [...failures, errorMessage(error)].join('; ') };
    }
  });
}

/** Gives the connector the privileges of `role` unless it has them (a superuser always has). */
async function actAs(client: Client, info: ServerInfo, role: string): Promise<void> {
  const {
    rows: [row],
  } = await client.query<{ usable: boolean }>(`SELECT pg_has_role(rolname, 'USAGE') AS usable FROM pg_roles WHERE rolname = $1`, [role]);
  if (row?.usable) return;
  await client.query(selfGrantStatement(role, info.currentUser, info.majorVersion));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
