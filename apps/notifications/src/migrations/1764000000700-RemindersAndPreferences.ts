import { MigrationInterface, QueryRunner } from 'typeorm';

export class RemindersAndPreferences1764000000700 implements MigrationInterface {
  name = 'RemindersAndPreferences1764000000700';

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

    // Which events people get by email: one row per person ('user:<id>', with the email address
    // deliveries are addressed to) and one for the organisation's defaults ('org').
    await q.query(`
      CREATE TABLE notifications.preferences (
        subject text PRIMARY KEY,
        email text,
        email_choices jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX preferences_email_idx ON notifications.preferences (lower(email))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS notifications.preferences, notifications.pending_watch');
  }
}
