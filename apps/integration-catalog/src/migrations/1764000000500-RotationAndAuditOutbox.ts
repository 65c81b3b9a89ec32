import { MigrationInterface, QueryRunner } from 'typeorm';

/** Secret versions and rotation state on integrations (issue 5), and the audit outbox. */
export class RotationAndAuditOutbox1764000000500 implements MigrationInterface {
  name = 'RotationAndAuditOutbox1764000000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE catalog.integrations
        -- The age a rotation schedule counts from: creation, an admin's new secret, or a rotation.
        ADD COLUMN secret_set_at timestamptz(3),
        -- A password staged by a rotation run (encrypted like secret), before the database is touched.
        ADD COLUMN pending_secret jsonb,
        ADD COLUMN pending_run_id uuid,
        ADD COLUMN pending_staged_at timestamptz(3),
        ADD COLUMN last_rotated_at timestamptz(3),
        ADD COLUMN next_due_at timestamptz(3),
        ADD COLUMN last_rotation_attempt_at timestamptz(3),
        ADD COLUMN last_rotation_result text,
        ADD COLUMN last_rotation_error text,
        ADD COLUMN last_rotation_run_id uuid,
        ADD CONSTRAINT integrations_pending_complete CHECK ((pending_secret IS NULL) = (pending_run_id IS NULL))`);
    await q.query('UPDATE catalog.integrations SET secret_set_at = created_at');
    await q.query('ALTER TABLE catalog.integrations ALTER COLUMN secret_set_at SET NOT NULL, ALTER COLUMN secret_set_at SET DEFAULT now()');
    await q.query(`
      CREATE TABLE catalog.audit_outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        -- An AuditEntryInput without sourceId (the row id is the source id); never a secret.
        entry jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`);
    await q.query('CREATE INDEX audit_outbox_created_idx ON catalog.audit_outbox (created_at, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE catalog.audit_outbox');
    await q.query(`
      ALTER TABLE catalog.integrations
        DROP CONSTRAINT integrations_pending_complete,
        DROP COLUMN secret_set_at, DROP COLUMN pending_secret, DROP COLUMN pending_run_id, DROP COLUMN pending_staged_at,
        DROP COLUMN last_rotated_at, DROP COLUMN next_due_at, DROP COLUMN last_rotation_attempt_at,
        DROP COLUMN last_rotation_result, DROP COLUMN last_rotation_error, DROP COLUMN last_rotation_run_id`);
  }
}
