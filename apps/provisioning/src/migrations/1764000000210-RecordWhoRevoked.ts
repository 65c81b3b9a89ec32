import { MigrationInterface, QueryRunner } from 'typeorm';

/** Who revoked a grant, beside end_reason: how every grant ended is recorded, whatever path finished it. */
export class RecordWhoRevoked1764000000210 implements MigrationInterface {
  name = 'RecordWhoRevoked1764000000210';

  async up(q: QueryRunner): Promise<void> {
    // An Actor ({type, id, email?}); set with end_reason REVOKED, null for EXPIRED.
    await q.query('ALTER TABLE provisioning.grants ADD COLUMN revoked_by jsonb');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE provisioning.grants DROP COLUMN revoked_by');
  }
}
