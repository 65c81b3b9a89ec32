import { MigrationInterface, QueryRunner } from 'typeorm';

/** Deprovisioning (issue 16): people whose requests and approvals must be reviewed after the identity provider changed them. */
export class CreateIdentityChanges1764000001400 implements MigrationInterface {
  name = 'CreateIdentityChanges1764000001400';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key on user_id: a deleted user's requests are reviewed after the user is gone.
    await q.query(`
      CREATE TABLE access.identity_changes (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL,
        reason text NOT NULL,
        actor jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.identity_changes');
  }
}
