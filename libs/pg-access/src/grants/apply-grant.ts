import type { Client } from 'pg';
import type { ServerInfo, TargetConnectionParams } from '../connection';
import { isControlDatabaseSql } from '../control-database';
import { quoteIdent, quoteLiteral } from '../quote';
import { GrantError } from './grant-error';
import { createNologinRoleStatements, grantedRoleName, personalRoleStatements, profileGrantStatements } from './grant-sql';
import type { ApplyGrantOptions, ApplyGrantResult, GrantTargetItem, UncoveredOwner, UngrantedObject } from './grant-types';
import { readProfileGaps } from './profile-gaps';
import { privilegePlan } from './privileges';
import { checkGrantable, ensureMarkerRoles, readForGrant } from './role-admin';
import { assertValidItem, MANAGED_MARKER_ROLE, profileComment, profileRoleName } from './role-names';
import { personalRoleVerifier } from './scram';
import {
  assertManaged,
  findRole,
  lockName,
  lockNameSql,
  PRIVILEGES_LOCK,
  retryTransient,
  transaction,
  withSession,
  onceInAWhile,
  sessionInfo,
} from './target-session';
import { assertRequestableRoles } from './unrequestable-roles';

const IS_CONTROL_DATABASE_SQL = `SELECT ${isControlDatabaseSql('d.oid')} AS control FROM pg_database d WHERE d.datname = current_database()`;

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
  opts.ready?.catch(() => undefined);
  // Derived while the session is taken and the role read; awaited before the statements that set it.
  const verifying = personalRoleVerifier(opts.password, opts.scramIterations);
  verifying.catch(() => undefined);
  const profilesByDatabase = new Map<string, Profile[]>();
  for (const item of opts.items.filter((i) => i.resourceType !== 'postgresql-role')) {
    const name = profileRoleName(item);
    const list = profilesByDatabase.get(item.database) ?? [];
    if (!list.some((p) => p.name === name)) list.push({ name, item });
    profilesByDatabase.set(item.database, list);
  }
  const memberOf = opts.items.filter((i) => i.resourceType === 'postgresql-role').map((i) => i.role as string);
  return withSession(conn, conn.dbname, async (client) => {
    // Before anything is created; checked again below, in the transaction that grants.
    await assertRequestableRoles(client, memberOf);
    const info = await sessionInfo(client);
    await onceInAWhile(client, () => ensureMarkerRoles(client, info));
    const uncoveredOwners: UncoveredOwner[] = [];
    const ungrantedObjects: UngrantedObject[] = [];
    for (const database of [...profilesByDatabase.keys()].sort()) {
      const all = profilesByDatabase.get(database) as Profile[];
      const stale = all.filter((p) => !verifiedProfiles.get(conn, p.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
      if (stale.length > 0) {
        const ensure = (session: Client) => transaction(session, () => ensureProfiles(session, info, stale));
        const reports = database === conn.dbname ? await ensure(client) : await withSession(conn, database, ensure);
        for (const [name, report] of reports) verifiedProfiles.set(conn, name, report);
      }
      for (const p of all) {
        const report = verifiedProfiles.get(conn, p.name)!;
        uncoveredOwners.push(...report.uncoveredOwners);
        ungrantedObjects.push(...report.ungrantedObjects);
      }
    }
    const memberships = [...new Set(opts.items.map(grantedRoleName))].sort();
    const profileNames = [...profilesByDatabase.values()].flat().map((p) => p.name);
    const wanted = [MANAGED_MARKER_ROLE, ...memberships];
    // BEGIN and the role's lock in one round trip; the catalog reads the decision needs as prepared
    // statements (planned once per session); then the changes and COMMIT in one multi-statement
    // simple query, every value a quoteLiteral().
    const begin = ['BEGIN', lockNameSql(quoteLiteral(opts.role))].join(';\n');
    await retryTransient(async () => {
      try {
        await client.query(begin);
        // The role, if it exists, with those of the wanted memberships it holds, and whether the
        // connector may grant them: one round trip.
        const read = await readForGrant(client, opts.role, wanted);
        const existing = read.role;
        if (existing) {
          assertManaged(opts.role, existing);
          if (existing.elevated)
            throw new GrantError(
              'not_managed',
              `Role ${quoteIdent(opts.role)} has attributes Latchkey never gives (superuser, CREATEROLE, CREATEDB, replication or BYPASSRLS)`,
            );
        }
        // The roles may have changed since discovery, or since the check above.
        await assertRequestableRoles(client, memberOf);
        checkGrantable(info, wanted, read.grantable);
        await opts.ready;
        const verifier = await verifying;
        const held = existing?.memberships ?? [];
        const statements = personalRoleStatements({
          role: opts.role,
          exists: existing !== null,
          verifier,
          validUntil: opts.validUntil,
          connectionLimit: opts.connectionLimit,
          comment: opts.comment,
          newMemberships: wanted.filter((m) => !held.some((h) => h.role === m)),
        });
        await client.query([...statements, 'COMMIT'].join(';\n'));
      } catch (error) {
        // A failure before COMMIT aborted the transaction; after it (none expected) ROLLBACK is a no-op.
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }).catch((error: unknown) => {
      // A profile dropped behind our back: check it again next time rather than trust the cache.
      for (const name of profileNames) verifiedProfiles.forget(conn, name);
      throw error;
    });
    return { profiles: profileNames.sort(), uncoveredOwners, ungrantedObjects };
  });
}

/**
 * Profiles whose privileges this process verified recently, per target server and connector user. A grant skips their
 * check: objects created since are covered by default privileges, by the next check a minute
 * later, and by drift repair.
 */
const verifiedProfiles = (() => {
  const VERIFIED_MS = 60_000;
  const seen = new Map<string, { at: number; report: ProfileReport }>();
  const key = (conn: TargetConnectionParams, profile: string) => `${conn.username}@${conn.hostname}:${conn.port}/${profile}`;
  return {
    get: (conn: TargetConnectionParams, profile: string): ProfileReport | undefined => {
      const hit = seen.get(key(conn, profile));
      return hit && Date.now() - hit.at < VERIFIED_MS ? hit.report : undefined;
    },
    forget: (conn: TargetConnectionParams, profile: string) => seen.delete(key(conn, profile)),
    set: (conn: TargetConnectionParams, profile: string, report: ProfileReport) => {
      if (seen.size > 10_000) seen.clear();
      seen.set(key(conn, profile), { at: Date.now(), report });
    },
  };
})();

interface ProfileReport {
  uncoveredOwners: UncoveredOwner[];
  ungrantedObjects: UngrantedObject[];
}

/** In one transaction of the profiles' database: lock each profile, create it if missing, grant what it lacks (nothing, mostly). */
async function ensureProfiles(client: Client, info: ServerInfo, profiles: Profile[]): Promise<Map<string, ProfileReport>> {
  const reports = new Map<string, ProfileReport>();
  const statements: string[] = [];
  const { rows } = await client.query<{ control: boolean }>(IS_CONTROL_DATABASE_SQL);
  if (rows[0]?.control) {
    throw new GrantError(
      'invalid_item',
      `Database ${quoteIdent(profiles[0]!.item.database)} is Latchkey's own control database: Latchkey never grants anything on it`,
    );
  }
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
    reports.set(name, { uncoveredOwners: report.uncoveredOwners, ungrantedObjects: report.ungrantedObjects });
  }
  // GRANTs of different profiles on one object update the same catalog row, and would fail with
  // "tuple concurrently updated": one writer per database. Taken last, so locks never cross.
  if (statements.length > 0) await lockName(client, PRIVILEGES_LOCK);
  for (const sql of statements) await client.query(sql);
  return reports;
}
