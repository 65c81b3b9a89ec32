import { MigrationInterface, QueryRunner } from 'typeorm';

/** API tokens moved to the access service (access.api_tokens): the gateway keeps none. */
export class DropApiTokens1764000000401 implements MigrationInterface {
  name = 'DropApiTokens1764000000401';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS gateway.api_tokens');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gateway.api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        role text NOT NULL CHECK (role IN ('admin', 'user')),
        user_id text,
        seeded boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query('CREATE UNIQUE INDEX api_tokens_one_seed ON gateway.api_tokens (seeded) WHERE seeded');
  }
}
