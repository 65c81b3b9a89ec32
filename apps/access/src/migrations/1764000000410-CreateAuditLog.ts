import { MigrationInterface, QueryRunner } from 'typeorm';
import { GENESIS_HASH } from '../audit/audit-hash';

export class CreateAuditLog1764000000410 implements MigrationInterface {
  name = 'CreateAuditLog1764000000410';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE access.audit_log (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigint NOT NULL,
        at timestamptz(3) NOT NULL,
        action text NOT NULL,
        actor jsonb NOT NULL,
        actor_id text NOT NULL,
        target_type text NOT NULL,
        target_id text NOT NULL,
        target_name text,
        diff jsonb,
        details jsonb,
        source_id text,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        CONSTRAINT audit_log_seq_unique UNIQUE (seq),
        CONSTRAINT audit_log_source_id_unique UNIQUE (source_id)
      )`);
    await q.query('CREATE INDEX audit_log_action_idx ON access.audit_log (action, seq)');
    await q.query('CREATE INDEX audit_log_actor_idx ON access.audit_log (actor_id, seq)');
    await q.query('CREATE INDEX audit_log_target_idx ON access.audit_log (target_type, target_id, seq)');
    await q.query('CREATE INDEX audit_log_at_idx ON access.audit_log (at)');
    await q.query(`
      CREATE TABLE access.audit_head (
        id smallint PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash text NOT NULL
      )`);
    await q.query('INSERT INTO access.audit_head (id, seq, hash) VALUES (1, 0, $1)', [GENESIS_HASH]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.audit_head');
    await q.query('DROP TABLE access.audit_log');
  }
}
