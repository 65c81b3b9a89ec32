import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Readiness, ServiceMetrics, watchQueue } from '@latchkey/messaging';
import { jobIdFor, QueueName, TypedQueue } from '@latchkey/queues';
import type { RedisConnection } from '@latchkey/queues';

export const REDIS = Symbol('REDIS');

export type NotificationJob = 'deliver' | 'expiry-warning' | 'pending-check';

/**
 * The timing of deliveries and expiry warnings. Redis may lose every job: the control database
 * says what is due, and the sweeper adds the jobs again under the same ids.
 */
@Injectable()
export class NotificationsQueue implements OnApplicationShutdown {
  readonly name = QueueName.Notifications;
  private readonly queue: TypedQueue<NotificationJob>;

  constructor(@Inject(REDIS) redis: RedisConnection, metrics: ServiceMetrics, readiness: Readiness) {
    // A job only says "look now": its outcome is recorded in the database, never retried by BullMQ.
    this.queue = new TypedQueue(this.name, redis, { attempts: 1, removeOnComplete: true, removeOnFail: true });
    watchQueue(metrics, readiness, this.queue.queue, redis);
  }

  /** Attempt `attempt` of a delivery, at `at` (or now); one job per (delivery, attempt). */
  deliver(deliveryId: string, attempt: number, at?: Date) {
    const delay = at ? Math.max(0, at.getTime() - Date.now()) : 0;
    return this.queue.add('deliver', { deliveryId }, { jobId: jobIdFor('deliver', `${deliveryId}-${attempt}`), delay });
  }

  /**
   * Attempt `attempt` of a delivery that waited at its limit, now, because `freedBy` (a settled
   * delivery attempt) freed a slot. Its own id: the delivery's `deliver-<id>-<attempt>` job may
   * still be running (the one refused at the limit), and adding a job under an id that exists is
   * a no-op. A surplus job is harmless: the claim takes a delivery once.
   */
  deliverFreed(deliveryId: string, attempt: number, freedBy: string) {
    return this.queue.add('deliver', { deliveryId }, { jobId: jobIdFor('deliver', `${deliveryId}-${attempt}-after-${freedBy}`) });
  }

  /** The warning for the grant of `requestId` that ends at `expiresAt`, `windowMs` before. */
  warn(requestId: string, expiresAt: Date, windowMs: number) {
    const delay = Math.max(0, expiresAt.getTime() - windowMs - Date.now());
    return this.queue.add('expiry-warning', { requestId }, { jobId: jobIdFor('expiry-warning', `${requestId}-${expiresAt.getTime()}`), delay });
  }

  /** A look at a pending request's reminders and escalation at `at`; one job per (request, moment). */
  checkPending(requestId: string, at: Date) {
    const delay = Math.max(0, at.getTime() - Date.now());
    return this.queue.add('pending-check', { requestId }, { jobId: jobIdFor('pending-check', `${requestId}-${at.getTime()}`), delay });
  }

  async onApplicationShutdown() {
    await this.queue.close();
  }
}
