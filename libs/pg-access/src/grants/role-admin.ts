import type { Client } from 'pg';
import type { ServerInfo } from '../connection';
import { quoteIdent } from '../quote';
import { GrantError } from './grant-error';
import { createNologinRoleStatements, type Membership } from './grant-sql';
import { MANAGED_MARKER_ROLE, ORPHAN_OWNER_ROLE } from './role-names';
import { lockName, type PreparedStatement, transaction } from './target-session';

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

/** The roles `role` is a direct member of (among `only`, when given), with every grantor. */
export async function directMemberships(client: Client, role: string, only?: string[]): Promise<Membership[]> {
  const { rows } = await client.query<MembershipRow>({ ...DIRECT_MEMBERSHIPS, values: [role, only ?? null] });
  return membershipsOf(rows);
}

export interface MembershipRow {
  role: string;
  grantors: string[] | null;
}

const DIRECT_MEMBERSHIPS: PreparedStatement = {
  name: 'latchkey_direct_memberships',
  text: `SELECT g.rolname AS role, array_agg(DISTINCT gr.rolname::text ORDER BY gr.rolname::text) FILTER (WHERE gr.rolname IS NOT NULL) AS grantors
       FROM pg_auth_members m
       JOIN pg_roles r ON r.oid = m.member
       JOIN pg_roles g ON g.oid = m.roleid
       LEFT JOIN pg_roles gr ON gr.oid = m.grantor
      WHERE r.rolname = $1 AND ($2::text[] IS NULL OR g.rolname = ANY($2::text[]))
      GROUP BY g.rolname
      ORDER BY g.rolname`,
};

export function membershipsOf(rows: MembershipRow[]): Membership[] {
  return rows.map((r) => ({ role: r.role, grantors: r.grantors ?? [] }));
}
