import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { EncryptedEnvelope } from '@latchkey/contracts';
import { lockForTransaction } from '@latchkey/persistence';

export type Tx = EntityManager;

export interface EndpointRow {
  id: string;
  name: string;
  url_envelope: EncryptedEnvelope;
  url_display: string;
  format: 'standard' | 'slack';
  events: string[];
  filters: { integrationIds?: string[]; flowIds?: string[] };
  active: boolean;
  disabled_reason: string | null;
  secret_envelope: EncryptedEnvelope;
  previous_secret_envelope: EncryptedEnvelope | null;
  previous_secret_expires_at: Date | null;
  /** The config file that manages the endpoint (`latchkey apply`), or null. */
  managed_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface EventRow {
  id: string;
  type: string;
  occurred_at: Date;
  request_id: string | null;
  integration_id: string | null;
  flow_id: string | null;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  channel: 'webhook' | 'email' | 'slack';
  target: string;
  endpoint_id: string | null;
  context: { role?: 'approver' | 'requester' | 'admin'; reasons?: string[] } | null;
  status: 'PENDING' | 'DELIVERED' | 'DEAD';
  attempts: number;
  next_attempt_at: Date | null;
  lease_until: Date | null;
  delivered_at: Date | null;
  dead_lettered_at: Date | null;
  last_error: string | null;
  created_at: Date;
  /** What the in-flight limit counts against: `endpoint:<id>`, or `slack:<email>` for a person's Slack; null for email. */
  limiter_key: string | null;
  event_type?: string;
  request_id?: string | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: Date;
  status_code: number | null;
  latency_ms: number;
  response_excerpt: string | null;
  error: string | null;
}

export interface NewDelivery {
  eventId: string;
  channel: 'webhook' | 'email' | 'slack';
  target: string;
  endpointId: string | null;
  context: DeliveryRow['context'];
}

/** TypeORM answers UPDATE and DELETE with `[rows, count]` and other statements with the rows. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

/** One in-flight count at a time per limiter key (an endpoint, a person's Slack), across replicas. */
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

/** Every table of the notifications schema, in SQL. */
@Injectable()
export class NotificationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (m: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  // --- the audit cursor ---------------------------------------------------------------------

  /** Locks the cursor until the transaction ends: one ingest at a time, across replicas. */
  async lockCursor(m: Tx, name: string): Promise<number> {
    const rows: { seq: string }[] = await m.query('SELECT seq FROM notifications.cursors WHERE name = $1 FOR UPDATE', [name]);
    return Number(rows[0].seq);
  }

  async readCursor(name: string): Promise<number> {
    const rows: { seq: string }[] = await this.dataSource.query('SELECT seq FROM notifications.cursors WHERE name = $1', [name]);
    return Number(rows[0].seq);
  }

  async moveCursor(m: Tx, name: string, seq: number): Promise<void> {
    await m.query('UPDATE notifications.cursors SET seq = $2 WHERE name = $1', [name, seq]);
  }

  // --- endpoints ----------------------------------------------------------------------------

  async insertEndpoint(
    e: Omit<EndpointRow, 'id' | 'created_at' | 'updated_at' | 'disabled_reason' | 'previous_secret_envelope' | 'previous_secret_expires_at'>,
  ): Promise<EndpointRow> {
    const rows: EndpointRow[] = await this.dataSource.query(
      `INSERT INTO notifications.endpoints (name, url_envelope, url_display, format, events, filters, active, secret_envelope, managed_by)
       VALUES ($1, $2::jsonb, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9) RETURNING *`,
      [e.name, json(e.url_envelope), e.url_display, e.format, e.events, json(e.filters), e.active, json(e.secret_envelope), e.managed_by],
    );
    return rows[0];
  }

  /** `managed_by` undefined keeps the stored marker (an edit in the console does not unmanage the endpoint). */
  async updateEndpoint(
    id: string,
    e: Pick<EndpointRow, 'name' | 'url_envelope' | 'url_display' | 'format' | 'events' | 'filters' | 'active'> & { managed_by?: string | null },
  ): Promise<EndpointRow | null> {
    const rows = rowsOf<EndpointRow>(
      await this.dataSource.query(
        `UPDATE notifications.endpoints SET name = $2, url_envelope = $3::jsonb, url_display = $4, format = $5, events = $6, filters = $7::jsonb, active = $8,
         disabled_reason = CASE WHEN $8 THEN NULL ELSE disabled_reason END, managed_by = CASE WHEN $9 THEN $10 ELSE managed_by END, updated_at = now()
       WHERE id = $1 RETURNING *`,
        [id, e.name, json(e.url_envelope), e.url_display, e.format, e.events, json(e.filters), e.active, e.managed_by !== undefined, e.managed_by ?? null],
      ),
    );
    return rows[0] ?? null;
  }

  async rotateSecret(id: string, secret: EncryptedEnvelope, overlapHours: number): Promise<EndpointRow | null> {
    const rows = rowsOf<EndpointRow>(
      await this.dataSource.query(
        `UPDATE notifications.endpoints SET previous_secret_envelope = secret_envelope, secret_envelope = $2::jsonb,
         previous_secret_expires_at = now() + make_interval(secs => $3), updated_at = now()
       WHERE id = $1 RETURNING *`,
        [id, json(secret), overlapHours * 3600],
      ),
    );
    return rows[0] ?? null;
  }

  /** Turns an endpoint off on Latchkey's own decision (410 Gone), saying why. */
  async disableEndpoint(m: Tx, id: string, reason: string): Promise<void> {
    await m.query('UPDATE notifications.endpoints SET active = false, disabled_reason = $2, updated_at = now() WHERE id = $1', [id, reason]);
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    const rows = rowsOf<{ id: string }>(await this.dataSource.query('DELETE FROM notifications.endpoints WHERE id = $1 RETURNING id', [id]));
    return rows.length > 0;
  }

  async findEndpoint(id: string, m?: Tx): Promise<EndpointRow | null> {
    const rows: EndpointRow[] = await (m ?? this.dataSource).query('SELECT * FROM notifications.endpoints WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  async listEndpoints(limit: number, after?: { createdAt: string; id: string }): Promise<EndpointRow[]> {
    return this.dataSource.query(
      `SELECT * FROM notifications.endpoints WHERE ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid)) ORDER BY created_at, id LIMIT $1`,
      [limit, after?.createdAt ?? null, after?.id ?? null],
    );
  }

  activeEndpoints(m: Tx): Promise<EndpointRow[]> {
    return m.query('SELECT id, format, events, filters FROM notifications.endpoints WHERE active');
  }

  // --- events and deliveries ----------------------------------------------------------------

  /** Records an event once (its id is derived from what caused it); false when it was already. */
  async insertEvent(m: Tx, e: Omit<EventRow, 'occurred_at'> & { occurred_at: Date | string }): Promise<boolean> {
    return (await this.insertEvents(m, [e])).has(e.id);
  }

  /** Events in one statement; an id recorded before (or earlier in `events`) is left as it is. Answers the ids recorded now. */
  async insertEvents(m: Tx, events: Array<Omit<EventRow, 'occurred_at'> & { occurred_at: Date | string }>): Promise<Set<string>> {
    if (!events.length) return new Set();
    const rows: Array<{ id: string }> = await m.query(
      `INSERT INTO notifications.events (id, type, occurred_at, request_id, integration_id, flow_id, payload)
       SELECT id, type, occurred_at, request_id, integration_id, flow_id, payload::jsonb
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[])
              AS e(id, type, occurred_at, request_id, integration_id, flow_id, payload)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => e.occurred_at),
        events.map((e) => e.request_id),
        events.map((e) => e.integration_id),
        events.map((e) => e.flow_id),
        events.map((e) => json(e.payload)),
      ],
    );
    return new Set(rows.map((r) => r.id));
  }

  findEvent(id: string): Promise<EventRow | null> {
    return this.dataSource.query('SELECT * FROM notifications.events WHERE id = $1', [id]).then((r: EventRow[]) => r[0] ?? null);
  }

  /** One delivery per (event, target), due now; an existing one is left as it is. Returns the new ones. */
  async insertDeliveries(m: Tx, deliveries: NewDelivery[]): Promise<Array<{ id: string; attempts: number }>> {
    if (!deliveries.length) return [];
    const rows: Array<{ id: string; attempts: number }> = await m.query(
      `INSERT INTO notifications.deliveries (event_id, channel, target, endpoint_id, context, next_attempt_at)
       SELECT d.event_id, d.channel, d.target, d.endpoint_id, d.context, now()
       FROM jsonb_to_recordset($1::jsonb) AS d(event_id text, channel text, target text, endpoint_id uuid, context jsonb)
       ON CONFLICT (event_id, target) DO NOTHING RETURNING id, attempts`,
      [JSON.stringify(deliveries.map((d) => ({ event_id: d.eventId, channel: d.channel, target: d.target, endpoint_id: d.endpointId, context: d.context })))],
    );
    return rows;
  }

  /**
   * Takes a due delivery for one attempt: counts the attempt and holds a lease until `leaseMs`
   * from now, so that no other worker sends it meanwhile. A delivery whose limiter (its webhook
   * endpoint, a person's Slack) already holds `limit` leases is not taken: null, and it waits for
   * one of them to settle (`waitingBehind`). A lock per limiter key serializes the count.
   */
  async claim(deliveryId: string, leaseMs: number, limit: number): Promise<DeliveryRow | null> {
    return this.transaction(async (m) => {
      const rows: DeliveryRow[] = await m.query(
        `SELECT * FROM notifications.deliveries WHERE id = $1 AND status = 'PENDING' AND next_attempt_at <= now() + interval '50 milliseconds'
           AND (lease_until IS NULL OR lease_until < now()) FOR UPDATE SKIP LOCKED`,
        [deliveryId],
      );
      const d = rows[0];
      if (!d) return null;
      if (d.limiter_key) {
        await lockForTransaction(m, 'latchkey:delivery-limit', d.limiter_key);
        const busy: { n: number }[] = await m.query(
          `SELECT count(*)::int AS n FROM notifications.deliveries WHERE limiter_key = $1 AND status = 'PENDING' AND lease_until > now()`,
          [d.limiter_key],
        );
        if (busy[0].n >= limit) return null;
      }
      const claimed = rowsOf<DeliveryRow>(
        await m.query(
          `UPDATE notifications.deliveries SET attempts = attempts + 1, lease_until = now() + make_interval(secs => $2) WHERE id = $1 RETURNING *`,
          [deliveryId, leaseMs / 1000],
        ),
      );
      return claimed[0];
    });
  }

  /**
   * The oldest due deliveries of a limiter that no worker holds: those a settled attempt hands to
   * the queue at once, instead of leaving them to the sweeper. Read after the settling transaction
   * commits, so a delivery refused at the limit meanwhile is among them.
   */
  waitingBehind(limiterKey: string, limit: number): Promise<Array<{ id: string; attempts: number }>> {
    return this.dataSource.query(
      `SELECT id, attempts FROM notifications.deliveries WHERE limiter_key = $1 AND status = 'PENDING' AND next_attempt_at <= now()
         AND (lease_until IS NULL OR lease_until < now()) ORDER BY next_attempt_at, created_at LIMIT $2`,
      [limiterKey, limit],
    );
  }

  async recordAttempt(m: Tx, a: Omit<AttemptRow, 'at'>): Promise<void> {
    await m.query(
      `INSERT INTO notifications.delivery_attempts (delivery_id, attempt, status_code, latency_ms, response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [a.delivery_id, a.attempt, a.status_code, a.latency_ms, a.response_excerpt, a.error],
    );
  }

  async markDelivered(m: Tx, id: string): Promise<void> {
    await m.query(
      `UPDATE notifications.deliveries SET status = 'DELIVERED', delivered_at = now(), lease_until = NULL, next_attempt_at = NULL, last_error = NULL WHERE id = $1`,
      [id],
    );
  }

  async markRetry(m: Tx, id: string, delayMs: number, error: string): Promise<Date> {
    const rows = rowsOf<{ next_attempt_at: Date }>(
      await m.query(
        `UPDATE notifications.deliveries SET lease_until = NULL, next_attempt_at = now() + make_interval(secs => $2), last_error = $3 WHERE id = $1 RETURNING next_attempt_at`,
        [id, delayMs / 1000, error],
      ),
    );
    return rows[0].next_attempt_at;
  }

  async markDead(m: Tx, id: string, error: string): Promise<void> {
    await m.query(
      `UPDATE notifications.deliveries SET status = 'DEAD', dead_lettered_at = now(), lease_until = NULL, next_attempt_at = NULL, last_error = $2 WHERE id = $1`,
      [id, error],
    );
  }

  /** Manual redelivery: the same delivery (same webhook-id) due again for one more attempt. */
  async redeliver(endpointId: string, deliveryId: string): Promise<DeliveryRow | null> {
    const rows = rowsOf<DeliveryRow>(
      await this.dataSource.query(
        `UPDATE notifications.deliveries SET status = 'PENDING', next_attempt_at = now(), dead_lettered_at = NULL, lease_until = NULL
       WHERE id = $1 AND endpoint_id = $2 AND NOT (status = 'PENDING' AND lease_until > now()) RETURNING *`,
        [deliveryId, endpointId],
      ),
    );
    return rows[0] ?? null;
  }

  findDelivery(id: string): Promise<DeliveryRow | null> {
    return this.dataSource
      .query('SELECT d.*, e.type AS event_type FROM notifications.deliveries d JOIN notifications.events e ON e.id = d.event_id WHERE d.id = $1', [id])
      .then((r: DeliveryRow[]) => r[0] ?? null);
  }

  listDeliveries(endpointId: string, status: string | undefined, limit: number, after?: { createdAt: string; id: string }): Promise<DeliveryRow[]> {
    return this.dataSource.query(
      `SELECT d.*, e.type AS event_type FROM notifications.deliveries d JOIN notifications.events e ON e.id = d.event_id
       WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
         AND ($4::timestamptz IS NULL OR (d.created_at, d.id) < ($4::timestamptz, $5::uuid))
       ORDER BY d.created_at DESC, d.id DESC LIMIT $3`,
      [endpointId, status ?? null, limit, after?.createdAt ?? null, after?.id ?? null],
    );
  }

  /** Deliveries to these personal targets (`slack:<email>`, `email:<email>`), newest first. */
  listPersonalDeliveries(targets: string[], limit: number, after?: { createdAt: string; id: string }): Promise<DeliveryRow[]> {
    return this.dataSource.query(
      `SELECT d.*, e.type AS event_type, e.request_id FROM notifications.deliveries d JOIN notifications.events e ON e.id = d.event_id
       WHERE d.target = ANY($1::text[]) AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3::timestamptz, $4::uuid))
       ORDER BY d.created_at DESC, d.id DESC LIMIT $2`,
      [targets, limit, after?.createdAt ?? null, after?.id ?? null],
    );
  }

  attemptsOf(deliveryIds: string[]): Promise<AttemptRow[]> {
    if (!deliveryIds.length) return Promise.resolve([]);
    return this.dataSource.query('SELECT * FROM notifications.delivery_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt', [
      deliveryIds,
    ]);
  }

  /** What the sweeper hands to the queue again: due and not held by a live lease. */
  dueDeliveries(limit: number): Promise<Array<{ id: string; attempts: number }>> {
    return this.dataSource.query(
      `SELECT id, attempts FROM notifications.deliveries WHERE status = 'PENDING' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
       ORDER BY next_attempt_at LIMIT $1`,
      [limit],
    );
  }

  /** Pending deliveries whose next attempt is later: their delayed jobs, if Redis lost them. */
  scheduledDeliveries(limit: number): Promise<Array<{ id: string; attempts: number; next_attempt_at: Date }>> {
    return this.dataSource.query(
      `SELECT id, attempts, next_attempt_at FROM notifications.deliveries WHERE status = 'PENDING' AND next_attempt_at > now() ORDER BY next_attempt_at LIMIT $1`,
      [limit],
    );
  }

  // --- expiry warnings ----------------------------------------------------------------------

  /**
   * Watches each request's grant for its expiry warning, in one statement, as one watch made
   * after another in their order would: a request named twice (granted, then extended) keeps its
   * first grant time and its last expiry; a watch that ended stays as it is.
   */
  async watchExpiries(m: Tx, watches: Array<{ requestId: string; grantedAt: Date | string; expiresAt: Date | string }>): Promise<void> {
    const merged = new Map<string, { grantedAt: Date | string; expiresAt: Date | string }>();
    for (const w of watches) merged.set(w.requestId, { grantedAt: merged.get(w.requestId)?.grantedAt ?? w.grantedAt, expiresAt: w.expiresAt });
    if (!merged.size) return;
    const ids = [...merged.keys()];
    await m.query(
      `INSERT INTO notifications.expiry_watch (request_id, granted_at, expires_at)
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[])
       ON CONFLICT (request_id) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE NOT expiry_watch.ended`,
      [ids, ids.map((id) => merged.get(id)!.grantedAt), ids.map((id) => merged.get(id)!.expiresAt)],
    );
  }

  /** The requests' expiry watches end (their access ended). */
  async endWatches(m: Tx, requestIds: string[]): Promise<void> {
    if (requestIds.length) await m.query('UPDATE notifications.expiry_watch SET ended = true WHERE request_id = ANY($1::uuid[])', [requestIds]);
  }

  /** Grants entering their warning window (and not warned for this end yet), locked for the caller's transaction. */
  dueWarnings(m: Tx, windowMs: number, limit: number): Promise<Array<{ request_id: string; expires_at: Date }>> {
    return m.query(
      `SELECT request_id, expires_at FROM notifications.expiry_watch
       WHERE NOT ended AND warned_for IS DISTINCT FROM expires_at AND expires_at > now()
         AND expires_at - make_interval(secs => $1) <= now() AND expires_at - make_interval(secs => $1) >= granted_at
       ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [windowMs / 1000, limit],
    );
  }

  async markWarned(m: Tx, requestId: string, expiresAt: Date): Promise<void> {
    await m.query('UPDATE notifications.expiry_watch SET warned_for = $2 WHERE request_id = $1', [requestId, expiresAt]);
  }

  /** Watches whose warning is still to come: their delayed jobs, if Redis lost them. */
  upcomingWarnings(windowMs: number, limit: number): Promise<Array<{ request_id: string; expires_at: Date }>> {
    return this.dataSource.query(
      `SELECT request_id, expires_at FROM notifications.expiry_watch WHERE NOT ended AND warned_for IS DISTINCT FROM expires_at
         AND expires_at - make_interval(secs => $1) > now() ORDER BY expires_at LIMIT $2`,
      [windowMs / 1000, limit],
    );
  }

  // --- reminders and escalation of pending requests -------------------------------------------

  async watchPending(
    m: Tx,
    w: { requestId: string; createdAt: string; reminderIntervalMs: number | null; reminderMax: number; tierDueAt: string[]; nextAt: Date | null },
  ): Promise<Date | null> {
    const rows: Array<{ next_at: Date | null }> = await m.query(
      `INSERT INTO notifications.pending_watch (request_id, created_at, reminder_interval_ms, reminder_max, tier_due_at, next_at)
       VALUES ($1, $2, $3, $4, $5::timestamptz[], $6)
       ON CONFLICT (request_id) DO NOTHING RETURNING next_at`,
      [w.requestId, w.createdAt, w.reminderIntervalMs, w.reminderMax, w.tierDueAt, w.nextAt],
    );
    return rows[0]?.next_at ?? null;
  }

  async endPending(m: Tx, requestId: string): Promise<void> {
    await this.endPendings(m, [requestId]);
  }

  /** The requests' pending watches end (they were decided): no reminder or escalation more. */
  async endPendings(m: Tx, requestIds: string[]): Promise<void> {
    if (requestIds.length)
      await m.query('UPDATE notifications.pending_watch SET ended = true, next_at = NULL WHERE request_id = ANY($1::uuid[])', [requestIds]);
  }

  /** Pending watches with something due, locked for the caller's transaction. */
  duePending(m: Tx, limit: number): Promise<PendingWatchRow[]> {
    return m.query(`SELECT * FROM notifications.pending_watch WHERE NOT ended AND next_at <= now() ORDER BY next_at LIMIT $1 FOR UPDATE SKIP LOCKED`, [limit]);
  }

  async movePending(m: Tx, requestId: string, p: { remindersSent: number; tiersReached: number; nextAt: Date | null }): Promise<void> {
    await m.query('UPDATE notifications.pending_watch SET reminders_sent = $2, tiers_reached = $3, next_at = $4 WHERE request_id = $1', [
      requestId,
      p.remindersSent,
      p.tiersReached,
      p.nextAt,
    ]);
  }

  /** Watches whose next look is later: their delayed jobs, if Redis lost them. */
  upcomingPending(limit: number): Promise<Array<{ request_id: string; next_at: Date }>> {
    return this.dataSource.query(`SELECT request_id, next_at FROM notifications.pending_watch WHERE NOT ended AND next_at > now() ORDER BY next_at LIMIT $1`, [
      limit,
    ]);
  }

  // --- people's preferences -------------------------------------------------------------------

  async readChoices(subject: string): Promise<PreferencesRow | null> {
    const rows = await this.dataSource.query(
      'SELECT subject, email, event_choices, channels, slack_url_display, updated_at FROM notifications.preferences WHERE subject = $1',
      [subject],
    );
    return rows[0] ?? null;
  }

  /**
   * Replaces a subject's choices. `slack`: undefined keeps the stored webhook, null removes it.
   * Locked by the row, so a channel choice and the webhook it needs are written together.
   */
  async writeChoices(
    subject: string,
    email: string | null,
    p: { events: Record<string, boolean>; channels: string[] | null; slack?: { envelope: EncryptedEnvelope; display: string } | null },
  ): Promise<PreferencesRow> {
    const keep = p.slack === undefined;
    const rows = await this.dataSource.query(
      `INSERT INTO notifications.preferences (subject, email, event_choices, channels, slack_url_envelope, slack_url_display, updated_at)
       VALUES ($1, $2, $3::jsonb, $4, $5::jsonb, $6, now())
       ON CONFLICT (subject) DO UPDATE SET email = EXCLUDED.email, event_choices = EXCLUDED.event_choices, channels = EXCLUDED.channels,
         slack_url_envelope = CASE WHEN $7 THEN preferences.slack_url_envelope ELSE EXCLUDED.slack_url_envelope END,
         slack_url_display = CASE WHEN $7 THEN preferences.slack_url_display ELSE EXCLUDED.slack_url_display END,
         updated_at = now()
       RETURNING subject, email, event_choices, channels, slack_url_display, updated_at`,
      [subject, email, JSON.stringify(p.events), p.channels, p.slack ? json(p.slack.envelope) : null, p.slack?.display ?? null, keep],
    );
    return rows[0];
  }

  /** The organisation's defaults and the preferences of the people with these addresses (lower case). */
  async choicesFor(
    m: Tx,
    emails: string[],
  ): Promise<{
    defaults: Pick<PreferencesRow, 'event_choices' | 'channels'>;
    byEmail: Map<string, { event_choices: Record<string, boolean>; channels: string[] | null; hasSlack: boolean }>;
  }> {
    const rows: Array<{ subject: string; email: string | null; event_choices: Record<string, boolean>; channels: string[] | null; has_slack: boolean }> =
      await m.query(
        `SELECT subject, lower(email) AS email, event_choices, channels, slack_url_envelope IS NOT NULL AS has_slack FROM notifications.preferences WHERE subject = 'org' OR lower(email) = ANY($1)`,
        [emails],
      );
    const org = rows.find((r) => r.subject === 'org');
    return {
      defaults: { event_choices: org?.event_choices ?? {}, channels: org?.channels ?? null },
      byEmail: new Map(
        rows
          .filter((r) => r.subject !== 'org' && r.email)
          .map((r) => [r.email!, { event_choices: r.event_choices, channels: r.channels, hasSlack: r.has_slack }]),
      ),
    };
  }

  /** The sealed Slack webhook of the person with this address (lower case), or null when they have none now. */
  async slackWebhookOf(email: string): Promise<EncryptedEnvelope | null> {
    const rows: Array<{ slack_url_envelope: EncryptedEnvelope }> = await this.dataSource.query(
      `SELECT slack_url_envelope FROM notifications.preferences WHERE subject <> 'org' AND lower(email) = $1 AND slack_url_envelope IS NOT NULL ORDER BY updated_at DESC LIMIT 1`,
      [email],
    );
    return rows[0]?.slack_url_envelope ?? null;
  }
}

export interface PreferencesRow {
  subject: string;
  email: string | null;
  event_choices: Record<string, boolean>;
  /** Null: the organisation's default channels. */
  channels: string[] | null;
  /** The person's Slack webhook, masked; null when none is set. */
  slack_url_display: string | null;
  updated_at: Date;
}

export interface PendingWatchRow {
  request_id: string;
  created_at: Date;
  reminder_interval_ms: string | null;
  reminder_max: number;
  tier_due_at: Date[];
  reminders_sent: number;
  tiers_reached: number;
  next_at: Date | null;
}
