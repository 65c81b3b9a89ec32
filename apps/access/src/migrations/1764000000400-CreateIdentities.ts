import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIdentities1764000000400 implements MigrationInterface {
  name = 'CreateIdentities1764000000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE access.users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL,
        name text NOT NULL,
        attributes jsonb NOT NULL DEFAULT '{}',
        role text NOT NULL CHECK (role IN ('admin', 'user')),
        -- Milliseconds, as JavaScript keeps them: page tokens carry created_at exactly.
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    // Unique regardless of case, whatever a writer forgot to lower-case.
    await q.query('CREATE UNIQUE INDEX users_email_unique ON access.users (lower(email))');
    await q.query('CREATE INDEX users_created_idx ON access.users (created_at, id)');
    await q.query(`
      CREATE TABLE access.groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        description text,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX groups_name_unique ON access.groups (lower(name))');
    await q.query('CREATE INDEX groups_created_idx ON access.groups (created_at, id)');
    await q.query(`
      CREATE TABLE access.user_groups (
        user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES access.groups (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, group_id)
      )`);
    await q.query('CREATE INDEX user_groups_group_idx ON access.user_groups (group_id)');
    // Tokens outlive their user (no foreign key): deleting a user revokes them, and they stay listed.
    await q.query(`
      CREATE TABLE access.api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        name text NOT NULL,
        -- SHA-256 of the token; the token itself is shown once and never stored.
        token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        -- The bootstrap admin's token (LATCHKEY_ADMIN_TOKEN or generated at first start): at most one.
        bootstrap boolean NOT NULL DEFAULT false,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3),
        revoked_at timestamptz(3),
        last_used_at timestamptz(3),
        CONSTRAINT api_tokens_hash_unique UNIQUE (token_hash)
      )`);
    await q.query('CREATE UNIQUE INDEX api_tokens_one_bootstrap ON access.api_tokens (bootstrap) WHERE bootstrap');
    await q.query('CREATE INDEX api_tokens_user_idx ON access.api_tokens (user_id, created_at, id)');
    await q.query('CREATE INDEX api_tokens_created_idx ON access.api_tokens (created_at, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.api_tokens');
    await q.query('DROP TABLE access.user_groups');
    await q.query('DROP TABLE access.groups');
    await q.query('DROP TABLE access.users');
  }
}
