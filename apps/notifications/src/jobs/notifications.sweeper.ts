import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, Periodic } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { IngestService } from '../events/ingest.service';
import { SETTINGS } from '../settings';
import type { NotificationSettings } from '../settings';
import { NotificationsRepository } from '../store/notifications.repository';
import { nextAttempt, NotificationsQueue } from '../delivery/notifications.queue';

const BATCH = 500;

/**
 * Re-derives every piece of work from the control database on an interval, so that a lost NATS
 * event, a flushed Redis or a killed process delays a notification instead of losing it: new
 * audit entries are read, due warnings, reminders and escalations made, due deliveries and future attempts queued again
 * (under their deterministic job ids: a job still in Redis is not added twice).
 */
@Injectable()
export class NotificationsSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    private readonly repository: NotificationsRepository,
    private readonly ingest: IngestService,
    private readonly queue: NotificationsQueue,
    @Inject(SETTINGS) private readonly settings: NotificationSettings,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.periodic = new Periodic('notifications sweep', () => this.sweep(), settings.sweepIntervalMs, logger);
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async sweep(): Promise<void> {
    await this.ingest.catchUp();
    await this.ingest.warnExpiring();
    await this.ingest.remindAndEscalate();
    const due = await this.repository.dueDeliveries(BATCH);
    const scheduled = await this.repository.scheduledDeliveries(BATCH);
    await this.queue.deliverAll([...due.map(nextAttempt), ...scheduled.map((d) => ({ ...nextAttempt(d), at: d.next_attempt_at }))]);
    await this.queue.checkPendingAll((await this.repository.upcomingPending(BATCH)).map((p) => ({ requestId: p.request_id, at: p.next_at })));
    const warnings = await this.repository.upcomingWarnings(this.settings.expiryWarningMs, BATCH);
    await this.queue.warnAll(
      warnings.map((w) => ({ requestId: w.request_id, expiresAt: w.expires_at })),
      this.settings.expiryWarningMs,
    );
  }

  onApplicationShutdown() {
    return this.periodic.stop();
  }
}
