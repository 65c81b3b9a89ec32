import { Inject, Injectable } from '@nestjs/common';
import { AppException, Contracts, ErrorCode, webhookDisplayUrl } from '@latchkey/contracts';
import type { Actor, Delivery, DeliveryAttempt, Webhook, WebhookInput } from '@latchkey/contracts';
import { LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { decodePageToken, encodePageToken } from '@latchkey/persistence';
import { messageIdOf } from '../delivery/delivery.service';
import { NotificationsQueue } from '../delivery/notifications.queue';
import { SETTINGS } from '../settings';
import type { NotificationSettings } from '../settings';
import { NotificationsRepository } from '../store/notifications.repository';
import type { AttemptRow, DeliveryRow, EndpointRow } from '../store/notifications.repository';
import { SecretBox } from '../store/secret-box';
import { newWebhookSecret } from '../messages/signature';
import { urlProblem } from '../channels/url-policy';

type ParsedInput = Required<Pick<WebhookInput, 'name' | 'url' | 'format' | 'events' | 'active'>> & Pick<WebhookInput, 'filters' | 'managedBy'>;

export const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toWebhook(e: EndpointRow): Webhook {
  return {
    id: e.id,
    name: e.name,
    url: e.url_display,
    format: e.format,
    events: e.events,
    filters: e.filters,
    active: e.active,
    disabledReason: e.disabled_reason,
    previousSecretExpiresAt:
      e.previous_secret_envelope && e.previous_secret_expires_at && new Date(e.previous_secret_expires_at) > new Date()
        ? iso(e.previous_secret_expires_at)
        : null,
    managedBy: e.managed_by ?? null,
    createdAt: iso(e.created_at)!,
    updatedAt: iso(e.updated_at)!,
  };
}

export function toDelivery(d: DeliveryRow, attempts: AttemptRow[]): Delivery {
  return {
    id: d.id,
    webhookId: d.endpoint_id!,
    eventId: d.event_id,
    eventType: d.event_type ?? '',
    messageId: messageIdOf(d.id),
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'PENDING' ? iso(d.next_attempt_at) : null,
    deliveredAt: iso(d.delivered_at),
    deadLetteredAt: iso(d.dead_lettered_at),
    createdAt: iso(d.created_at)!,
    attemptLog: attempts.map(toAttempt),
  };
}

/** One attempt as the delivery logs show it (a webhook's, a person's). */
export const toAttempt = (a: AttemptRow): DeliveryAttempt => ({
  attempt: a.attempt,
  at: iso(a.at)!,
  statusCode: a.status_code,
  latencyMs: a.latency_ms,
  responseExcerpt: a.response_excerpt,
  error: a.error,
});

const notFound = (what: string, id: string) => new AppException(ErrorCode.NotFound, `No ${what} with id ${id}.`);

/** Webhook endpoints: their settings, secrets, test events, delivery log and redelivery. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repository: NotificationsRepository,
    private readonly secrets: SecretBox,
    private readonly queue: NotificationsQueue,
    private readonly bus: MessageBus,
    @Inject(SETTINGS) private readonly settings: NotificationSettings,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /** Records an admin change in the audit log; `sourceId` makes a retried append count once. Never a secret or a raw URL. */
  private audit(action: string, actor: Actor, w: { id: string; name: string }, sourceId: string, details: Record<string, unknown> = {}) {
    return this.bus.request(Contracts.accessAuditAppend, { action, actor, targetType: 'webhook', targetId: w.id, targetName: w.name, details, sourceId });
  }

  private checked(input: ParsedInput) {
    const problem = urlProblem(input.url, this.settings.allowPrivateUrls);
    if (problem) throw AppException.validation([{ field: 'url', rule: problem }]);
    return {
      name: input.name,
      url_envelope: this.secrets.seal('webhook-url', input.url),
      url_display: webhookDisplayUrl(input.url, input.format),
      format: input.format,
      events: [...new Set(input.events)],
      filters: input.filters ?? {},
      active: input.active,
    };
  }

  /** The answer carries the signing secret: the only time it is shown. */
  async create(input: ParsedInput, actor: Actor): Promise<Webhook & { secret: string }> {
    const secret = newWebhookSecret();
    const row = await this.repository.insertEndpoint({
      ...this.checked(input),
      managed_by: input.managedBy ?? null,
      secret_envelope: this.secrets.seal('webhook-secret', secret),
    });
    this.logger.info({ webhookId: row.id, url: row.url_display }, 'webhook created');
    await this.audit('webhook.created', actor, row, `webhook.created:${row.id}`, {
      url: row.url_display,
      format: row.format,
      events: row.events,
      filters: row.filters,
      active: row.active,
    });
    return { ...toWebhook(row), secret };
  }

  async list(pageSize: number, pageToken?: string) {
    const after = pageToken !== undefined ? decodePageToken(pageToken) : undefined;
    if (pageToken !== undefined && !after) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token returned by a previous page' }]);
    const rows = await this.repository.listEndpoints(pageSize + 1, after);
    const items = rows.slice(0, pageSize).map(toWebhook);
    const last = items.at(-1);
    return rows.length > pageSize && last ? { items, nextPageToken: encodePageToken({ createdAt: last.createdAt, id: last.id }) } : { items };
  }

  async get(id: string): Promise<Webhook> {
    const row = await this.repository.findEndpoint(id);
    if (!row) throw notFound('webhook', id);
    return toWebhook(row);
  }

  async update(id: string, input: ParsedInput, actor: Actor): Promise<Webhook> {
    const row = await this.repository.updateEndpoint(id, { ...this.checked(input), managed_by: input.managedBy });
    if (!row) throw notFound('webhook', id);
    await this.audit('webhook.updated', actor, row, `webhook.updated:${row.id}:${new Date(row.updated_at).getTime()}`, {
      url: row.url_display,
      format: row.format,
      events: row.events,
      filters: row.filters,
      active: row.active,
    });
    return toWebhook(row);
  }

  async delete(id: string, actor: Actor): Promise<{ id: string }> {
    const row = await this.repository.findEndpoint(id);
    if (!row || !(await this.repository.deleteEndpoint(id))) throw notFound('webhook', id);
    await this.audit('webhook.deleted', actor, row, `webhook.deleted:${id}`, { url: row.url_display });
    return { id };
  }

  /** A new secret; messages carry signatures with both for WEBHOOK_SECRET_OVERLAP_HOURS. */
  async rotateSecret(id: string, actor: Actor): Promise<Webhook & { secret: string }> {
    const secret = newWebhookSecret();
    const row = await this.repository.rotateSecret(id, this.secrets.seal('webhook-secret', secret), this.settings.secretOverlapHours);
    if (!row) throw notFound('webhook', id);
    this.logger.info({ webhookId: id }, 'webhook secret rotated');
    await this.audit('webhook.secret-rotated', actor, row, `webhook.secret-rotated:${id}:${new Date(row.updated_at).getTime()}`);
    return { ...toWebhook(row), secret };
  }

  /** A `webhook.test` event for this endpoint alone, delivered like any other. */
  async test(id: string, actor: Actor): Promise<Delivery> {
    const endpoint = await this.repository.findEndpoint(id);
    if (!endpoint) throw notFound('webhook', id);
    const now = new Date().toISOString();
    const eventId = `test_${crypto.randomUUID()}`;
    const [created] = await this.repository.transaction(async (m) => {
      await this.repository.insertEvent(m, {
        id: eventId,
        type: 'webhook.test',
        occurred_at: now,
        request_id: null,
        integration_id: null,
        flow_id: null,
        payload: { type: 'webhook.test', timestamp: now, data: { webhookId: id, message: 'A test event sent from Latchkey.' } },
      });
      return this.repository.insertDeliveries(m, [{ eventId, channel: 'webhook', target: id, endpointId: id, context: null }]);
    });
    await this.queue.deliver(created.id, created.attempts + 1);
    await this.audit('webhook.tested', actor, endpoint, `webhook.tested:${created.id}`, { deliveryId: created.id });
    return this.delivery(id, created.id);
  }

  async deliveries(id: string, status: Delivery['status'] | undefined, pageSize: number, pageToken?: string) {
    if (!(await this.repository.findEndpoint(id))) throw notFound('webhook', id);
    const after = pageToken !== undefined ? decodePageToken(pageToken) : undefined;
    if (pageToken !== undefined && !after) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token returned by a previous page' }]);
    const rows = await this.repository.listDeliveries(id, status, pageSize + 1, after);
    const page = rows.slice(0, pageSize);
    const attempts = await this.repository.attemptsOf(page.map((d) => d.id));
    const items = page.map((d) =>
      toDelivery(
        d,
        attempts.filter((a) => a.delivery_id === d.id),
      ),
    );
    const last = items.at(-1);
    return rows.length > pageSize && last ? { items, nextPageToken: encodePageToken({ createdAt: last.createdAt, id: last.id }) } : { items };
  }

  async delivery(webhookId: string, deliveryId: string): Promise<Delivery> {
    const d = await this.repository.findDelivery(deliveryId);
    if (!d || d.endpoint_id !== webhookId) throw notFound('delivery', deliveryId);
    return toDelivery(d, await this.repository.attemptsOf([d.id]));
  }

  /** The same delivery (same `webhook-id`) sent once more, now. */
  async redeliver(webhookId: string, deliveryId: string, actor: Actor): Promise<Delivery> {
    const endpoint = await this.repository.findEndpoint(webhookId);
    if (!endpoint) throw notFound('webhook', webhookId);
    if (!endpoint.active)
      throw new AppException(
        ErrorCode.Conflict,
        `The webhook is inactive${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}: activate it (PUT with active: true) before redelivering.`,
      );
    const row = await this.repository.redeliver(webhookId, deliveryId);
    if (!row) {
      await this.delivery(webhookId, deliveryId);
      throw new AppException(ErrorCode.Conflict, 'The delivery is being sent right now; look at its log in a moment.');
    }
    await this.queue.deliver(row.id, row.attempts + 1);
    await this.audit('webhook.redelivered', actor, endpoint, `webhook.redelivered:${deliveryId}:${row.attempts + 1}`, { deliveryId });
    return this.delivery(webhookId, deliveryId);
  }
}
