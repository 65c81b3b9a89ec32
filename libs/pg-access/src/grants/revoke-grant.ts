import type { Client } from 'pg';
import type { ServerInfo, TargetConnectionParams } from '../connection';
import { quoteIdent } from '../quote';
import { membershipsToRevoke, revokeMembershipStatements } from './grant-sql';
import type { RevokeGrantOptions, RevokeGrantResult } from './grant-types';
import { directMemberships } from './role-admin';
import { assertValidItem, MANAGED_MARKER_ROLE } from './role-names';
import { assertManaged, findRole, lockName, terminateSessions, transaction, withSession, sessionInfo } from './target-session';

/**
 * Takes one grant back. Memberships used by `items` and by none of `keepItems` are revoked; with no
 * grant left the role loses LOGIN in the same committed transaction. Then every session of the role
 * ends, in any case: a session may have SET ROLE into a revoked profile. A missing role or
 * membership counts as done.
 */
export async function revokeGrant(conn: TargetConnectionParams, opts: RevokeGrantOptions): Promise<RevokeGrantResult> {
  [...opts.items, ...opts.keepItems].forEach(assertValidItem);
  const lastGrant = opts.keepItems.length === 0;
  const revoked = membershipsToRevoke(opts.items, opts.keepItems);
  return withSession(conn, conn.dbname, async (client) => {
    const info = await sessionInfo(client);
    const exists = await revokeMemberships(client, info, opts.role, revoked, lastGrant);
    if (!exists) return { loginDisabled: true, sessionsTerminated: 0 };
    return { loginDisabled: lastGrant, sessionsTerminated: await terminateSessions(client, opts.role, info.currentUser) };
  });
}

/**
 * Switches a managed role off: NOLOGIN, every membership but latchkey_managed revoked (the marker
 * keeps it visible to sweeps), every session ended. For roles no grant stands behind.
 */
export async function disableRole(conn: TargetConnectionParams, role: string): Promise<{ sessionsTerminated: number }> {
  return withSession(conn, conn.dbname, async (client) => {
    const info = await sessionInfo(client);
    return { sessionsTerminated: await disableManagedRole(client, info, role) };
  });
}

/** disableRole on an open session of the integration's database; 0 when the role does not exist. */
export async function disableManagedRole(client: Client, info: ServerInfo, role: string): Promise<number> {
  const exists = await revokeMemberships(client, info, role, null, true);
  return exists ? terminateSessions(client, role, info.currentUser) : 0;
}

/** Commits the revocations (all but the marker when `roles` is null) and, when `disable`, NOLOGIN; false when the role does not exist. */
async function revokeMemberships(client: Client, info: ServerInfo, role: string, roles: string[] | null, disable: boolean): Promise<boolean> {
  return transaction(client, async () => {
    await lockName(client, role);
    const row = await findRole(client, role);
    if (!row) return false;
    assertManaged(role, row);
    if (disable) await client.query(`ALTER ROLE ${quoteIdent(role)} NOLOGIN`);
    const memberships = (await directMemberships(client, role, roles ?? undefined)).filter((m) => m.role !== MANAGED_MARKER_ROLE);
    for (const sql of revokeMembershipStatements(role, memberships, info.majorVersion)) await client.query(sql);
    return true;
  });
}
