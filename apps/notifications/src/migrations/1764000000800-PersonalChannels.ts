import { MigrationInterface, QueryRunner } from 'typeorm';

export class PersonalChannels1764000000800 implements MigrationInterface {
  name = 'PersonalChannels1764000000800';

  async up(q: QueryRunner): Promise<void> {
    // The choices per event type now hold for every personal channel, not only email.
    await q.query('ALTER TABLE notifications.preferences RENAME COLUMN email_choices TO event_choices');
    // Where a person is told (NULL: the organisation's default), and their own Slack incoming
    // webhook: its URL is the secret, so it is sealed under the master key like endpoint URLs,
    // and only its masked form is kept in the clear.
    await q.query(`ALTER TABLE notifications.preferences
      ADD COLUMN channels text[] CHECK (channels <@ ARRAY['email', 'slack']),
      ADD COLUMN slack_url_envelope jsonb,
      ADD COLUMN slack_url_display text`);
    // Messages to a person's Slack: one delivery per (event, 'slack:<email>'), beside their email's.
    await q.query('ALTER TABLE notifications.deliveries DROP CONSTRAINT deliveries_channel_check');
    await q.query(`ALTER TABLE notifications.deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('webhook', 'email', 'slack'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM notifications.deliveries WHERE channel = 'slack'`);
    await q.query('ALTER TABLE notifications.deliveries DROP CONSTRAINT deliveries_channel_check');
    await q.query(`ALTER TABLE notifications.deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('webhook', 'email'))`);
    await q.query('ALTER TABLE notifications.preferences DROP COLUMN channels, DROP COLUMN slack_url_envelope, DROP COLUMN slack_url_display');
    await q.query('ALTER TABLE notifications.preferences RENAME COLUMN event_choices TO email_choices');
  }
}
