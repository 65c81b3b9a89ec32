import { Inject, Injectable } from '@nestjs/common';
import { withCorrelation } from '@latchkey/messaging';
import { QueueProcessor } from '@latchkey/queues';
import type { JobHandlers, QueueHost } from '@latchkey/queues';
import { IngestService } from '../events/ingest.service';
import { DeliveryService } from '../delivery/delivery.service';
import { NOTIFICATIONS_QUEUE } from '../delivery/notifications.queue';
import type { NotificationJob } from '../delivery/notifications.queue';

/**
 * Runs deliveries and expiry warnings. WEBHOOK_CONCURRENCY attempts at a time, each bounded by
 * WEBHOOK_TIMEOUT_SECONDS, at most WEBHOOK_ENDPOINT_CONCURRENCY per endpoint: a slow endpoint
 * holds a few slots for a bounded time and delays nothing else.
 */
@Injectable()
export class NotificationsProcessor extends QueueProcessor<NotificationJob> {
  constructor(
    @Inject(NOTIFICATIONS_QUEUE) host: QueueHost<NotificationJob>,
    private readonly deliveries: DeliveryService,
    private readonly ingest: IngestService,
  ) {
    super(host);
  }

  protected handlers(): JobHandlers<NotificationJob> {
    return {
      deliver: ({ deliveryId }) => withCorrelation(undefined, () => this.deliveries.attempt(deliveryId)),
      'expiry-warning': () => withCorrelation(undefined, () => this.ingest.warnExpiring()),
      'pending-check': () => withCorrelation(undefined, () => this.ingest.remindAndEscalate()),
    };
  }
}
