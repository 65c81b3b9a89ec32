import { Inject, Injectable } from '@nestjs/common';
import { defineQueue, jobIdFor, QueueName } from '@latchkey/queues';
import type { QueueHost } from '@latchkey/queues';

/** The host of the notifications queue (provideQueueHost in the module). */
export const NOTIFICATIONS_QUEUE = Symbol('NOTIFICATIONS_QUEUE');

export type NotificationJob = 'deliver' | 'expiry-warning' | 'pending-check';

/** `concurrency`: WEBHOOK_CONCURRENCY attempts at a time. */
export const notificationsQueue = (concurrency: number) =>
  defineQueue<NotificationJob>({
    name: QueueName.Notifications,
    perConnector: false,
    jobs: ['deliver', 'expiry-warning', 'pending-check'],
    // A job only says "look now": its outcome is recorded in the database, never retried by BullMQ.
    jobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: true },
    worker: { concurrency },
    failureMessage: 'notification job failed; the sweeper hands it over again',
  });

/**
 * The timing of deliveries and expiry warnings. Redis may lose every job: the control database
 * says what is due, and the sweeper adds the jobs again under the same ids.
 */
@Injectable()
export class NotificationsQueue {
  constructor(@Inject(NOTIFICATIONS_QUEUE) private readonly host: QueueHost<NotificationJob>) {}

  /** Attempt `attempt` of a delivery, at `at` (or now); one job per (delivery, attempt). */
  deliver(deliveryId: string, attempt: number, at?: Date) {
    const delay = at ? Math.max(0, at.getTime() - Date.now()) : 0;
    return this.host.add('deliver', { deliveryId }, { jobId: jobIdFor('deliver', `${deliveryId}-${attempt}`), delay });
  }

  /**
   * Attempt `attempt` of a delivery that waited at its limit, now, because `freedBy` (a settled
   * delivery attempt) freed a slot. Its own id: the delivery's `deliver-<id>-<attempt>` job may
   * still be running (the one refused at the limit), and adding a job under an id that exists is
   * a no-op. A surplus job is harmless: the claim takes a delivery once.
   */
  deliverFreed(deliveryId: string, attempt: number, freedBy: string) {
    return this.host.add('deliver', { deliveryId }, { jobId: jobIdFor('deliver', `${deliveryId}-${attempt}-after-${freedBy}`) });
  }

  /** The warning for the grant of `requestId` that ends at `expiresAt`, `windowMs` before. */
  warn(requestId: string, expiresAt: Date, windowMs: number) {
    const delay = Math.max(0, expiresAt.getTime() - windowMs - Date.now());
    return this.host.add('expiry-warning', { requestId }, { jobId: jobIdFor('expiry-warning', `${requestId}-${expiresAt.getTime()}`), delay });
  }

  /** A look at a pending request's reminders and escalation at `at`; one job per (request, moment). */
  checkPending(requestId: string, at: Date) {
    const delay = Math.max(0, at.getTime() - Date.now());
    return this.host.add('pending-check', { requestId }, { jobId: jobIdFor('pending-check', `${requestId}-${at.getTime()}`), delay });
  }
}
