import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateGateway1764000000100 implements MigrationInterface {
  name = 'CreateGateway1764000000100';

  async up(q: QueryRunner): Promise<void> {
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

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE gateway.api_tokens');
  }
}
