import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Readiness, SERVICE_INFO, ServiceMetrics, watchQueue } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import { connectorQueue, jobIdFor, QueueName, TypedQueue } from '@latchkey/queues';
import type { RedisConnection } from '@latchkey/queues';

export const REDIS = Symbol('REDIS');

const JOB = 'rotate-integration';
export const JOB_OPTIONS = {
  // A failed run is recorded on the integration; the retries are for targets that come back.
  attempts: 4,
  backoff: { type: 'exponential', delay: 30_000, jitter: 0.5 },
  removeOnComplete: true,
  removeOnFail: true,
} as const;

const schedulerId = (integrationId: string) => `${jobIdFor(JOB, integrationId)}-due`;

/**
 * The connector's rotation queue (`rotation-<connectorId>`): one job scheduler per integration
 * whose first run is the integration's due time and which repeats every rotation period. Runs
 * check that the credential is due, so a schedule that fires after a manual rotation does nothing.
 * Redis may lose it all: schedules are planned again from the catalog at start.
 */
@Injectable()
export class RotationQueue implements OnApplicationShutdown {
  readonly name: string;
  private readonly queue: TypedQueue<typeof JOB>;

  constructor(@Inject(REDIS) redis: RedisConnection, @Inject(SERVICE_INFO) info: ServiceInfo, metrics: ServiceMetrics, readiness: Readiness) {
    this.name = connectorQueue(QueueName.Rotation, info.connectorId!);
    this.queue = new TypedQueue(this.name, redis, JOB_OPTIONS);
    watchQueue(metrics, readiness, this.queue.queue, redis);
  }

  /**
   * Schedules the integration's rotations from `dueAt` (now, when it is past), every `everyMs`.
   * A schedule already planned for the same due time is left alone; true when it was (re)planned.
   */
  async ensureSchedule(integrationId: string, everyMs: number, dueAt: number): Promise<boolean> {
    const existing = await this.queue.queue.getJobScheduler(schedulerId(integrationId));
    if (existing?.every === everyMs && existing.startDate === dueAt) return false;
    // Upserting keeps the next run of an existing scheduler; a new due time needs a new one.
    if (existing) await this.unschedule(integrationId);
    await this.queue.queue.upsertJobScheduler(schedulerId(integrationId), { every: everyMs, startDate: dueAt }, { name: JOB, data: { integrationId }, opts: JOB_OPTIONS });
    return true;
  }

  async unschedule(integrationId: string): Promise<void> {
    await this.queue.queue.removeJobScheduler(schedulerId(integrationId));
  }

  /** Integrations with a schedule on this connector's queue. */
  async scheduled(): Promise<string[]> {
    const schedulers = await this.queue.queue.getJobSchedulers(0, -1);
    return schedulers.map((s) => (s.template?.data as { integrationId?: string } | undefined)?.integrationId).filter((id): id is string => typeof id === 'string');
  }

  async onApplicationShutdown() {
    await this.queue.close();
  }
}
