import type { Client } from 'pg';
import { getServerInfo, type ServerInfo, type TargetConnectionParams } from '../connection';
import { quoteIdent } from '../quote';
import { GrantError } from './grant-error';
import { createNologinRoleStatements, grantedRoleName, personalRoleStatements, profileGrantStatements } from './grant-sql';
import type { ApplyGrantOptions, ApplyGrantResult, GrantTargetItem, UncoveredOwner, UngrantedObject } from './grant-types';
import { readProfileGaps } from './profile-gaps';
import { privilegePlan } from './privileges';
import { assertCanGrant, directMemberships, ensureMarkerRoles } from './role-admin';
import { assertValidItem, MANAGED_MARKER_ROLE, profileComment, profileRoleName } from './role-names';
import { scramVerifier } from './scram';
import { assertManaged, findRole, lockName, PRIVILEGES_LOCK, transaction, withSession } from './target-session';

interface Profile {
  name: string;
  item: GrantTargetItem;
}

/**
 * Makes the grant on the target: the profile roles its items need (created lazily, privileges
 * completed), then the personal login role with a fresh password and a membership per item.
 * Idempotent, and safe to run again after a crash half-way; transient catalog conflicts are retried.
 */
export async function applyGrant(conn: TargetConnectionParams, opts: ApplyGrantOptions): Promise<ApplyGrantResult> {
  opts.items.forEach(assertValidItem);
  const verifier = scramVerifier(opts.password);
  const profilesByDatabase = new Map<string, Profile[]>();
  for (const item of opts.items.filter((i) => i.resourceType !== 'postgresql-role')) {
    const name = profileRoleName(item);
    const list = profilesByDatabase.get(item.database) ?? [];
    if (!list.some((p) => p.name === name)) list.push({ name, item });
    profilesByDatabase.set(item.database, list);
  }
  return withSession(conn, conn.dbname, async (client) => {
    const info = await getServerInfo(client);
    await ensureMarkerRoles(client, info);
    const uncoveredOwners: UncoveredOwner[] = [];
    const ungrantedObjects: UngrantedObject[] = [];
    for (const database of [...profilesByDatabase.keys()].sort()) {
      const profiles = (profilesByDatabase.get(database) as Profile[]).sort((a, b) => (a.name < b.name ? -1 : 1));
      const ensure = (session: Client) => transaction(session, () => ensureProfiles(session, info, profiles));
      const report = database === conn.dbname ? await ensure(client) : await withSession(conn, database, ensure);
      uncoveredOwners.push(...report.uncoveredOwners);
      ungrantedObjects.push(...report.ungrantedObjects);
    }
    const memberships = [...new Set(opts.items.map(grantedRoleName))].sort();
    await transaction(client, async () => {
      await lockName(client, opts.role);
      const existing = await findRole(client, opts.role);
      if (existing) {
        assertManaged(opts.role, existing);
        if (existing.elevated) throw new GrantError('not_managed', `Role ${quoteIdent(opts.role)} has attributes Latchkey never gives (superuser, CREATEROLE, CREATEDB, replication or BYPASSRLS)`);
      }
      const wanted = [MANAGED_MARKER_ROLE, ...memberships];
      await assertCanGrant(client, info, wanted);
      const held = existing ? (await directMemberships(client, opts.role, wanted)).map((m) => m.role) : [];
      const statements = personalRoleStatements({
        role: opts.role,
        exists: existing !== null,
        verifier,
        validUntil: opts.validUntil,
        connectionLimit: opts.connectionLimit,
        comment: opts.comment,
        newMemberships: wanted.filter((m) => !held.includes(m)),
      });
      for (const sql of statements) await client.query(sql);
    });
    return { profiles: [...profilesByDatabase.values()].flat().map((p) => p.name).sort(), uncoveredOwners, ungrantedObjects };
  });
}

/** In one transaction of the profiles' database: lock each profile, create it if missing, grant what it lacks (nothing, mostly). */
async function ensureProfiles(client: Client, info: ServerInfo, profiles: Profile[]): Promise<{ uncoveredOwners: UncoveredOwner[]; ungrantedObjects: UngrantedObject[] }> {
  const uncoveredOwners: UncoveredOwner[] = [];
  const ungrantedObjects: UngrantedObject[] = [];
  const statements: string[] = [];
  for (const profile of profiles) await lockName(client, profile.name);
  for (const { name, item } of profiles) {
    const comment = profileComment(item);
    let role = await findRole(client, name);
    if (!role) {
      for (const sql of createNologinRoleStatements(name, comment)) await client.query(sql);
      role = await findRole(client, name);
      if (!role) throw new Error(`Profile role ${quoteIdent(name)} vanished after it was created`);
    } else if (role.comment !== comment || role.managed || role.elevated) {
      throw new GrantError('name_conflict', `Role ${quoteIdent(name)} exists but is not the Latchkey profile for ${comment}`);
    }
    const report = await readProfileGaps(client, info, item, privilegePlan(item, info.majorVersion), role.oid);
    statements.push(...profileGrantStatements(name, report.gaps));
    uncoveredOwners.push(...report.uncoveredOwners);
    ungrantedObjects.push(...report.ungrantedObjects);
  }
  // GRANTs of different profiles on one object update the same catalog row, and would fail with
  // "tuple concurrently updated": one writer per database. Taken last, so locks never cross.
  if (statements.length > 0) await lockName(client, PRIVILEGES_LOCK);
  for (const sql of statements) await client.query(sql);
  return { uncoveredOwners, ungrantedObjects };
}
