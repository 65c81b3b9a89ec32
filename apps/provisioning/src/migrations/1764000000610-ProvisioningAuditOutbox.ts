import { MigrationInterface, QueryRunner } from 'typeorm';
import { auditOutboxDdl } from '@latchkey/persistence';

/** The audit outbox of provisioning: admins' direct changes to grants reach the audit log through it (issue 10). */
export class ProvisioningAuditOutbox1764000000610 implements MigrationInterface {
  name = 'ProvisioningAuditOutbox1764000000610';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of auditOutboxDdl('provisioning')) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE provisioning.audit_outbox');
  }
}
