import { MigrationInterface, QueryRunner } from 'typeorm';

/** The config file that manages an integration (`latchkey apply`): apply --prune deletes only what it manages. */
export class IntegrationManagedBy1764000001700 implements MigrationInterface {
  name = 'IntegrationManagedBy1764000001700';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE catalog.integrations ADD COLUMN managed_by text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE catalog.integrations DROP COLUMN managed_by');
  }
}
