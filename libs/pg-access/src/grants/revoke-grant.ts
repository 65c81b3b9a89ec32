import type { Client } from 'pg';
import type { ServerInfo, TargetConnectionParams } from '../connection';
import { quoteIdent, quoteLiteral } from '../quote';
import { membershipsToRevoke, revokeMembershipStatements } from './grant-sql';
import type { RevokeGrantOptions, RevokeGrantResult } from './grant-types';
import { findRoleWithMemberships } from './role-admin';
import { assertValidItem, MANAGED_MARKER_ROLE } from './role-names';
import { assertManaged, lockNameSql, retryTransient, sessionInfo, terminateSessions, withSession } from './target-session';

/**
 * Takes one grant back. Memberships used by `items` and by none of `keepItems` are revoked; with no
 * grant left the role loses LOGIN in the same committed transaction. Then every session of the role
 * ends whenever the grant took anything away: PostgreSQL cannot tell which grant a session uses, and
 * a session may still hold what was revoked (it did SET ROLE into the profile, or reads an open
 * cursor or a running query), so the person's other sessions end too and they log in again with
 * what they still hold. A grant whose every membership another grant still needs takes nothing
 * away: no session ends. A missing role or membership counts as done.
 */
export async function revokeGrant(conn: TargetConnectionParams, opts: RevokeGrantOptions): Promise<RevokeGrantResult> {
  [...opts.items, ...opts.keepItems].forEach(assertValidItem);
  const lastGrant = opts.keepItems.length === 0;
  const revoked = membershipsToRevoke(opts.items, opts.keepItems);
  // From the items, not from what the role holds now: a retry after a crash past the REVOKE still ends the sessions.
  if (!lastGrant && revoked.length === 0) return { loginDisabled: false, sessionsTerminated: 0 };
  // Under the lock, what the person's other grants hold now can only have grown: fewer memberships go, and the login may stay.
  let decided = { roles: revoked, disable: lastGrant };
  const decide = async () => {
    if (opts.keepItemsNow) {
      const keepNow = await opts.keepItemsNow();
      keepNow.forEach(assertValidItem);
      const still = new Set(membershipsToRevoke(opts.items, keepNow));
      decided = { roles: revoked.filter((r) => still.has(r)), disable: lastGrant && keepNow.length === 0 };
    }
    return decided;
  };
  return withSession(conn, conn.dbname, async (client) => {
    const info = await sessionInfo(client);
    const terminated = await revokeAndTerminate(client, info, opts.role, revoked, decide);
    if (terminated === null) return { loginDisabled: true, sessionsTerminated: 0 };
    return { loginDisabled: decided.disable, sessionsTerminated: terminated };
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
  return (await revokeAndTerminate(client, info, role, null, async () => ({ roles: null, disable: true }))) ?? 0;
}

/**
 * Commits the revocations `decide` leaves (all but the marker when its roles are null) and, when it says disable, NOLOGIN;
 * then ends every session of the role. Null when the role does not exist.
 *
 * BEGIN and the role's lock in one round trip, the catalog read as one prepared statement, the
 * changes and COMMIT in one multi-statement simple query (every value a quoteLiteral()); the
 * sessions are scanned only after it, so NOLOGIN is committed before any session ends.
 */
async function revokeAndTerminate(
  client: Client,
  info: ServerInfo,
  role: string,
  roles: string[] | null,
  /** What to take away, decided once the role's lock is held (the caller may re-read its grants there). */
  decide: () => Promise<{ roles: string[] | null; disable: boolean }>,
): Promise<number | null> {
  const begin = ['BEGIN', lockNameSql(quoteLiteral(role))].join(';\n');
  const changed = await retryTransient(async () => {
    try {
      await client.query(begin);
      // The role and its memberships among those the grant gave (all, for disableRole), in one round trip.
      const row = await findRoleWithMemberships(client, role, roles ?? undefined);
      if (!row) {
        await client.query('COMMIT');
        return null;
      }
      assertManaged(role, row);
      const now = await decide();
      if (!now.disable && now.roles?.length === 0) {
        // Another grant made meanwhile holds everything this one gave: nothing is taken away, no session ends.
        await client.query('COMMIT');
        return false;
      }
      const memberships = row.memberships.filter((m) => m.role !== MANAGED_MARKER_ROLE && (now.roles === null || now.roles.includes(m.role)));
      const change = [
        ...(now.disable ? [`ALTER ROLE ${quoteIdent(role)} NOLOGIN`] : []),
        ...revokeMembershipStatements(role, memberships, info.majorVersion),
        'COMMIT',
      ];
      await client.query(change.join(';\n'));
      return true;
    } catch (error) {
      // Running it all again (on a transient error) is harmless either way: every step is idempotent.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
  if (changed === null) return null;
  if (!changed) return 0;
  return terminateSessions(client, role, info.currentUser);
}
