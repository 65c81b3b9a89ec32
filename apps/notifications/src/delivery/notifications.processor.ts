import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, withCorrelation } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { createWorker } from '@latchkey/queues';
import type { ManagedWorker, RedisConnection } from '@latchkey/queues';
import { IngestService } from '../events/ingest.service';
import { SETTINGS } from '../settings';
import type { NotificationSettings } from '../settings';
import { DeliveryService } from './delivery.service';
import { NotificationsQueue, REDIS } from './notifications.queue';
import type { NotificationJob } from './notifications.queue';

/**
 * Runs deliveries and expiry warnings. WEBHOOK_CONCURRENCY attempts at a time, each bounded by
 * WEBHOOK_TIMEOUT_SECONDS, at most WEBHOOK_ENDPOINT_CONCURRENCY per endpoint: a slow endpoint
 * holds a few slots for a bounded time and delays nothing else.
 */
@Injectable()
export class NotificationsProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: ManagedWorker;

  constructor(
    private readonly queue: NotificationsQueue,
    private readonly deliveries: DeliveryService,
    private readonly ingest: IngestService,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(SETTINGS) private readonly settings: NotificationSettings,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    this.worker = createWorker<NotificationJob>(
      this.queue.name,
      this.redis,
      {
        deliver: ({ deliveryId }) => withCorrelation(undefined, () => this.deliveries.attempt(deliveryId)),
        'expiry-warning': () => withCorrelation(undefined, () => this.ingest.warnExpiring()),
        'pending-check': () => withCorrelation(undefined, () => this.ingest.remindAndEscalate()),
      },
      { concurrency: this.settings.concurrency },
    );
    this.worker.worker.on('error', (err) => this.logger.warn({ err }, 'notifications worker error'));
    this.worker.worker.on('failed', (job, err) => this.logger.warn({ err, job: job?.name, data: job?.data }, 'notification job failed; the sweeper hands it over again'));
  }

  async onApplicationShutdown() {
    await this.worker?.close();
  }
}
