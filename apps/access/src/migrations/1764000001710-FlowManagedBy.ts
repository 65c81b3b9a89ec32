import { MigrationInterface, QueryRunner } from 'typeorm';

/** The config file that manages a flow (`latchkey apply`): apply --prune deletes only what it manages. */
export class FlowManagedBy1764000001710 implements MigrationInterface {
  name = 'FlowManagedBy1764000001710';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.access_flows ADD COLUMN managed_by text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.access_flows DROP COLUMN managed_by');
  }
}
