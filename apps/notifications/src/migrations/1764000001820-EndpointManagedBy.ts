import { MigrationInterface, QueryRunner } from 'typeorm';

/** The config file that manages a webhook endpoint (`latchkey apply`): apply --prune deletes only what it manages. */
export class EndpointManagedBy1764000001820 implements MigrationInterface {
  name = 'EndpointManagedBy1764000001820';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE notifications.endpoints ADD COLUMN managed_by text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE notifications.endpoints DROP COLUMN managed_by');
  }
}
