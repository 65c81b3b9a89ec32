import type { Client } from 'pg';
import type { ServerInfo, TargetConnectionParams } from '../connection';
import { quoteIdent, quoteLiteral } from '../quote';
import { membershipsToRevoke, revokeMembershipStatements } from './grant-sql';
import type { RevokeGrantOptions, RevokeGrantResult, RevokeGrantsOptions } from './grant-types';
import { findRolesWithMemberships } from './role-admin';
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
  const { keepItemsNow, ...grant } = opts;
  const [result] = await revokeGrants(conn, { grants: [grant], ...(keepItemsNow ? { keepItemsNow: async () => [await keepItemsNow()] } : {}) });
  return result!;
}

/**
 * revokeGrant() for grants of different roles (each role once) in one transaction on one session:
 * the roles locked in one round trip, read in one, changed and committed in one, their sessions
 * scanned in one. All or nothing: when any of them cannot be revoked (a role Latchkey did not
 * create, say) nothing changes and the error is thrown, for the caller to revoke them one by one.
 * Answers in the order of `grants`.
 */
export async function revokeGrants(conn: TargetConnectionParams, opts: RevokeGrantsOptions): Promise<RevokeGrantResult[]> {
  const roles = opts.grants.map((g) => g.role);
  if (new Set(roles).size !== roles.length) throw new Error('revokeGrants takes each role once');
  for (const g of opts.grants) [...g.items, ...g.keepItems].forEach(assertValidItem);
  const planned = opts.grants.map((g) => ({ role: g.role, lastGrant: g.keepItems.length === 0, revoked: membershipsToRevoke(g.items, g.keepItems) }));
  const results: RevokeGrantResult[] = planned.map(() => ({ loginDisabled: false, sessionsTerminated: 0 }));
  // From the items, not from what the role holds now: a retry after a crash past the REVOKE still ends the sessions.
  // Without a read under the locks, a grant whose other grants keep everything it gave takes nothing away and is done here.
  // With one, every grant goes to the target: the other grants first read may have ended since (two of a
  // person's grants that expire together each read the other as active), and only the read under the lock counts.
  const work = planned.flatMap((p, index) => (opts.keepItemsNow || p.lastGrant || p.revoked.length > 0 ? [{ ...p, index }] : []));
  if (work.length === 0) return results;
  const decided = work.map((w) => ({ roles: w.revoked, disable: w.lastGrant }));
  const decide = async () => {
    if (opts.keepItemsNow) {
      const keepNow = await opts.keepItemsNow();
      work.forEach((w, k) => {
        const kept = keepNow[w.index] ?? [];
        kept.forEach(assertValidItem);
        decided[k] = { roles: membershipsToRevoke(opts.grants[w.index]!.items, kept), disable: kept.length === 0 };
      });
    }
    return decided;
  };
  return withSession(conn, conn.dbname, async (client) => {
    const info = await sessionInfo(client);
    const terminated = await revokeAndTerminate(
      client,
      info,
      work.map((w) => w.role),
      decide,
    );
    work.forEach((w, k) => {
      const sessions = terminated[k];
      results[w.index] =
        sessions === null ? { loginDisabled: true, sessionsTerminated: 0 } : { loginDisabled: decided[k]!.disable, sessionsTerminated: sessions! };
    });
    return results;
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
  const [terminated] = await revokeAndTerminate(client, info, [role], async () => [{ roles: null, disable: true }]);
  return terminated ?? 0;
}

/** What to take away from a role: the memberships (all but the marker when null), and whether its login goes. */
type Decision = { roles: string[] | null; disable: boolean };

/**
 * Commits the revocations `decide` leaves and, where it says disable, NOLOGIN; then ends every
 * session of each role it changed. Answers, in the order of `roles`, the sessions ended per role:
 * 0 for a role left unchanged, null for one that does not exist.
 *
 * BEGIN and the roles' locks (sorted) in one round trip, the catalog read as one prepared
 * statement, the changes and COMMIT in one multi-statement simple query (every value a
 * quoteLiteral()); the sessions are scanned only after it, so NOLOGIN is committed before any
 * session ends.
 */
async function revokeAndTerminate(
  client: Client,
  info: ServerInfo,
  roles: string[],
  /** What to take away from each, decided once the locks are held (the caller may re-read its grants there). */
  decide: () => Promise<Decision[]>,
): Promise<Array<number | null>> {
  const begin = ['BEGIN', ...[...roles].sort().map((role) => lockNameSql(quoteLiteral(role)))].join(';\n');
  const changed = await retryTransient(async () => {
    try {
      await client.query(begin);
      // The roles and their memberships, in one round trip; the decision keeps those that go.
      const found = await findRolesWithMemberships(client, roles);
      for (const [role, row] of found) assertManaged(role, row);
      const now = found.size > 0 ? await decide() : [];
      const change: string[] = [];
      const outcome = roles.map((role, k): boolean | null => {
        const row = found.get(role);
        if (!row) return null;
        const { roles: revoke, disable } = now[k]!;
        // Another grant made meanwhile holds everything this one gave: nothing is taken away, no session ends.
        if (!disable && revoke?.length === 0) return false;
        const memberships = row.memberships.filter((m) => m.role !== MANAGED_MARKER_ROLE && (revoke === null || revoke.includes(m.role)));
        change.push(...(disable ? [`ALTER ROLE ${quoteIdent(role)} NOLOGIN`] : []), ...revokeMembershipStatements(role, memberships, info.majorVersion));
        return true;
      });
      await client.query([...change, 'COMMIT'].join(';\n'));
      return outcome;
    } catch (error) {
      // Running it all again (on a transient error) is harmless either way: every step is idempotent.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
  const ending = roles.filter((_, k) => changed[k] === true);
  const sessions = ending.length > 0 ? await terminateSessions(client, ending, info.currentUser) : new Map<string, number>();
  return roles.map((role, k) => (changed[k] === null ? null : (sessions.get(role) ?? 0)));
}
