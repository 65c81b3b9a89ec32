import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { managerOf, managerOr, Tx } from '../control-database/transactions.repository';
import type { PagePosition } from '@latchkey/persistence';
import type { Impersonator, UserRole } from '@latchkey/contracts';

export interface TokenRow {
  id: string;
  userId: string;
  name: string;
  bootstrap: boolean;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  impersonatedBy: Impersonator | null;
}

/** Who a usable token belongs to, as authentication needs it. */
export interface TokenOwner {
  token: TokenRow;
  user: { id: string; email: string; role: UserRole; attributes: Record<string, string>; groups: string[] };
}

type Raw = Record<string, any>;
/** What TypeORM's postgres driver answers for UPDATE ... RETURNING: the rows and the count. */
type UpdateResult = [Raw[], number];

const TOKEN_COLUMNS = 't.id, t.user_id, t.name, t.bootstrap, t.created_at, t.expires_at, t.revoked_at, t.last_used_at, t.impersonated_by';
const TOKEN_BY_ID = 'SELECT ' + TOKEN_COLUMNS + ' FROM access.api_tokens t WHERE t.id = $1';
const TOKEN_PAGE =
  'SELECT ' +
  TOKEN_COLUMNS +
  ' FROM access.api_tokens t WHERE ($1::uuid IS NULL OR t.user_id = $1) AND ($2::timestamptz IS NULL OR (t.created_at, t.id) > ($2::timestamptz, $3::uuid)) ORDER BY t.created_at, t.id LIMIT $4';
const USABLE_TOKEN =
  'SELECT ' +
  TOKEN_COLUMNS +
  ', u.email, u.role, u.attributes, ' +
  "COALESCE((SELECT array_agg(g.name ORDER BY g.name) FROM access.user_groups ug JOIN access.groups g ON g.id = ug.group_id WHERE ug.user_id = u.id), '{}') AS groups " +
  'FROM access.api_tokens t JOIN access.users u ON u.id = t.user_id ' +
  'WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.active';

const toToken = (r: Raw): TokenRow => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  bootstrap: r.bootstrap,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  impersonatedBy: r.impersonated_by ?? null,
});

/** API tokens, kept as SHA-256 hashes only. Methods take the transaction they run in. */
@Injectable()
export class TokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, token: { userId: string; name: string; hash: string; expiresAt: Date | null; impersonatedBy: Impersonator | null }): Promise<TokenRow> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query(
      'INSERT INTO access.api_tokens AS t (user_id, name, token_hash, expires_at, impersonated_by) VALUES ($1, $2, $3, $4, $5) RETURNING ' + TOKEN_COLUMNS,
      [token.userId, token.name, token.hash, token.expiresAt, token.impersonatedBy ? JSON.stringify(token.impersonatedBy) : null],
    );
    return toToken(rows[0]);
  }

  async find(id: string, tx?: Tx): Promise<TokenRow | null> {
    const m = managerOr(this.dataSource, tx);
    const rows: Raw[] = await m.query(TOKEN_BY_ID, [id]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  /** Revokes the token; answers it, and whether this call revoked it (false: it already was). */
  async revoke(tx: Tx, id: string): Promise<{ token: TokenRow; revokedNow: boolean } | null> {
    const m = managerOf(tx);
    const [rows]: UpdateResult = await m.query(
      'UPDATE access.api_tokens t SET revoked_at = now() WHERE t.id = $1 AND t.revoked_at IS NULL RETURNING ' + TOKEN_COLUMNS,
      [id],
    );
    if (rows[0]) return { token: toToken(rows[0]), revokedNow: true };
    const token = await this.find(id, tx);
    return token ? { token, revokedNow: false } : null;
  }

  /** Revokes every live token of a user; answers those it revoked. */
  async revokeAllOf(tx: Tx, userId: string): Promise<TokenRow[]> {
    const m = managerOf(tx);
    const [rows]: UpdateResult = await m.query(
      'UPDATE access.api_tokens t SET revoked_at = now() WHERE t.user_id = $1 AND t.revoked_at IS NULL RETURNING ' + TOKEN_COLUMNS,
      [userId],
    );
    return rows.map(toToken);
  }

  async page(filter: { userId?: string; after?: PagePosition; limit: number }): Promise<TokenRow[]> {
    const rows: Raw[] = await this.dataSource.query(TOKEN_PAGE, [
      filter.userId ?? null,
      filter.after?.createdAt ?? null,
      filter.after?.id ?? null,
      filter.limit,
    ]);
    return rows.map(toToken);
  }

  /** The token with this hash and its user, if it is neither revoked nor expired and its user exists. */
  async findUsable(hash: string): Promise<TokenOwner | null> {
    const rows: Raw[] = await this.dataSource.query(USABLE_TOKEN, [hash]);
    const r = rows[0];
    if (!r) return null;
    return { token: toToken(r), user: { id: r.user_id, email: r.email, role: r.role, attributes: r.attributes, groups: r.groups } };
  }

  /** Records use, at most once a minute per token: authentication stays a read. */
  async touch(id: string): Promise<void> {
    await this.dataSource.query(
      "UPDATE access.api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
      [id],
    );
  }

  async findBootstrap(tx: Tx): Promise<(TokenRow & { hash: string }) | null> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query('SELECT ' + TOKEN_COLUMNS + ', t.token_hash FROM access.api_tokens t WHERE t.bootstrap', []);
    return rows[0] ? { ...toToken(rows[0]), hash: rows[0].token_hash } : null;
  }

  /** Makes `hash` the bootstrap admin's token: one row, replaced (and un-revoked) when the seed changes. */
  async putBootstrap(tx: Tx, userId: string, hash: string): Promise<TokenRow> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query(
      `INSERT INTO access.api_tokens AS t (user_id, name, token_hash, bootstrap) VALUES ($1, 'bootstrap admin', $2, true)
       ON CONFLICT (bootstrap) WHERE bootstrap
       DO UPDATE SET user_id = EXCLUDED.user_id, token_hash = EXCLUDED.token_hash, created_at = now(), revoked_at = NULL, expires_at = NULL, last_used_at = NULL
       RETURNING ` + TOKEN_COLUMNS,
      [userId, hash],
    );
    return toToken(rows[0]);
  }
}
