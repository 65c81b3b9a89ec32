import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { managerOf, managerOr, Tx } from '../control-database/transactions.repository';
import type { PasswordLinkPurpose, UserRole } from '@latchkey/contracts';

/** A live session and its user as authentication needs them. */
export interface SessionOwner {
  sessionId: string;
  createdAt: Date;
  lastSeenAt: Date;
  user: { id: string; email: string; name: string; role: UserRole; attributes: Record<string, string>; groups: string[] };
}

type Raw = Record<string, any>;
/** What TypeORM's postgres driver answers for UPDATE/DELETE ... RETURNING: the rows and the count. */
type WriteResult = [Raw[], number];

const GROUPS_OF_U =
  "COALESCE((SELECT array_agg(g.name ORDER BY g.name) FROM access.user_groups ug JOIN access.groups g ON g.id = ug.group_id WHERE ug.user_id = u.id), '{}') AS groups";
// One round trip: the session's last use moves on only while it is live, and its user comes along.
const TOUCH_SESSION =
  'WITH s AS (UPDATE access.sessions SET last_seen_at = $2 WHERE session_hash = $1 AND created_at > $3 AND last_seen_at > $4 RETURNING id, user_id, created_at, last_seen_at) ' +
  'SELECT s.id AS session_id, s.created_at, s.last_seen_at, u.id, u.email, u.name, u.role, u.attributes, ' +
  GROUPS_OF_U +
  ' FROM s JOIN access.users u ON u.id = s.user_id WHERE u.active';

// `$4`: the caller's own attempt, not counted against itself.
const RECENT_FAILURES = {
  account: 'SELECT at FROM access.sign_in_failures WHERE account = $1 AND at > $2 AND id <> $4 ORDER BY at DESC LIMIT $3',
  address: 'SELECT at FROM access.sign_in_failures WHERE address = $1 AND at > $2 AND id <> $4 ORDER BY at DESC LIMIT $3',
} as const;

/**
 * Passwords (scrypt hashes), sessions (SHA-256 of their ids), one-time links (SHA-256 of their
 * tokens) and sign-in failures, in the `access` schema. Methods that write take their transaction.
 */
@Injectable()
export class SignInRepository {
  constructor(private readonly dataSource: DataSource) {}

  async passwordHash(userId: string, tx?: Tx): Promise<string | null> {
    const m = managerOr(this.dataSource, tx);
    const rows: Raw[] = await m.query('SELECT password_hash FROM access.user_passwords WHERE user_id = $1', [userId]);
    return rows[0]?.password_hash ?? null;
  }

  async setPasswordHash(tx: Tx, userId: string, hash: string): Promise<void> {
    const m = managerOf(tx);
    await m.query(
      'INSERT INTO access.user_passwords (user_id, password_hash) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now()',
      [userId, hash],
    );
  }

  async insertSession(tx: Tx, session: { userId: string; hash: string; at: Date; address: string; userAgent?: string }): Promise<string> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query(
      'INSERT INTO access.sessions (user_id, session_hash, created_at, last_seen_at, client_address, user_agent) VALUES ($1, $2, $3, $3, $4, $5) RETURNING id',
      [session.userId, session.hash, session.at, session.address, session.userAgent ?? null],
    );
    return rows[0].id;
  }

  /** The session with this hash if it was created after `createdAfter` and used after `seenAfter`; marks it used at `now`. */
  async touchSession(hash: string, now: Date, live: { createdAfter: Date; seenAfter: Date }): Promise<SessionOwner | null> {
    const rows: Raw[] = await this.dataSource.query(TOUCH_SESSION, [hash, now, live.createdAfter, live.seenAfter]);
    const r = rows[0];
    if (!r) return null;
    return {
      sessionId: r.session_id,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      user: { id: r.id, email: r.email, name: r.name, role: r.role, attributes: r.attributes, groups: r.groups },
    };
  }

  async findSession(hash: string, tx?: Tx): Promise<{ id: string; userId: string } | null> {
    const m = managerOr(this.dataSource, tx);
    const rows: Raw[] = await m.query('SELECT id, user_id FROM access.sessions WHERE session_hash = $1', [hash]);
    return rows[0] ? { id: rows[0].id, userId: rows[0].user_id } : null;
  }

  /** Ends one session; answers its id and user, or null when there was none. */
  async deleteSession(tx: Tx, hash: string): Promise<{ id: string; userId: string } | null> {
    const m = managerOf(tx);
    const [rows]: WriteResult = await m.query('DELETE FROM access.sessions WHERE session_hash = $1 RETURNING id, user_id', [hash]);
    return rows[0] ? { id: rows[0].id, userId: rows[0].user_id } : null;
  }

  /** Ends every session of a user; answers how many there were. */
  async deleteSessionsOf(tx: Tx, userId: string): Promise<number> {
    const m = managerOf(tx);
    const [, count]: WriteResult = await m.query('DELETE FROM access.sessions WHERE user_id = $1', [userId]);
    return count;
  }

  /** Drops sessions that can no longer be used (a sign-in tidies up after its own user). */
  async deleteDeadSessionsOf(tx: Tx, userId: string, live: { createdAfter: Date; seenAfter: Date }): Promise<void> {
    const m = managerOf(tx);
    await m.query('DELETE FROM access.sessions WHERE user_id = $1 AND (created_at <= $2 OR last_seen_at <= $3)', [userId, live.createdAfter, live.seenAfter]);
  }

  /** The user linked to this provider account, if any. */
  async userOfSsoIdentity(tx: Tx, issuer: string, subject: string): Promise<string | null> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query('SELECT user_id FROM access.sso_identities WHERE issuer = $1 AND subject = $2', [issuer, subject]);
    return rows[0]?.user_id ?? null;
  }

  /** The subject this user is linked to at this provider, if any. */
  async ssoSubjectOf(tx: Tx, userId: string, issuer: string): Promise<string | null> {
    const m = managerOf(tx);
    const rows: Raw[] = await m.query('SELECT subject FROM access.sso_identities WHERE user_id = $1 AND issuer = $2', [userId, issuer]);
    return rows[0]?.subject ?? null;
  }

  async linkSsoIdentity(tx: Tx, link: { issuer: string; subject: string; userId: string; at: Date }): Promise<void> {
    const m = managerOf(tx);
    await m.query(
      'INSERT INTO access.sso_identities (issuer, subject, user_id, created_at, last_sign_in_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (issuer, subject) DO UPDATE SET last_sign_in_at = EXCLUDED.last_sign_in_at',
      [link.issuer, link.subject, link.userId, link.at],
    );
  }

  /** Times of the newest failures (newest first) for an account or an address since `since`, but `except`. */
  async recentFailures(by: 'account' | 'address', key: string, since: Date, limit: number, except: string): Promise<Date[]> {
    const rows: Raw[] = await this.dataSource.query(RECENT_FAILURES[by], [key, since, limit, except]);
    return rows.map((r) => r.at as Date);
  }

  /** Records an attempt as a failure (committed at once, so concurrent attempts see it); answers its id. */
  async insertFailure(account: string, address: string, at: Date): Promise<string> {
    const rows: Raw[] = await this.dataSource.query('INSERT INTO access.sign_in_failures (account, address, at) VALUES ($1, $2, $3) RETURNING id', [
      account,
      address,
      at,
    ]);
    return String(rows[0].id);
  }

  async deleteFailure(id: string): Promise<void> {
    await this.dataSource.query('DELETE FROM access.sign_in_failures WHERE id = $1', [id]);
  }

  /** A successful sign-in or a new password clears the account's failures (not the address's). */
  async clearAccountFailures(tx: Tx, account: string): Promise<void> {
    const m = managerOf(tx);
    await m.query('DELETE FROM access.sign_in_failures WHERE account = $1', [account]);
  }

  async pruneFailures(before: Date): Promise<void> {
    await this.dataSource.query('DELETE FROM access.sign_in_failures WHERE at <= $1', [before]);
  }

  /** A user's unused links stop working (a newer link, or a password set). */
  async deleteUnusedLinksOf(tx: Tx, userId: string): Promise<void> {
    const m = managerOf(tx);
    await m.query('DELETE FROM access.password_links WHERE user_id = $1 AND used_at IS NULL', [userId]);
  }

  async insertLink(tx: Tx, link: { userId: string; purpose: PasswordLinkPurpose; hash: string; expiresAt: Date }): Promise<void> {
    const m = managerOf(tx);
    await m.query('INSERT INTO access.password_links (user_id, purpose, token_hash, expires_at) VALUES ($1, $2, $3, $4)', [
      link.userId,
      link.purpose,
      link.hash,
      link.expiresAt,
    ]);
  }

  /** The unused, unexpired link with this hash (a read: the password is hashed before the link is spent). */
  async findUsableLink(hash: string, now: Date): Promise<{ userId: string; purpose: PasswordLinkPurpose } | null> {
    const rows: Raw[] = await this.dataSource.query(
      'SELECT user_id, purpose FROM access.password_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2',
      [hash, now],
    );
    return rows[0] ? { userId: rows[0].user_id, purpose: rows[0].purpose } : null;
  }

  /** Spends the link: only one caller can, however many race. */
  async useLink(tx: Tx, hash: string, now: Date): Promise<{ userId: string; purpose: PasswordLinkPurpose } | null> {
    const m = managerOf(tx);
    const [rows]: WriteResult = await m.query(
      'UPDATE access.password_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id, purpose',
      [hash, now],
    );
    return rows[0] ? { userId: rows[0].user_id, purpose: rows[0].purpose } : null;
  }
}
