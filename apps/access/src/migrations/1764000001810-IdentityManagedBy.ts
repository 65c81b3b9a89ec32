import { MigrationInterface, QueryRunner } from 'typeorm';

/** The config file that manages a user or a group (`latchkey apply`): apply --prune deletes only what it manages. */
export class IdentityManagedBy1764000001810 implements MigrationInterface {
  name = 'IdentityManagedBy1764000001810';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.users ADD COLUMN managed_by text');
    await q.query('ALTER TABLE access.groups ADD COLUMN managed_by text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.groups DROP COLUMN managed_by');
    await q.query('ALTER TABLE access.users DROP COLUMN managed_by');
  }
}
