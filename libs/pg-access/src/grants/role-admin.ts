import type { Client } from 'pg';
import type { ServerInfo } from '../connection';
import { quoteIdent } from '../quote';
import { GrantError } from './grant-error';
import { createNologinRoleStatements, type Membership } from './grant-sql';
import { MANAGED_MARKER_ROLE, ORPHAN_OWNER_ROLE } from './role-names';
import { lockName, type PreparedStatement, ROLE_ROW_COLUMNS, type RoleRow, transaction } from './target-session';

// PostgreSQL 16: CREATEROLE alone no longer lets a role grant membership in other roles.
const ADMIN_OPTION_REQUIRED_FROM_MAJOR = 16;
const MARKER_COMMENTS: Record<string, string> = {
  [MANAGED_MARKER_ROLE]: 'Latchkey: its members are the personal login roles Latchkey manages',
  [ORPHAN_OWNER_ROLE]: 'Latchkey: owns what dropped personal login roles left behind',
};

/**
 * Creates latchkey_managed and latchkey_orphan_owner when missing (the creator gets ADMIN OPTION on
 * them from PostgreSQL 16 on) and checks the connector may grant them: roles someone else created
 * need an administrator's GRANT, which the error spells out.
 */
export async function ensureMarkerRoles(client: Client, info: ServerInfo): Promise<void> {
  const markers = Object.keys(MARKER_COMMENTS).sort();
  const existing = async () => (await grantability(client, markers)).map((r) => r.rolname);
  if ((await existing()).length < markers.length) {
    await transaction(client, async () => {
      for (const name of markers) await lockName(client, name);
      const present = await existing();
      for (const name of markers.filter((m) => !present.includes(m))) {
        for (const sql of createNologinRoleStatements(name, MARKER_COMMENTS[name] as string)) await client.query(sql);
      }
    });
  }
  await assertCanGrant(client, info, markers);
}

export interface GrantabilityRow {
  rolname: string;
  rolsuper: boolean;
  admin: boolean;
}

/** For each of `roles` that exists: whether it is a superuser, and whether the connector holds ADMIN OPTION on it. */
export async function grantability(client: Client, roles: string[]): Promise<GrantabilityRow[]> {
  const { rows } = await client.query<GrantabilityRow>({ ...GRANTABILITY, values: [roles] });
  return rows;
}

const GRANTABILITY: PreparedStatement = {
  name: 'latchkey_grantability',
  text: "SELECT rolname, rolsuper, pg_has_role(oid, 'MEMBER WITH ADMIN OPTION') AS admin FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY rolname",
};

/**
 * Throws unless the connector may grant membership in every role of `roles`: a superuser may; before
 * PostgreSQL 16 CREATEROLE covers any non-superuser role; otherwise it needs ADMIN OPTION.
 */
export async function assertCanGrant(client: Client, info: ServerInfo, roles: string[]): Promise<void> {
  checkGrantable(info, roles, await grantability(client, roles));
}

/** assertCanGrant on the rows of grantability(), read by the caller. */
export function checkGrantable(info: ServerInfo, roles: string[], rows: GrantabilityRow[]): void {
  const missing = roles.filter((r) => !rows.some((row) => row.rolname === r));
  if (missing.length > 0) throw new GrantError('not_found', `Role ${missing.map(quoteIdent).join(', ')} does not exist`);
  const superuserRoles = rows.filter((r) => r.rolsuper);
  if (superuserRoles.length > 0) {
    throw new GrantError(
      'invalid_item',
      `Latchkey does not hand out membership in superuser roles (${superuserRoles.map((r) => quoteIdent(r.rolname)).join(', ')})`,
    );
  }
  const before16 = info.majorVersion < ADMIN_OPTION_REQUIRED_FROM_MAJOR;
  const refused = rows.filter((r) => !(info.superuser || r.admin || (before16 && info.createRole)));
  if (refused.length === 0) return;
  const options = before16 ? 'WITH ADMIN OPTION' : 'WITH ADMIN OPTION, INHERIT FALSE, SET FALSE';
  throw new GrantError(
    'missing_privilege',
    `The connector user may not grant membership in ${refused.map((r) => quoteIdent(r.rolname)).join(', ')}: ` +
      (before16 ? 'it lacks CREATEROLE and ADMIN OPTION on them.' : `PostgreSQL ${info.majorVersion} requires ADMIN OPTION on roles it did not create.`),
    refused.map((r) => `GRANT ${quoteIdent(r.rolname)} TO ${quoteIdent(info.currentUser)} ${options};`).join('\n'),
  );
}

/** A personal role as findRole() reads it, with the roles it is a direct member of (among those asked for). */
export interface RoleWithMemberships extends RoleRow {
  memberships: Membership[];
}

/**
 * findRole() and every role each of `roles` is a direct member of (with every grantor) in one
 * round trip: a revocation reads them under the roles' locks. A role that does not exist has no entry.
 */
export async function findRolesWithMemberships(client: Client, roles: string[]): Promise<Map<string, RoleWithMemberships>> {
  const { rows } = await client.query<RoleRow & { rolname: string; memberships: MembershipJson[] }>({
    ...ROLES_WITH_MEMBERSHIPS,
    values: [roles, MANAGED_MARKER_ROLE],
  });
  return new Map(rows.map(({ rolname, memberships, ...row }) => [rolname, { ...row, memberships: membershipsOf(memberships) }]));
}

/**
 * What a grant reads under the role's lock, in one round trip: the role with those of `wanted` it
 * holds (as findRolesWithMemberships() reads it, null when it does not exist yet) and grantability() of `wanted`.
 */
export async function readForGrant(
  client: Client,
  role: string,
  wanted: string[],
): Promise<{ role: RoleWithMemberships | null; grantable: GrantabilityRow[] }> {
  const { rows } = await client.query<(RoleRow | Record<keyof RoleRow, null>) & { memberships: MembershipJson[] | null; grantable: GrantabilityRow[] }>({
    ...ROLE_FOR_GRANT,
    values: [role, MANAGED_MARKER_ROLE, wanted],
  });
  const { grantable, memberships, ...found } = rows[0]!;
  return { role: found.oid === null ? null : { ...(found as RoleRow), memberships: membershipsOf(memberships ?? [], wanted) }, grantable };
}

type MembershipJson = { role: string; grantors: string[] | null };
/** The memberships read, those of `only` when given. */
const membershipsOf = (rows: MembershipJson[], only?: string[]): Membership[] =>
  rows.filter((m) => !only || only.includes(m.role)).map((m) => ({ role: m.role, grantors: m.grantors ?? [] }));

/**
 * The columns and every membership ($2 the marker role) of the roles `r` that `where` keeps. The
 * caller keeps the memberships it asked about: a filter on the granted role's name here (`$3 IS NULL
 * OR rolname = ANY($3)`) made PostgreSQL's generic plan scan every role of the server for each role
 * read (1.4 ms a role at 10,000 personal roles), where a personal role's own memberships are a few.
 */
const rolesWithMembershipsText = (where: string, extraColumns = '') => `SELECT ${extraColumns}${ROLE_ROW_COLUMNS},
          (SELECT coalesce(jsonb_agg(jsonb_build_object('role', d.role, 'grantors', d.grantors) ORDER BY d.rolname), '[]'::jsonb)
             FROM (SELECT g.rolname, g.rolname::text AS role,
                          array_agg(DISTINCT gr.rolname::text ORDER BY gr.rolname::text) FILTER (WHERE gr.rolname IS NOT NULL) AS grantors
                     FROM pg_auth_members m
                     JOIN pg_roles g ON g.oid = m.roleid
                     LEFT JOIN pg_roles gr ON gr.oid = m.grantor
                    WHERE m.member = r.oid
                    GROUP BY g.rolname) d) AS memberships
     FROM pg_roles r
    WHERE ${where}`;

const ROLES_WITH_MEMBERSHIPS: PreparedStatement = {
  name: 'latchkey_roles_with_memberships',
  text: rolesWithMembershipsText('r.rolname = ANY($1::text[])', 'r.rolname::text AS rolname, '),
};

/** One row always: the role's columns (null when it does not exist) and grantability() of $3 as jsonb. */
const ROLE_FOR_GRANT: PreparedStatement = {
  name: 'latchkey_role_for_grant',
  text: `SELECT role.*,
          (SELECT coalesce(jsonb_agg(jsonb_build_object('rolname', k.rolname, 'rolsuper', k.rolsuper, 'admin', pg_has_role(k.oid, 'MEMBER WITH ADMIN OPTION')) ORDER BY k.rolname), '[]'::jsonb)
             FROM pg_roles k WHERE k.rolname = ANY($3::text[])) AS grantable
     FROM (SELECT 1) one
     LEFT JOIN (${rolesWithMembershipsText('r.rolname = $1')}) role ON true`,
};
