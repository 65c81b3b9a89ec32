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

type Job = Parameters<QueueHost<NotificationJob>['addBulk']>[0][number];

/** Attempt `attempt` of delivery `id`, due at `at` (or now). */
export interface DueAttempt {
  id: string;
  attempt: number;
  at?: Date;
}

/**
 * The timing of deliveries and expiry warnings. Redis may lose every job: the control database
 * says what is due, and the sweeper adds the jobs again under the same ids. The `...All` forms
 * queue many in one round trip (a job whose id exists is left as it is, as with one).
 */
@Injectable()
export class NotificationsQueue {
  constructor(@Inject(NOTIFICATIONS_QUEUE) private readonly host: QueueHost<NotificationJob>) {}

  /** Attempt `attempt` of a delivery, at `at` (or now); one job per (delivery, attempt). */
  deliver(deliveryId: string, attempt: number, at?: Date) {
    return this.addAll([deliverJob({ id: deliveryId, attempt, at })]);
  }

  /** deliver() of each attempt, in one round trip. */
  deliverAll(attempts: readonly DueAttempt[]) {
    return this.addAll(attempts.map(deliverJob));
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

  /** The warning for the grant of each request, `windowMs` before it ends, in one round trip. */
  warnAll(grants: ReadonlyArray<{ requestId: string; expiresAt: Date }>, windowMs: number) {
    return this.addAll(
      grants.map(({ requestId, expiresAt }) => ({
        name: 'expiry-warning' as const,
        data: { requestId },
        opts: { jobId: jobIdFor('expiry-warning', `${requestId}-${expiresAt.getTime()}`), delay: delayUntil(expiresAt.getTime() - windowMs) },
      })),
    );
  }

  /** A look at each pending request's reminders and escalation at its `at`, in one round trip; one job per (request, moment). */
  checkPendingAll(checks: ReadonlyArray<{ requestId: string; at: Date }>) {
    return this.addAll(
      checks.map(({ requestId, at }) => ({
        name: 'pending-check' as const,
        data: { requestId },
        opts: { jobId: jobIdFor('pending-check', `${requestId}-${at.getTime()}`), delay: delayUntil(at.getTime()) },
      })),
    );
  }

  private async addAll(jobs: Job[]): Promise<void> {
    if (jobs.length > 0) await this.host.addBulk(jobs);
  }
}

/** The attempt after those a delivery row has made, due now. */
export const nextAttempt = (d: { id: string; attempts: number }): DueAttempt => ({ id: d.id, attempt: d.attempts + 1 });

const delayUntil = (ms: number) => Math.max(0, ms - Date.now());

const deliverJob = ({ id, attempt, at }: DueAttempt): Job => ({
  name: 'deliver',
  data: { deliveryId: id },
  opts: { jobId: jobIdFor('deliver', `${id}-${attempt}`), delay: at ? delayUntil(at.getTime()) : 0 },
});
