import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePendingWatch1764000000700 implements MigrationInterface {
  name = 'CreatePendingWatch1764000000700';

  async up(q: QueryRunner): Promise<void> {
    // Pending requests whose flow reminds approvers or escalates: how far each has gone (the
    // reminders sent, the tiers asked) and when it must be looked at next. Reminders and
    // escalations are derived from here, so a lost job or a crash delays one and never repeats it.
    await q.query(`
      CREATE TABLE notifications.pending_watch (
        request_id uuid PRIMARY KEY,
        created_at timestamptz(3) NOT NULL,
        reminder_interval_ms bigint,
        reminder_max integer NOT NULL DEFAULT 0,
        tier_due_at timestamptz(3)[] NOT NULL DEFAULT '{}',
        reminders_sent integer NOT NULL DEFAULT 0,
        tiers_reached integer NOT NULL DEFAULT 0,
        next_at timestamptz(3),
        ended boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE INDEX pending_watch_due_idx ON notifications.pending_watch (next_at) WHERE NOT ended AND next_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS notifications.pending_watch');
  }
}
