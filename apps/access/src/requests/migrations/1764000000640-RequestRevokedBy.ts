import { MigrationInterface, QueryRunner } from 'typeorm';

/** Who asked for a revocation, so that the request reaching REVOKED is audited with them as actor (issue 10). */
export class RequestRevokedBy1764000000640 implements MigrationInterface {
  name = 'RequestRevokedBy1764000000640';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.access_requests ADD COLUMN revoked_by jsonb');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.access_requests DROP COLUMN revoked_by');
  }
}
