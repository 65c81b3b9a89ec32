import { Inject, Injectable } from '@nestjs/common';
import { defineQueue, jobIdFor, QueueName } from '@latchkey/queues';
import type { QueueHost } from '@latchkey/queues';

/** The host of the connector's rotation queue (provideQueueHost in the module). */
export const ROTATION_QUEUE = Symbol('ROTATION_QUEUE');

const JOB = 'rotate-integration';

export const rotationQueue = defineQueue({
  name: QueueName.Rotation,
  perConnector: true,
  jobs: [JOB],
  jobOptions: {
    // A failed run is recorded on the integration; the retries are for targets that come back.
    attempts: 4,
    backoff: { type: 'exponential', delay: 30_000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: true,
  },
  // Integrations of this connector rotated at the same time (runs of one integration wait for each other on the target).
  worker: { concurrency: 2 },
  failureMessage: 'scheduled rotation failed',
});

const schedulerId = (integrationId: string) => `${jobIdFor(JOB, integrationId)}-due`;

/**
 * The connector's rotation queue (`rotation-<connectorId>`): one job scheduler per integration
 * whose first run is the integration's due time and which repeats every rotation period. Runs
 * check that the credential is due, so a schedule that fires after a manual rotation does nothing.
 * Redis may lose it all: schedules are planned again from the catalog at start.
 */
@Injectable()
export class RotationQueue {
  constructor(@Inject(ROTATION_QUEUE) private readonly host: QueueHost<typeof JOB>) {}

  /**
   * Schedules the integration's rotations from `dueAt` (now, when it is past), every `everyMs`.
   * A schedule already planned for the same due time is left alone; true when it was (re)planned.
   */
  async ensureSchedule(integrationId: string, everyMs: number, dueAt: number): Promise<boolean> {
    const existing = await this.host.scheduler(schedulerId(integrationId));
    if (existing?.every === everyMs && existing.startDate === dueAt) return false;
    // Upserting keeps the next run of an existing scheduler; a new due time needs a new one.
    if (existing) await this.unschedule(integrationId);
    await this.host.upsertScheduler(schedulerId(integrationId), { every: everyMs, startDate: dueAt }, { name: JOB, data: { integrationId } });
    return true;
  }

  async unschedule(integrationId: string): Promise<void> {
    await this.host.removeScheduler(schedulerId(integrationId));
  }

  /** Integrations with a schedule on this connector's queue. */
  async scheduled(): Promise<string[]> {
    const schedulers = await this.host.schedulers();
    return schedulers.map((s) => s.data?.integrationId).filter((id): id is string => typeof id === 'string');
  }
}
