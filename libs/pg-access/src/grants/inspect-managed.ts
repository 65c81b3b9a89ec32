import type { TargetConnectionParams } from '../connection';
import type { ManagedRoles } from './grant-types';
import { MANAGED_MARKER_ROLE, PROFILE_ROLE_PREFIX } from './role-names';
import { withSession } from './target-session';

/** What Latchkey manages on the instance, for drift reports: personal roles (members of latchkey_managed) and profile roles. */
export async function inspectManaged(conn: TargetConnectionParams): Promise<ManagedRoles> {
  return withSession(conn, conn.dbname, async (client) => {
    const { rows: personal } = await client.query<{ name: string; can_login: boolean; valid_until: string | null; memberships: string[] }>(
      `SELECT r.rolname AS name, r.rolcanlogin AS can_login,
              CASE WHEN r.rolvaliduntil IS NULL THEN NULL
                   WHEN NOT isfinite(r.rolvaliduntil) THEN r.rolvaliduntil::text
                   ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END AS valid_until,
              ARRAY(SELECT DISTINCT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid ORDER BY 1) AS memberships
         FROM pg_roles r
        WHERE EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles k ON k.oid = m.roleid WHERE m.member = r.oid AND k.rolname = $1)
        ORDER BY r.rolname`,
      [MANAGED_MARKER_ROLE],
    );
    const { rows: profiles } = await client.query<{ name: string; comment: string | null }>(
      `SELECT rolname AS name, shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname`,
      [PROFILE_ROLE_PREFIX],
    );
    return {
      personalRoles: personal.map((r) => ({ name: r.name, canLogin: r.can_login, validUntil: r.valid_until, memberships: r.memberships })),
      profileRoles: profiles.filter((p) => !personal.some((r) => r.name === p.name)).map((p) => ({ name: p.name, comment: parseComment(p.comment) })),
    };
  });
}

function parseComment(comment: string | null): unknown {
  if (comment === null) return null;
  try {
    return JSON.parse(comment);
  } catch {
    return comment;
  }
}
