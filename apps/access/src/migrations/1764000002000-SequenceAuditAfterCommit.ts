import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit entries are written in the caller's transaction without a place in the chain (seq, prev_hash
 * and hash empty) and linked into it after they commit, many at a time, by the sequencer: appends no
 * longer wait on the head's lock. `queued` is the order they were appended in.
 */
export class SequenceAuditAfterCommit1764000002000 implements MigrationInterface {
  name = 'SequenceAuditAfterCommit1764000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE access.audit_log
        ALTER COLUMN seq DROP NOT NULL,
        ALTER COLUMN prev_hash DROP NOT NULL,
        ALTER COLUMN hash DROP NOT NULL,
        ALTER COLUMN at SET DEFAULT date_trunc('milliseconds', clock_timestamp()),
        ADD COLUMN queued bigint GENERATED ALWAYS AS IDENTITY,
        ADD CONSTRAINT audit_log_linked_whole CHECK ((seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL))`);
    await q.query('CREATE INDEX audit_log_unsequenced_idx ON access.audit_log (queued) WHERE seq IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX access.audit_log_unsequenced_idx');
    await q.query(`
      ALTER TABLE access.audit_log
        DROP CONSTRAINT audit_log_linked_whole,
        DROP COLUMN queued,
        ALTER COLUMN at DROP DEFAULT,
        ALTER COLUMN seq SET NOT NULL,
        ALTER COLUMN prev_hash SET NOT NULL,
        ALTER COLUMN hash SET NOT NULL`);
  }
}
