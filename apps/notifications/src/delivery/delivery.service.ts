import { Inject, Injectable } from '@nestjs/common';
import type { NotificationEventType } from '@latchkey/contracts';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { Mailer } from '../channels/mailer';
import type { RequestEventData } from '../messages/event-data';
import { personalSlackMessage, renderAlertEmail, renderEmail, slackMessage } from '../messages/render';
import { SETTINGS } from '../settings';
import type { NotificationSettings } from '../settings';
import { NotificationsRepository } from '../store/notifications.repository';
import type { DeliveryRow, EndpointRow, EventRow } from '../store/notifications.repository';
import { SecretBox } from '../store/secret-box';
import { webhookHeaders } from '../messages/signature';
import { postOnce } from '../channels/http-sender';
import type { SendResult } from '../channels/http-sender';
import { NotificationsQueue } from './notifications.queue';
import { isSuccess, nextDelayMs } from './retry-schedule';

/** The `webhook-id` of a delivery: the same on every attempt and redelivery, so receivers can deduplicate. */
export const messageIdOf = (deliveryId: string) => `msg_${deliveryId}`;

/** Sends one attempt of a delivery and records what came of it. */
@Injectable()
export class DeliveryService {
  constructor(
    private readonly repository: NotificationsRepository,
    private readonly secrets: SecretBox,
    private readonly mailer: Mailer,
    private readonly queue: NotificationsQueue,
    @Inject(SETTINGS) private readonly settings: NotificationSettings,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /**
   * One attempt, if the delivery is due and not held by another worker. A delivery whose endpoint
   * (or person's Slack) is at its WEBHOOK_ENDPOINT_CONCURRENCY limit is not taken: the attempt
   * that frees a slot hands it over (`handOverWaiting`). Only a 2xx counts; 410 Gone turns the
   * endpoint off; after the schedule's last attempt the delivery is dead-lettered.
   */
  async attempt(deliveryId: string): Promise<void> {
    const delivery = await this.repository.claim(deliveryId, this.settings.timeoutMs + 30_000, this.settings.endpointConcurrency);
    if (!delivery) return;
    const event = await this.repository.findEvent(delivery.event_id);
    if (!event) return;
    let endpoint: EndpointRow | null = null;
    if (delivery.channel === 'webhook') {
      endpoint = delivery.endpoint_id ? await this.repository.findEndpoint(delivery.endpoint_id) : null;
      if (!endpoint || !endpoint.active) {
        await this.repository.transaction((m) =>
          this.repository.markDead(
            m,
            delivery.id,
            endpoint ? `the endpoint is inactive${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}` : 'the endpoint was deleted',
          ),
        );
        await this.handOverWaiting(delivery);
        return;
      }
    }
    const result = endpoint
      ? await this.sendWebhook(delivery, event, endpoint)
      : delivery.channel === 'slack'
        ? await this.sendPersonalSlack(delivery, event)
        : await this.sendEmail(delivery, event);
    await this.settle(delivery, result, endpoint);
  }

  /**
   * `settled` gave its slot back: the oldest due deliveries waiting at the same limit go to the
   * queue now, not at the next sweep. Up to the limit's size, so a slot freed while others are in
   * flight still finds a job; the claim keeps the count, and the sweeper stays the safety net
   * (a process that dies here has left the deliveries due in the database).
   */
  private async handOverWaiting(settled: DeliveryRow): Promise<void> {
    if (!settled.limiter_key) return;
    const freedBy = `${settled.id}-${settled.attempts}`;
    for (const next of await this.repository.waitingBehind(settled.limiter_key, this.settings.endpointConcurrency)) {
      await this.queue.deliverFreed(next.id, next.attempts + 1, freedBy);
    }
  }

  private async sendWebhook(delivery: DeliveryRow, event: EventRow, endpoint: EndpointRow): Promise<SendResult> {
    let url: string;
    let secrets: string[];
    try {
      url = this.secrets.open(endpoint.url_envelope);
      secrets = [this.secrets.open(endpoint.secret_envelope)];
      if (endpoint.previous_secret_envelope && endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at > new Date()) {
        secrets.push(this.secrets.open(endpoint.previous_secret_envelope));
      }
    } catch (err) {
      return { statusCode: null, latencyMs: 0, responseExcerpt: null, error: `the endpoint's secrets cannot be opened: ${(err as Error).message}` };
    }
    const body = JSON.stringify(endpoint.format === 'slack' ? slackMessage(event.type, event.payload) : event.payload);
    const headers = webhookHeaders(secrets, messageIdOf(delivery.id), Math.floor(Date.now() / 1000), body);
    return postOnce(url, headers, body, this.settings.timeoutMs, this.settings.allowPrivateUrls);
  }

  /** To the person's own Slack incoming webhook, read (and opened) at send time: a removed one is not written to. */
  private async sendPersonalSlack(delivery: DeliveryRow, event: EventRow): Promise<SendResult> {
    const envelope = await this.repository.slackWebhookOf(delivery.target.replace(/^slack:/, ''));
    if (!envelope) return { statusCode: null, latencyMs: 0, responseExcerpt: null, error: 'the person has no Slack webhook any more' };
    let url: string;
    try {
      url = this.secrets.open(envelope);
    } catch (err) {
      return { statusCode: null, latencyMs: 0, responseExcerpt: null, error: `the Slack webhook cannot be opened: ${(err as Error).message}` };
    }
    const message = personalSlackMessage(
      event.type as NotificationEventType,
      event.payload.data as unknown as RequestEventData,
      delivery.context?.role === 'approver' ? 'approver' : 'requester',
      delivery.context?.reasons ?? [],
    );
    return postOnce(url, {}, JSON.stringify(message), this.settings.timeoutMs, this.settings.allowPrivateUrls);
  }

  private sendEmail(delivery: DeliveryRow, event: EventRow): Promise<SendResult> {
    const to = delivery.target.replace(/^email:/, '');
    const type = event.type as NotificationEventType;
    const message =
      delivery.context?.role === 'admin'
        ? renderAlertEmail(type, event.payload.data, this.settings.publicUrl)
        : renderEmail(type, event.payload.data as unknown as RequestEventData, delivery.context?.role ?? 'requester', delivery.context?.reasons ?? []);
    return this.mailer.send(to, message, `<${delivery.id}@latchkey>`);
  }

  private async settle(delivery: DeliveryRow, result: SendResult, endpoint: EndpointRow | null): Promise<void> {
    const attempt = delivery.attempts;
    const error = result.error ?? (isSuccess(result.statusCode) ? null : `answered ${result.statusCode}`);
    let retryAt: Date | null = null;
    await this.repository.transaction(async (m) => {
      await this.repository.recordAttempt(m, {
        delivery_id: delivery.id,
        attempt,
        status_code: result.statusCode,
        latency_ms: result.latencyMs,
        response_excerpt: result.responseExcerpt,
        error: result.error,
      });
      if (isSuccess(result.statusCode)) return this.repository.markDelivered(m, delivery.id);
      if (endpoint && result.statusCode === 410) {
        await this.repository.disableEndpoint(m, endpoint.id, `the endpoint answered 410 Gone at ${new Date().toISOString()}`);
        return this.repository.markDead(m, delivery.id, 'the endpoint answered 410 Gone: it was disabled');
      }
      const delay = nextDelayMs(this.settings.retrySchedule, attempt);
      if (delay === null)
        return this.repository.markDead(m, delivery.id, `${error} (attempt ${attempt} of ${this.settings.retrySchedule.length}: dead-lettered)`);
      retryAt = await this.repository.markRetry(m, delivery.id, delay, error!);
    });
    const log = {
      deliveryId: delivery.id,
      channel: delivery.channel,
      endpointId: delivery.endpoint_id,
      attempt,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
    };
    if (isSuccess(result.statusCode)) this.logger.info(log, 'delivered');
    else this.logger.warn({ ...log, error, retryAt }, retryAt ? 'delivery failed; retried later' : 'delivery failed for good');
    if (retryAt) await this.queue.deliver(delivery.id, attempt + 1, retryAt);
    await this.handOverWaiting(delivery);
  }
}
