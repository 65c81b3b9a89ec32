import { MigrationInterface, QueryRunner } from 'typeorm';

/** Who asked for a request's revocation: its end is audited once, when it is reached, naming them. */
export class RecordWhoRevokedRequests1764000000435 implements MigrationInterface {
  name = 'RecordWhoRevokedRequests1764000000435';

  async up(q: QueryRunner): Promise<void> {
    // An Actor ({type, id, email?}); null unless a person revoked the request.
    await q.query('ALTER TABLE access.access_requests ADD COLUMN revoked_by jsonb');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE access.access_requests DROP COLUMN revoked_by');
  }
}
