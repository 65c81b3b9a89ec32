import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Readiness, SERVICE_INFO, ServiceMetrics, watchQueue } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import { connectorQueue, jobIdFor, QueueName, TypedQueue } from '@latchkey/queues';
import type { RedisConnection } from '@latchkey/queues';

export const REDIS = Symbol('REDIS');
/** How often each integration is refreshed on schedule. */
export const REFRESH_INTERVAL_MS = Symbol('REFRESH_INTERVAL_MS');

const JOB = 'refresh-integration';
const PENDING_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);
const JOB_OPTIONS = {
  // Unreachable targets are not retried here (the refresh records them); these retries are for
  // our own failures: the control database, NATS.
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
  // Not kept: a finished job must not block the next one with the same deterministic id.
  removeOnComplete: true,
  removeOnFail: true,
} as const;

const schedulerId = (integrationId: string) => `${jobIdFor(JOB, integrationId)}-every`;

/**
 * The connector's discovery queue (`discovery-<connectorId>`): refreshes asked for now, and one
 * job scheduler per integration for the periodic refresh. Redis may lose all of it: schedules
 * are reconciled with the catalog at start.
 */
@Injectable()
export class RefreshQueue implements OnApplicationShutdown {
  readonly name: string;
  private readonly queue: TypedQueue<typeof JOB>;

  constructor(
    @Inject(REDIS) redis: RedisConnection,
    @Inject(SERVICE_INFO) info: ServiceInfo,
    @Inject(REFRESH_INTERVAL_MS) private readonly everyMs: number,
    metrics: ServiceMetrics,
    readiness: Readiness,
  ) {
    this.name = connectorQueue(QueueName.Discovery, info.connectorId!);
    this.queue = new TypedQueue(this.name, redis, JOB_OPTIONS);
    watchQueue(metrics, readiness, this.queue.queue, redis);
  }

  /**
   * Queues a refresh now under the integration's deterministic id: one already waiting answers
   * for this request too (it reads the instance when it runs). One already running may have read
   * the instance before the change that prompted this request, so a single follow-up is queued
   * behind it (the refresh lock makes it wait for the first).
   */
  async enqueue(integrationId: string): Promise<{ jobId: string; queued: boolean }> {
    const primary = jobIdFor(JOB, integrationId);
    const primaryState = await this.stateOf(primary);
    if (primaryState && PENDING_STATES.has(primaryState)) return { jobId: primary, queued: false };
    if (primaryState !== 'active') return this.add(integrationId, primary);
    const followUp = jobIdFor(JOB, `${integrationId}-next`);
    const followUpState = await this.stateOf(followUp);
    if (followUpState && (PENDING_STATES.has(followUpState) || followUpState === 'active')) return { jobId: followUp, queued: false };
    return this.add(integrationId, followUp);
  }

  /**
   * Makes sure the integration is refreshed every interval. True when the schedule was missing
   * (first seen, or lost with Redis): its first run is one interval away, so the caller refreshes now.
   */
  async ensureSchedule(integrationId: string): Promise<boolean> {
    const existing = await this.queue.queue.getJobScheduler(schedulerId(integrationId));
    if (existing?.every === this.everyMs) return false;
    await this.queue.queue.upsertJobScheduler(
      schedulerId(integrationId),
      // A start date: without it BullMQ runs an `every` scheduler at once, on top of the refresh the caller queues.
      { every: this.everyMs, startDate: Date.now() + this.everyMs },
      { name: JOB, data: { integrationId }, opts: JOB_OPTIONS },
    );
    return existing === undefined;
  }

  async unschedule(integrationId: string): Promise<void> {
    await this.queue.queue.removeJobScheduler(schedulerId(integrationId));
  }

  /** Integrations with a schedule on this connector's queue. */
  async scheduled(): Promise<string[]> {
    const schedulers = await this.queue.queue.getJobSchedulers(0, -1);
    return schedulers.map((s) => (s.template?.data as { integrationId?: string } | undefined)?.integrationId).filter((id): id is string => typeof id === 'string');
  }

  private async add(integrationId: string, jobId: string): Promise<{ jobId: string; queued: boolean }> {
    // A leftover finished job with this id would make add() a no-op.
    const leftover = await this.queue.queue.getJob(jobId);
    if (leftover && ((await leftover.isCompleted()) || (await leftover.isFailed()))) await leftover.remove();
    await this.queue.add(JOB, { integrationId }, { jobId });
    return { jobId, queued: true };
  }

  private async stateOf(jobId: string): Promise<string | undefined> {
    const job = await this.queue.queue.getJob(jobId);
    return job ? await job.getState() : undefined;
  }

  async onApplicationShutdown() {
    await this.queue.close();
  }
}
