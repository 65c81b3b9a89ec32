import { MigrationInterface, QueryRunner } from 'typeorm';
import { auditOutboxDdl } from '@latchkey/persistence';

/** The audit outbox of discovery: tag changes and refreshes asked by admins reach the audit log through it (issue 10). */
export class DiscoveryAuditOutbox1764000000620 implements MigrationInterface {
  name = 'DiscoveryAuditOutbox1764000000620';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of auditOutboxDdl('discovery')) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE discovery.audit_outbox');
  }
}
