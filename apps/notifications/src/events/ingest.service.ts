import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Contracts, isEssentialEvent, REQUESTS_PER_READ } from '@latchkey/contracts';
import type { AccessRequest, AuditEntry, Caller, NotificationEventType } from '@latchkey/contracts';
import { CoalescedRun, LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { Mailer } from '../channels/mailer';
import { nextAttempt, NotificationsQueue } from '../delivery/notifications.queue';
import { SETTINGS } from '../settings';
import type { NotificationSettings } from '../settings';
import { NotificationsRepository } from '../store/notifications.repository';
import type { EndpointRow, EventRow, NewDelivery, Tx } from '../store/notifications.repository';
import { emailRecipients, eventTypeOf, passesFilters, personalChannels, requestEventData } from '../messages/event-data';
import type { RequestEventData } from '../messages/event-data';
import { pendingStep } from '../messages/pending-progress';

/** Essential messages always; else the person's choice for this event type, else the organisation's default, else on. */
const wantsEvent = (type: string, mine: Record<string, boolean>, defaults: Record<string, boolean>) =>
  isEssentialEvent(type) || (mine[type] ?? defaults[type] ?? true);

const CURSOR = 'audit';
const PAGE = 200;
/**
 * How long after a hint (a request changed) the audit log is read: the changes that come
 * meanwhile are read together, in one page, instead of one read per change while the access
 * service is still granting. A notification leaves this much later.
 */
export const HINT_DELAY_MS = 100;

/** How the notifications service reads requests: as an admin that is no person. */
const NOTIFICATIONS_CALLER: Caller = {
  userId: '00000000-0000-0000-0000-000000000000',
  email: 'notifications@latchkey',
  role: 'admin',
  groups: [],
  attributes: {},
};

interface Prepared {
  seq: number;
  event?: Omit<EventRow, 'occurred_at'> & { occurred_at: string };
  watch?: { requestId: string; grantedAt: string; expiresAt: string };
  endWatch?: string;
  pending?: { requestId: string; createdAt: string; reminderIntervalMs: number | null; reminderMax: number; tierDueAt: string[]; nextAt: Date | null };
  endPending?: string;
}

/** An active webhook endpoint, as far as choosing the events it gets goes. */
type Endpoint = Pick<EndpointRow, 'id' | 'events' | 'filters'>;

const ENDED = new Set(['request.expired', 'request.revoked', 'request.failed', 'request.rejected']);

/** Events after which a request waits on nobody: its reminders and escalation stop. */
const DECIDED: ReadonlySet<NotificationEventType> = new Set([
  'access_request.approved',
  'access_request.rejected',
  'access_request.expired',
  'access_request.revoked',
  'access_request.failed',
]);

/**
 * Turns what happened into events and deliveries (an event nobody is to be told of is not kept:
 * only its deliveries read it). The source is the access service's audit log,
 * read forward by seq as an outbox: every request change is audited in the transaction that
 * makes it, and appends commit in seq order without gaps, so the last seq handled (kept in the
 * same transaction as the events and deliveries it produced) is a cursor that loses nothing.
 * Each event's id comes from its audit entry and each delivery is unique per (event, target), so
 * running a page twice (two replicas, a crash before the cursor moved) records nothing twice.
 */
@Injectable()
export class IngestService implements OnModuleDestroy {
  private soon?: NodeJS.Timeout;
  private readonly reading = new CoalescedRun(async () => {
    while (await this.page()) {
      // next page
    }
  });

  constructor(
    private readonly repository: NotificationsRepository,
    private readonly bus: MessageBus,
    private readonly queue: NotificationsQueue,
    private readonly mailer: Mailer,
    @Inject(SETTINGS) private readonly settings: NotificationSettings,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /** Reads everything new; one run at a time in this process (a call during a run makes it go round once more). */
  catchUp(): Promise<void> {
    return this.reading.run();
  }

  /** A hint that the log grew: read it HINT_DELAY_MS from now, once for every hint until then (the sweeper reads it anyway). */
  catchUpSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.catchUp().catch((err: unknown) => this.logger.warn({ err }, 'could not read the audit log; the sweeper will'));
    }, HINT_DELAY_MS);
    this.soon.unref();
  }

  onModuleDestroy(): void {
    clearTimeout(this.soon);
  }

  /** One page of the audit log; false when there was nothing new. */
  private async page(): Promise<boolean> {
    const after = await this.repository.readCursor(CURSOR);
    const { items } = await this.bus.request(Contracts.accessAuditSince, { afterSeq: after, limit: PAGE });
    if (!items.length) return false;
    // The requests the page's events are about, read together (entries of one request, created and approved, share a read).
    const requests = await this.requests(items.filter((e) => e.targetType === 'access-request' && eventTypeOf(e)).map((e) => e.targetId));
    const prepared = items.map((entry) => this.prepare(entry, (id) => requests.get(id) ?? null));
    const created: Array<{ id: string; attempts: number }> = [];
    const watches: Array<{ requestId: string; expiresAt: Date }> = [];
    const pendingChecks: Array<{ requestId: string; at: Date }> = [];
    const moved = await this.repository.transaction(async (m) => {
      // Another replica got here first: its transaction recorded this page.
      if ((await this.repository.lockCursor(m, CURSOR)) !== after) return false;
      const endpoints = await this.repository.activeEndpoints(m);
      // The page's changes of each kind in one statement, kinds in an order no page can tell from
      // one change after another: a request's watch starts before it ends, never after.
      // Only a delivery ever reads an event: one that nobody is to be told of is not kept.
      const events = prepared.flatMap((p) => (p.event ? [p.event] : []));
      const deliveries = await this.deliveriesOf(m, events, endpoints);
      const told = events.filter((e) => deliveries.get(e.id)!.length > 0);
      const recorded = await this.repository.insertEvents(m, told);
      created.push(
        ...(await this.repository.insertDeliveries(
          m,
          told.filter((e) => recorded.has(e.id)).flatMap((e) => deliveries.get(e.id)!),
        )),
      );
      const expiryWatches = prepared.flatMap((p) => (p.watch ? [p.watch] : []));
      await this.repository.watchExpiries(m, expiryWatches);
      watches.push(...expiryWatches.map((w) => ({ requestId: w.requestId, expiresAt: new Date(w.expiresAt) })));
      await this.repository.endWatches(
        m,
        prepared.flatMap((p) => (p.endWatch ? [p.endWatch] : [])),
      );
      for (const p of prepared) {
        if (!p.pending) continue;
        const at = await this.repository.watchPending(m, p.pending);
        if (at) pendingChecks.push({ requestId: p.pending.requestId, at });
      }
      await this.repository.endPendings(
        m,
        prepared.flatMap((p) => (p.endPending ? [p.endPending] : [])),
      );
      await this.repository.moveCursor(m, CURSOR, items.at(-1)!.seq);
      return true;
    });
    if (!moved) return true;
    await this.queue.deliverAll(created.map(nextAttempt));
    await this.queue.warnAll(watches, this.settings.expiryWarningMs);
    await this.queue.checkPendingAll(pendingChecks);
    if (created.length) this.logger.debug({ deliveries: created.length, toSeq: items.at(-1)!.seq }, 'events recorded');
    return true;
  }

  private prepare(entry: AuditEntry, requestOf: (id: string) => (AccessRequest & { id: string }) | null): Prepared {
    const prepared: Prepared = { seq: entry.seq };
    if (entry.targetType !== 'access-request') return prepared;
    const details = entry.details ?? {};
    if (entry.action === 'request.granted' && typeof details.expiresAt === 'string') {
      prepared.watch = { requestId: entry.targetId, grantedAt: entry.at, expiresAt: details.expiresAt };
    }
    const extended = details.expiresAt as { after?: unknown } | undefined;
    if (entry.action === 'request.extended' && typeof extended?.after === 'string') {
      prepared.watch = { requestId: entry.targetId, grantedAt: entry.at, expiresAt: extended.after };
    }
    if (ENDED.has(entry.action)) prepared.endWatch = entry.targetId;
    const type = eventTypeOf(entry);
    if (type && DECIDED.has(type)) prepared.endPending = entry.targetId;
    if (!type) return prepared;
    const request = requestOf(entry.targetId);
    if (!request) return prepared;
    // The grant's clock starts when the access service asks provisioning for it (expiresAt is set then), and the entry is written after the answer:
    // measured from the entry, a grant exactly as long as the warning window would look shorter and never be warned.
    if (entry.action === 'request.granted' && prepared.watch)
      prepared.watch.grantedAt = new Date(Date.parse(prepared.watch.expiresAt) - request.durationMinutes * 60_000).toISOString();
    const limits = request.flowLimits;
    if (type === 'access_request.created' && details.status === 'PENDING' && (limits?.reminders || limits?.escalation?.length)) {
      const watch = {
        createdAt: new Date(request.createdAt),
        reminderIntervalMs: limits.reminders ? Math.round(limits.reminders.intervalMinutes * 60_000) : null,
        reminderMax: limits.reminders?.maxCount ?? 0,
        tierDueAt: (limits.escalation ?? []).map((t) => new Date(t.dueAt)),
      };
      // The first look: the first reminder or the first tier, whichever comes first.
      const { nextAt } = pendingStep({ ...watch, remindersSent: 0, tiersReached: 0 }, watch.createdAt);
      prepared.pending = { ...watch, requestId: request.id, createdAt: request.createdAt, tierDueAt: (limits.escalation ?? []).map((t) => t.dueAt), nextAt };
    }
    const data = requestEventData(request, this.settings.publicUrl, {
      status: typeof details.status === 'string' ? details.status : undefined,
      reason: typeof details.reason === 'string' ? details.reason : null,
      actor: entry.actor,
      ...(type === 'access_request.granted' && typeof details.expiresAt === 'string' ? { expiresAt: details.expiresAt } : {}),
    });
    prepared.event = this.event(`evt_${entry.id}`, type, entry.at, data);
    return prepared;
  }

  /** The requests as they are now, by id; one that no longer exists is not in the map. */
  private async requests(ids: string[]): Promise<Map<string, AccessRequest & { id: string }>> {
    const unique = [...new Set(ids)];
    const found = new Map<string, AccessRequest & { id: string }>();
    for (let i = 0; i < unique.length; i += REQUESTS_PER_READ) {
      const { items } = await this.bus.request(Contracts.accessRequestsGetMany, { caller: NOTIFICATIONS_CALLER, ids: unique.slice(i, i + REQUESTS_PER_READ) });
      for (const request of items) if (request.id) found.set(request.id, { ...request, id: request.id });
    }
    return found;
  }

  event(id: string, type: NotificationEventType, occurredAt: string, data: RequestEventData): Omit<EventRow, 'occurred_at'> & { occurred_at: string } {
    return {
      id,
      type,
      occurred_at: occurredAt,
      request_id: data.requestId,
      integration_id: data.integrationId,
      flow_id: data.flow.id,
      payload: { type, timestamp: occurredAt, data: data as unknown as Record<string, unknown> },
    };
  }

  /**
   * Reminds the approvers of pending requests who have not acted, and asks escalation tiers as
   * they fall due (the flow's settings, as they were when the request was made). The watch row
   * moves in the same transaction as the events it makes, and each event's id names the request
   * and the reminder or tier: a crash, a lost job or a second replica sends nothing twice.
   */
  async remindAndEscalate(): Promise<void> {
    const checks: Array<{ requestId: string; at: Date }> = [];
    const created = await this.repository.transaction(async (m) => {
      const due = await this.repository.duePending(m, 100);
      const out: Array<{ id: string; attempts: number }> = [];
      if (!due.length) return out;
      const endpoints = await this.repository.activeEndpoints(m);
      const requests = await this.requests(due.map((w) => w.request_id));
      const now = new Date();
      for (const w of due) {
        const request = requests.get(w.request_id);
        if (!request || request.status !== 'PENDING') {
          await this.repository.endPending(m, w.request_id);
          continue;
        }
        const step = pendingStep(
          {
            createdAt: w.created_at,
            reminderIntervalMs: w.reminder_interval_ms === null ? null : Number(w.reminder_interval_ms),
            reminderMax: w.reminder_max,
            tierDueAt: w.tier_due_at,
            remindersSent: w.reminders_sent,
            tiersReached: w.tiers_reached,
          },
          now,
        );
        const events = step.newTiers.map((tier) =>
          this.event(
            `escalated_${w.request_id}_${tier}`,
            'access_request.escalated',
            now.toISOString(),
            requestEventData(request, this.settings.publicUrl, { escalationTier: tier }),
          ),
        );
        if (step.reminder !== null) {
          const data = requestEventData(request, this.settings.publicUrl, {
            reminder: { number: step.reminder, of: w.reminder_max },
            ...(step.tiersReached ? { escalationTier: step.tiersReached } : {}),
          });
          events.push(this.event(`reminder_${w.request_id}_${step.reminder}`, 'access_request.reminder', now.toISOString(), data));
        }
        for (const event of events) if (await this.repository.insertEvent(m, event)) out.push(...(await this.fanOut(m, event, endpoints)));
        await this.repository.movePending(m, w.request_id, step);
        if (step.nextAt) checks.push({ requestId: w.request_id, at: step.nextAt });
      }
      return out;
    });
    await this.queue.deliverAll(created.map(nextAttempt));
    await this.queue.checkPendingAll(checks);
  }

  /** The deliveries of a new event (see deliveriesOf), recorded. */
  async fanOut(m: Tx, event: Omit<EventRow, 'occurred_at'>, endpoints: Endpoint[], alertEmails: string[] = []) {
    return this.repository.insertDeliveries(m, (await this.deliveriesOf(m, [event], endpoints, alertEmails)).get(event.id)!);
  }

  /**
   * The deliveries of each event, by its id: every active endpoint whose filters let it through,
   * and the people to tell by email or their own Slack (`alertEmails`: who gets admin alerts). The
   * people's choices are read once for all the events.
   */
  private async deliveriesOf(
    m: Tx,
    events: ReadonlyArray<Omit<EventRow, 'occurred_at'>>,
    endpoints: Endpoint[],
    alertEmails: string[] = [],
  ): Promise<Map<string, NewDelivery[]>> {
    const recipients = new Map(
      events.map((e) => [e.id, e.request_id ? emailRecipients(e.type as NotificationEventType, e.payload.data as unknown as RequestEventData) : []]),
    );
    const emails = [...new Set([...recipients.values()].flatMap((people) => people.map((r) => r.email.toLowerCase())))];
    const choices = emails.length ? await this.repository.choicesFor(m, emails) : null;
    const out = new Map<string, NewDelivery[]>();
    for (const event of events) {
      const deliveries: NewDelivery[] = endpoints
        .filter((e) => passesFilters(e, { type: event.type, integrationId: event.integration_id, flowId: event.flow_id }))
        .map((e) => ({ eventId: event.id, channel: 'webhook', target: e.id, endpointId: e.id, context: null }));
      for (const r of recipients.get(event.id)!) {
        const email = r.email.toLowerCase();
        const mine = choices?.byEmail.get(email);
        // Turned off by the person (or, when they did not say, by the organisation's default): no delivery at all. Essential ones always go.
        if (!wantsEvent(event.type, mine?.event_choices ?? {}, choices?.defaults.event_choices ?? {})) continue;
        const context = { role: r.role, reasons: r.reasons };
        const channels = personalChannels(mine?.channels ?? null, choices?.defaults.channels ?? null, mine?.hasSlack ?? false);
        if (channels.slack) deliveries.push({ eventId: event.id, channel: 'slack', target: `slack:${email}`, endpointId: null, context });
        if (channels.email && this.mailer.enabled)
          deliveries.push({ eventId: event.id, channel: 'email', target: `email:${email}`, endpointId: null, context });
      }
      if (this.mailer.enabled && !event.request_id) {
        for (const email of new Set(alertEmails.map((e) => e.toLowerCase())))
          deliveries.push({ eventId: event.id, channel: 'email', target: `email:${email}`, endpointId: null, context: { role: 'admin', reasons: [] } });
      }
      out.set(event.id, deliveries);
    }
    return out;
  }

  /**
   * Warns requesters whose grant enters its last EXPIRY_WARNING_MINUTES (a grant shorter than
   * that gets no warning; one exactly that long is warned as it is granted). One event per
   * (request, end time): an extension warns again.
   */
  async warnExpiring(): Promise<void> {
    const created = await this.repository.transaction(async (m) => {
      const due = await this.repository.dueWarnings(m, this.settings.expiryWarningMs, 100);
      const out: Array<{ id: string; attempts: number }> = [];
      if (!due.length) return out;
      const endpoints = await this.repository.activeEndpoints(m);
      const requests = await this.requests(due.map((w) => w.request_id));
      for (const w of due) {
        const request = requests.get(w.request_id);
        await this.repository.markWarned(m, w.request_id, w.expires_at);
        if (!request || request.status !== 'GRANTED') continue;
        const expiresAt = w.expires_at.toISOString();
        const event = this.event(
          `expiring_${w.request_id}_${w.expires_at.getTime()}`,
          'access_request.expiring',
          new Date().toISOString(),
          requestEventData(request, this.settings.publicUrl, { expiresAt }),
        );
        if (await this.repository.insertEvent(m, event)) out.push(...(await this.fanOut(m, event, endpoints)));
      }
      return out;
    });
    await this.queue.deliverAll(created.map(nextAttempt));
  }
}
