import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { managerOf, managerOr, Tx } from '../control-database/transactions.repository';

type Raw = Record<string, any>;
type WriteResult = [Raw[], number];

export interface ScimTokenRow {
  id: string;
  name: string;
  createdAt: Date;
  createdBy: string;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface ScimGroupRow {
  id: string;
  name: string;
  externalId: string | null;
  createdAt: Date;
  members: Array<{ id: string; email: string }>;
}

/** The attributes a SCIM filter may compare (`eq`), and the column each one reads. */
export const USER_FILTER_COLUMNS = {
  userName: 'lower(u.email)',
  'emails.value': 'lower(u.email)',
  externalId: 'u.external_id',
  id: 'u.id::text',
  displayName: 'u.name',
} as const;
export const GROUP_FILTER_COLUMNS = { displayName: 'lower(g.name)', externalId: 'g.external_id', id: 'g.id::text' } as const;
/** Compared without regard to case (RFC 7643: userName and emails are caseExact false; our group names are unique regardless of case). */
const CASE_INSENSITIVE = new Set(['userName', 'emails.value', 'displayName']);

/** `WHERE <column> = $1` for a filter on one of the known attributes (columns are constants above), or no filter. */
function whereOf<A extends string>(columns: Record<A, string>, attribute: A | undefined): string {
  if (attribute === undefined) return 'WHERE $1::text IS NULL';
  return 'WHERE ' + columns[attribute] + ' = ' + (CASE_INSENSITIVE.has(attribute) ? 'lower($1)' : '$1');
}

const TOKEN_COLUMNS = 'id, name, created_at, created_by, last_used_at, revoked_at';
const toToken = (r: Raw): ScimTokenRow => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  createdBy: r.created_by,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});
const GROUP_COLUMNS =
  'SELECT g.id, g.name, g.external_id, g.created_at, ' +
  "COALESCE((SELECT json_agg(json_build_object('id', u.id, 'email', u.email) ORDER BY u.email) FROM access.user_groups ug JOIN access.users u ON u.id = ug.user_id WHERE ug.group_id = g.id), '[]') AS members " +
  'FROM access.groups g ';
const toGroup = (r: Raw): ScimGroupRow => ({ id: r.id, name: r.name, externalId: r.external_id, createdAt: r.created_at, members: r.members });

/** SCIM's own tables and queries: bearer tokens, and users and groups looked up as an IdP asks for them. */
@Injectable()
export class ScimRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertToken(token: { name: string; hash: string; createdBy: string }): Promise<ScimTokenRow> {
    const rows: Raw[] = await this.dataSource.query(
      'INSERT INTO access.scim_tokens (name, token_hash, created_by) VALUES ($1, $2, $3) RETURNING ' + TOKEN_COLUMNS,
      [token.name, token.hash, token.createdBy],
    );
    return toToken(rows[0]);
  }

  async listTokens(): Promise<ScimTokenRow[]> {
    const rows: Raw[] = await this.dataSource.query('SELECT ' + TOKEN_COLUMNS + ' FROM access.scim_tokens ORDER BY created_at, id');
    return rows.map(toToken);
  }

  /** Revokes the token; answers it (revoked now or before), or null when there is none. */
  async revokeToken(id: string): Promise<{ token: ScimTokenRow; revokedNow: boolean } | null> {
    const [rows]: WriteResult = await this.dataSource.query(
      'UPDATE access.scim_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ' + TOKEN_COLUMNS,
      [id],
    );
    if (rows[0]) return { token: toToken(rows[0]), revokedNow: true };
    const existing: Raw[] = await this.dataSource.query('SELECT ' + TOKEN_COLUMNS + ' FROM access.scim_tokens WHERE id = $1', [id]);
    return existing[0] ? { token: toToken(existing[0]), revokedNow: false } : null;
  }

  /** The unrevoked token with this hash (its last use noted, at most once a minute), or null. */
  async usableToken(hash: string): Promise<ScimTokenRow | null> {
    const rows: Raw[] = await this.dataSource.query('SELECT ' + TOKEN_COLUMNS + ' FROM access.scim_tokens WHERE token_hash = $1 AND revoked_at IS NULL', [
      hash,
    ]);
    if (!rows[0]) return null;
    await this.dataSource.query(
      "UPDATE access.scim_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
      [rows[0].id],
    );
    return toToken(rows[0]);
  }

  /** Ids of a page of users (creation order) matching `attribute eq value`, and how many match in all. */
  async findUserIds(
    filter: { attribute: keyof typeof USER_FILTER_COLUMNS; value: string } | null,
    offset: number,
    limit: number,
  ): Promise<{ ids: string[]; total: number }> {
    const where = whereOf(USER_FILTER_COLUMNS, filter?.attribute);
    const params = [filter?.value ?? null];
    const [count]: Raw[] = await this.dataSource.query('SELECT count(*)::int AS total FROM access.users u ' + where, params);
    const rows: Raw[] = await this.dataSource.query('SELECT u.id FROM access.users u ' + where + ' ORDER BY u.created_at, u.id OFFSET $2 LIMIT $3', [
      ...params,
      offset,
      limit,
    ]);
    return { ids: rows.map((r) => r.id), total: count.total };
  }

  async findGroups(
    filter: { attribute: keyof typeof GROUP_FILTER_COLUMNS; value: string } | null,
    offset: number,
    limit: number,
  ): Promise<{ groups: ScimGroupRow[]; total: number }> {
    const where = whereOf(GROUP_FILTER_COLUMNS, filter?.attribute);
    const params = [filter?.value ?? null];
    const [count]: Raw[] = await this.dataSource.query('SELECT count(*)::int AS total FROM access.groups g ' + where, params);
    const rows: Raw[] = await this.dataSource.query(GROUP_COLUMNS + where + ' ORDER BY g.created_at, g.id OFFSET $2 LIMIT $3', [...params, offset, limit]);
    return { groups: rows.map(toGroup), total: count.total };
  }

  /** Ids of the groups with these names (a user's groups as SCIM references them). */
  async groupsNamed(names: string[]): Promise<Array<{ id: string; name: string }>> {
    if (!names.length) return [];
    const rows: Raw[] = await this.dataSource.query('SELECT id, name FROM access.groups WHERE name = ANY($1::text[]) ORDER BY name', [names]);
    return rows.map((r) => ({ id: r.id, name: r.name }));
  }

  async findGroup(id: string, tx?: Tx): Promise<ScimGroupRow | null> {
    const m = managerOr(this.dataSource, tx);
    const rows: Raw[] = await m.query(GROUP_COLUMNS + 'WHERE g.id = $1', [id]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  async lockGroup(tx: Tx, id: string): Promise<boolean> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query('SELECT id FROM access.groups WHERE id = $1 FOR UPDATE', [id]);
    return rows.length > 0;
  }

  async setUserScimFields(tx: Tx, id: string, fields: { active: boolean; externalId: string | null }): Promise<void> {
    const m = managerOf(tx);
    await m.query('UPDATE access.users SET active = $2, external_id = $3, updated_at = now() WHERE id = $1', [id, fields.active, fields.externalId]);
  }

  async setGroupFields(tx: Tx, id: string, fields: { name: string; externalId: string | null }): Promise<void> {
    const m = managerOf(tx);
    await m.query('UPDATE access.groups SET name = $2, external_id = $3 WHERE id = $1', [id, fields.name, fields.externalId]);
  }

  /** Which of these ids are users (unknown ones are left out). */
  async existingUserIds(tx: Tx, ids: string[]): Promise<string[]> {
    const m = managerOf(tx);
    if (!ids.length) return [];
    const rows: Raw[] = await m.query('SELECT id FROM access.users WHERE id::text = ANY($1::text[])', [ids]);
    return rows.map((r) => r.id);
  }

  async addMembers(tx: Tx, groupId: string, userIds: string[]): Promise<string[]> {
    const m = managerOf(tx);
    if (!userIds.length) return [];
    const rows: Raw[] = await m.query(
      'INSERT INTO access.user_groups (user_id, group_id) SELECT unnest($2::uuid[]), $1 ON CONFLICT DO NOTHING RETURNING user_id',
      [groupId, userIds],
    );
    return rows.map((r) => r.user_id);
  }

  async removeMembers(tx: Tx, groupId: string, userIds: string[] | 'all'): Promise<string[]> {
    const m = managerOf(tx);
    const [rows]: WriteResult =
      userIds === 'all'
        ? await m.query('DELETE FROM access.user_groups WHERE group_id = $1 RETURNING user_id', [groupId])
        : await m.query('DELETE FROM access.user_groups WHERE group_id = $1 AND user_id::text = ANY($2::text[]) RETURNING user_id', [groupId, userIds]);
    return rows.map((r) => r.user_id);
  }

  async deleteGroup(tx: Tx, id: string): Promise<void> {
    const m = managerOf(tx);
    await m.query('DELETE FROM access.groups WHERE id = $1', [id]);
  }
}
