import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNotifications1764000000600 implements MigrationInterface {
  name = 'CreateNotifications1764000000600';

  async up(q: QueryRunner): Promise<void> {
    // How far the access service's audit log (read as the outbox) has been turned into events.
    await q.query(`CREATE TABLE notifications.cursors (name text PRIMARY KEY, seq bigint NOT NULL)`);
    await q.query(`INSERT INTO notifications.cursors (name, seq) VALUES ('audit', 0)`);

    // Webhook endpoints. The URL (it may carry a token, as Slack's do) and the signing secrets
    // are AES-256-GCM envelopes under the master key; url_display is the URL with them masked.
    await q.query(`
      CREATE TABLE notifications.endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        url_envelope jsonb NOT NULL,
        url_display text NOT NULL,
        format text NOT NULL CHECK (format IN ('standard', 'slack')),
        events text[] NOT NULL,
        filters jsonb NOT NULL DEFAULT '{}',
        active boolean NOT NULL,
        disabled_reason text,
        secret_envelope jsonb NOT NULL,
        previous_secret_envelope jsonb,
        previous_secret_expires_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);

    // One row per thing that happened (an audit entry, an expiry warning, a test), with the
    // payload every channel renders from, frozen when it was recorded.
    await q.query(`
      CREATE TABLE notifications.events (
        id text PRIMARY KEY,
        type text NOT NULL,
        occurred_at timestamptz(3) NOT NULL,
        request_id uuid,
        integration_id uuid,
        flow_id uuid,
        payload jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);

    // One delivery per (event, target): a webhook endpoint's id or an email address. The unique
    // key is what makes "never sent twice by Latchkey's own doing" hold whatever re-derives it.
    await q.query(`
      CREATE TABLE notifications.deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id text NOT NULL REFERENCES notifications.events (id) ON DELETE CASCADE,
        channel text NOT NULL CHECK (channel IN ('webhook', 'email')),
        target text NOT NULL,
        endpoint_id uuid REFERENCES notifications.endpoints (id) ON DELETE CASCADE,
        context jsonb,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz(3),
        lease_until timestamptz(3),
        delivered_at timestamptz(3),
        dead_lettered_at timestamptz(3),
        last_error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        UNIQUE (event_id, target)
      )`);
    await q.query(`CREATE INDEX deliveries_due_idx ON notifications.deliveries (next_attempt_at) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX deliveries_endpoint_idx ON notifications.deliveries (endpoint_id, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE notifications.delivery_attempts (
        delivery_id uuid NOT NULL REFERENCES notifications.deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        at timestamptz(3) NOT NULL DEFAULT now(),
        status_code integer,
        latency_ms integer NOT NULL,
        response_excerpt text,
        error text,
        PRIMARY KEY (delivery_id, attempt)
      )`);

    // Granted requests whose end is coming: the expiry warning is derived from here.
    await q.query(`
      CREATE TABLE notifications.expiry_watch (
        request_id uuid PRIMARY KEY,
        granted_at timestamptz(3) NOT NULL,
        expires_at timestamptz(3) NOT NULL,
        warned_for timestamptz(3),
        ended boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE INDEX expiry_watch_due_idx ON notifications.expiry_watch (expires_at) WHERE NOT ended`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP TABLE IF EXISTS notifications.expiry_watch, notifications.delivery_attempts, notifications.deliveries, notifications.events, notifications.endpoints, notifications.cursors',
    );
  }
}
