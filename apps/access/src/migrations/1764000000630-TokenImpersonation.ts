import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tokens an admin made for someone else name that admin: every audit entry made with them does too (issue 10). */
export class TokenImpersonation1764000000630 implements MigrationInterface {
  name = 'TokenImpersonation1764000000630';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.api_tokens ADD COLUMN impersonated_by jsonb');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.api_tokens DROP COLUMN impersonated_by');
  }
}
