import { MigrationInterface, QueryRunner } from 'typeorm';

/** Passwords, browser sessions, one-time links and sign-in failures of people (issue 11). */
export class CreateSignIn1764000001100 implements MigrationInterface {
  name = 'CreateSignIn1764000001100';

  async up(q: QueryRunner): Promise<void> {
    // Apart from users: no query that reads a user can pick up a password hash by accident.
    await q.query(`
      CREATE TABLE access.user_passwords (
        user_id uuid PRIMARY KEY REFERENCES access.users (id) ON DELETE CASCADE,
        -- $scrypt$ln=..,r=..,p=..$salt$key: the parameters travel with the hash.
        password_hash text NOT NULL CHECK (password_hash LIKE '$scrypt$%'),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE access.sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
        -- SHA-256 of the cookie's random id; the id itself is never stored.
        session_hash text NOT NULL CHECK (session_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz(3) NOT NULL,
        last_seen_at timestamptz(3) NOT NULL,
        client_address text,
        user_agent text,
        CONSTRAINT sessions_hash_unique UNIQUE (session_hash)
      )`);
    await q.query('CREATE INDEX sessions_user_idx ON access.sessions (user_id)');
    await q.query('CREATE INDEX sessions_created_idx ON access.sessions (created_at)');
    await q.query(`
      CREATE TABLE access.password_links (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('invite', 'reset', 'bootstrap')),
        -- SHA-256 of the link's token; the token is answered once and never stored.
        token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        used_at timestamptz(3),
        CONSTRAINT password_links_hash_unique UNIQUE (token_hash)
      )`);
    await q.query('CREATE INDEX password_links_user_idx ON access.password_links (user_id)');
    // The email typed (known or not) and the client address of each failed sign-in, for throttling.
    await q.query(`
      CREATE TABLE access.sign_in_failures (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account text NOT NULL,
        address text NOT NULL,
        at timestamptz(3) NOT NULL
      )`);
    await q.query('CREATE INDEX sign_in_failures_account_idx ON access.sign_in_failures (account, at DESC)');
    await q.query('CREATE INDEX sign_in_failures_address_idx ON access.sign_in_failures (address, at DESC)');
    await q.query('CREATE INDEX sign_in_failures_at_idx ON access.sign_in_failures (at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.sign_in_failures');
    await q.query('DROP TABLE access.password_links');
    await q.query('DROP TABLE access.sessions');
    await q.query('DROP TABLE access.user_passwords');
  }
}
