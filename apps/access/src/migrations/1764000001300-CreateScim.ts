import { MigrationInterface, QueryRunner } from 'typeorm';

/** SCIM 2.0 provisioning (issue 16): deactivated users, the IdP's ids, and the IdP's bearer tokens. */
export class CreateScim1764000001300 implements MigrationInterface {
  name = 'CreateScim1764000001300';

  async up(q: QueryRunner): Promise<void> {
    // A deactivated user keeps their history but cannot sign in or use a token.
    await q.query('ALTER TABLE access.users ADD COLUMN active boolean NOT NULL DEFAULT true');
    await q.query('ALTER TABLE access.users ADD COLUMN external_id text');
    await q.query('ALTER TABLE access.groups ADD COLUMN external_id text');
    await q.query(`
      CREATE TABLE access.scim_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        -- SHA-256 of the token; the token is answered once and never stored.
        token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        created_by text NOT NULL,
        last_used_at timestamptz(3),
        revoked_at timestamptz(3),
        CONSTRAINT scim_tokens_hash_unique UNIQUE (token_hash)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.scim_tokens');
    await q.query('ALTER TABLE access.groups DROP COLUMN external_id');
    await q.query('ALTER TABLE access.users DROP COLUMN external_id');
    await q.query('ALTER TABLE access.users DROP COLUMN active');
  }
}
