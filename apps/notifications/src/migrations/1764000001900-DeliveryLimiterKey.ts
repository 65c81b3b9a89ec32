import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a delivery's in-flight limit (WEBHOOK_ENDPOINT_CONCURRENCY) is counted against: its webhook
 * endpoint, or the person for their own Slack webhook (target `slack:<email>`); email has none.
 * Indexed over pending deliveries only, so counting the leases in flight and finding the oldest
 * waiting one when a slot frees read a few rows, not an endpoint's whole history. And a person's
 * deliveries (their Slack, their email) by target, newest first: their delivery log.
 */
export class DeliveryLimiterKey1764000001900 implements MigrationInterface {
  name = 'DeliveryLimiterKey1764000001900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications.deliveries ADD COLUMN limiter_key text GENERATED ALWAYS AS (
      CASE WHEN endpoint_id IS NOT NULL THEN 'endpoint:' || endpoint_id::text WHEN channel = 'slack' THEN target END) STORED`);
    await q.query(
      `CREATE INDEX deliveries_limiter_idx ON notifications.deliveries (limiter_key, next_attempt_at) WHERE status = 'PENDING' AND limiter_key IS NOT NULL`,
    );
    await q.query(`CREATE INDEX deliveries_personal_idx ON notifications.deliveries (target, created_at DESC, id DESC) WHERE endpoint_id IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX notifications.deliveries_personal_idx');
    await q.query('ALTER TABLE notifications.deliveries DROP COLUMN limiter_key');
  }
}
