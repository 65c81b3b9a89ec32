import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError } from 'typeorm';
import { managerOf, managerOr, transactionOn, Tx } from '../control-database/transactions.repository';
import { lockForTransaction } from '@latchkey/persistence';
import type { PagePosition } from '@latchkey/persistence';
import type { UserRole } from '@latchkey/contracts';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  attributes: Record<string, string>;
  role: UserRole;
  /** Group names, in name order. */
  groups: string[];
  /** False once deprovisioned (SCIM): no sign-in, no token. */
  active: boolean;
  /** The identity provider's id for the user (SCIM externalId). */
  externalId: string | null;
  /** The config file that manages the user (`latchkey apply`), or null. */
  managedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupRow {
  id: string;
  name: string;
  description: string | null;
  members: number;
  managedBy: string | null;
  createdAt: Date;
}

export interface UserFields {
  email: string;
  name: string;
  attributes: Record<string, string>;
  role: UserRole;
  /** The config file that manages the user; left out on update, the stored marker stays. */
  managedBy?: string | null;
}

/** A second user with the same email (any case), or a second group with the same name. */
export class DuplicateError extends Error {}

const isUniqueViolation = (err: unknown) => err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505';

// Plain SQL: a user's groups are aggregated in the same round trip.
const USER_COLUMNS =
  'SELECT u.id, u.email, u.name, u.attributes, u.role, u.active, u.external_id, u.managed_by, u.created_at, u.updated_at, ' +
  "COALESCE((SELECT array_agg(g.name ORDER BY g.name) FROM access.user_groups ug JOIN access.groups g ON g.id = ug.group_id WHERE ug.user_id = u.id), '{}') AS groups " +
  'FROM access.users u ';
const USER_BY_ID = USER_COLUMNS + 'WHERE u.id = $1';
const USER_BY_ID_FOR_UPDATE = USER_COLUMNS + 'WHERE u.id = $1 FOR UPDATE OF u';
const USER_BY_EMAIL = USER_COLUMNS + 'WHERE lower(u.email) = lower($1)';
const USER_PAGE =
  USER_COLUMNS +
  'WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM access.user_groups ug JOIN access.groups g ON g.id = ug.group_id WHERE ug.user_id = u.id AND lower(g.name) = lower($1))) ' +
  'AND ($2::text IS NULL OR strpos(lower(u.email), lower($2)) > 0 OR strpos(lower(u.name), lower($2)) > 0) ' +
  'AND ($3::timestamptz IS NULL OR (u.created_at, u.id) > ($3::timestamptz, $4::uuid)) ' +
  'ORDER BY u.created_at, u.id LIMIT $5';
const GROUP_COLUMNS =
  'SELECT g.id, g.name, g.description, g.managed_by, g.created_at, (SELECT count(*) FROM access.user_groups ug WHERE ug.group_id = g.id)::int AS members FROM access.groups g ';
const GROUP_PAGE = GROUP_COLUMNS + 'WHERE ($1::timestamptz IS NULL OR (g.created_at, g.id) > ($1::timestamptz, $2::uuid)) ORDER BY g.created_at, g.id LIMIT $3';
const GROUP_BY_ID = GROUP_COLUMNS + 'WHERE g.id = $1';
const GROUP_BY_ID_FOR_UPDATE = GROUP_COLUMNS + 'WHERE g.id = $1 FOR UPDATE OF g';

type Raw = Record<string, any>;

const toUser = (r: Raw): UserRow => ({
  id: r.id,
  email: r.email,
  name: r.name,
  attributes: r.attributes,
  role: r.role,
  groups: r.groups,
  active: r.active,
  externalId: r.external_id,
  managedBy: r.managed_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toGroup = (r: Raw): GroupRow => ({
  id: r.id,
  name: r.name,
  description: r.description,
  members: r.members,
  managedBy: r.managed_by,
  createdAt: r.created_at,
});

/** Users, groups and memberships in the `access` schema. Methods take the transaction they run in. */
@Injectable()
export class IdentitiesRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return transactionOn(this.dataSource, work);
  }

  /** Replicas starting together bootstrap the admin one at a time (held until the transaction ends). */
  async lockAdminBootstrap(tx: Tx): Promise<void> {
    await lockForTransaction(managerOf(tx), 'latchkey:access:bootstrap-admin');
  }

  async findUser(id: string, tx?: Tx): Promise<UserRow | null> {
    const m = managerOr(this.dataSource, tx);
    const rows: Raw[] = await m.query(USER_BY_ID, [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** The user, locked until the transaction ends: concurrent changes to one user queue up. */
  async lockUser(tx: Tx, id: string): Promise<UserRow | null> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query(USER_BY_ID_FOR_UPDATE, [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async findUserByEmail(email: string, tx?: Tx): Promise<UserRow | null> {
    const m = managerOr(this.dataSource, tx);
    const rows: Raw[] = await m.query(USER_BY_EMAIL, [email]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async insertUser(tx: Tx, fields: UserFields): Promise<string> {
    const m = managerOf(tx);
    const rows: Raw[] = await this.unique(() =>
      m.query('INSERT INTO access.users (email, name, attributes, role, managed_by) VALUES ($1, $2, $3::jsonb, $4, $5) RETURNING id', [
        fields.email,
        fields.name,
        JSON.stringify(fields.attributes),
        fields.role,
        fields.managedBy ?? null,
      ]),
    );
    return rows[0].id;
  }

  async updateUser(tx: Tx, id: string, fields: UserFields): Promise<void> {
    const m = managerOf(tx);
    await this.unique(() =>
      m.query(
        'UPDATE access.users SET email = $2, name = $3, attributes = $4::jsonb, role = $5, managed_by = CASE WHEN $6 THEN $7 ELSE managed_by END, updated_at = now() WHERE id = $1',
        [id, fields.email, fields.name, JSON.stringify(fields.attributes), fields.role, fields.managedBy !== undefined, fields.managedBy ?? null],
      ),
    );
  }

  async deleteUser(tx: Tx, id: string): Promise<void> {
    const m = managerOf(tx);
    await m.query('DELETE FROM access.users WHERE id = $1', [id]);
  }

  /** Locks every admin row and answers their ids: a demotion or deletion cannot race another one. */
  async lockAdmins(tx: Tx): Promise<string[]> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query("SELECT id FROM access.users WHERE role = 'admin' ORDER BY id FOR UPDATE");
    return rows.map((r) => r.id);
  }

  /** Ids of the active admins, locked (deactivating one must leave another). */
  async lockActiveAdmins(tx: Tx): Promise<string[]> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query("SELECT id FROM access.users WHERE role = 'admin' AND active ORDER BY id FOR UPDATE");
    return rows.map((r) => r.id);
  }

  async setActive(tx: Tx, id: string, active: boolean): Promise<void> {
    const m = managerOf(tx);
    await m.query('UPDATE access.users SET active = $2, updated_at = now() WHERE id = $1', [id, active]);
  }

  async setMemberships(tx: Tx, userId: string, groupIds: string[]): Promise<void> {
    const m = managerOf(tx);
    await m.query('DELETE FROM access.user_groups WHERE user_id = $1 AND NOT (group_id = ANY($2::uuid[]))', [userId, groupIds]);
    await m.query('INSERT INTO access.user_groups (user_id, group_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING', [userId, groupIds]);
  }

  /**
   * The groups with these names (any case), creating those that do not exist yet; answers them in
   * the given order with their stored spelling, and which of them were created now.
   */
  async ensureGroups(tx: Tx, names: string[]): Promise<{ groups: Array<{ id: string; name: string }>; created: Array<{ id: string; name: string }> }> {
    const m = managerOf(tx);
    if (!names.length) return { groups: [], created: [] };
    const created: Raw[] = await m.query(
      'INSERT INTO access.groups (name) SELECT unnest($1::text[]) ON CONFLICT ((lower(name))) DO NOTHING RETURNING id, name',
      [names],
    );
    const rows: Raw[] = await m.query('SELECT id, name FROM access.groups WHERE lower(name) = ANY($1::text[])', [names.map((n) => n.toLowerCase())]);
    const byKey = new Map(rows.map((r) => [String(r.name).toLowerCase(), { id: r.id as string, name: r.name as string }]));
    return { groups: names.map((n) => byKey.get(n.toLowerCase())!), created: created.map((r) => ({ id: r.id, name: r.name })) };
  }

  async insertGroup(tx: Tx, name: string, description: string | null, managedBy: string | null = null): Promise<GroupRow> {
    const m = managerOf(tx);
    const rows: Raw[] = await this.unique(() =>
      m.query('INSERT INTO access.groups (name, description, managed_by) VALUES ($1, $2, $3) RETURNING id', [name, description, managedBy]),
    );
    return (await this.findGroup(rows[0].id, tx))!;
  }

  async findGroup(id: string, tx?: Tx): Promise<GroupRow | null> {
    const m = managerOr(this.dataSource, tx);
    const rows: Raw[] = await m.query(GROUP_BY_ID, [id]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  /** The group, locked until the transaction ends. */
  async lockGroup(tx: Tx, id: string): Promise<GroupRow | null> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query(GROUP_BY_ID_FOR_UPDATE, [id]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  /** `managedBy` undefined keeps the stored marker. */
  async updateGroup(tx: Tx, id: string, description: string | null, managedBy: string | null | undefined): Promise<void> {
    const m = managerOf(tx);
    await m.query('UPDATE access.groups SET description = $2, managed_by = CASE WHEN $3 THEN $4 ELSE managed_by END WHERE id = $1', [
      id,
      description,
      managedBy !== undefined,
      managedBy ?? null,
    ]);
  }

  /** Deletes the group (its memberships go with it) and answers who its members were. */
  async deleteGroup(tx: Tx, id: string): Promise<string[]> {
    const m = managerOf(tx);
    const members: Raw[] = await m.query('SELECT user_id FROM access.user_groups WHERE group_id = $1', [id]);
    await m.query('DELETE FROM access.groups WHERE id = $1', [id]);
    return members.map((r) => r.user_id);
  }

  /** Keyset pagination in creation order; answers one row more than asked when more follow. */
  async pageUsers(filter: { group?: string; q?: string; after?: PagePosition; limit: number }): Promise<UserRow[]> {
    const rows: Raw[] = await this.dataSource.query(USER_PAGE, [
      filter.group ?? null,
      filter.q ?? null,
      filter.after?.createdAt ?? null,
      filter.after?.id ?? null,
      filter.limit,
    ]);
    return rows.map(toUser);
  }

  async pageGroups(filter: { after?: PagePosition; limit: number }): Promise<GroupRow[]> {
    const rows: Raw[] = await this.dataSource.query(GROUP_PAGE, [filter.after?.createdAt ?? null, filter.after?.id ?? null, filter.limit]);
    return rows.map(toGroup);
  }

  private async unique<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateError();
      throw err;
    }
  }
}
