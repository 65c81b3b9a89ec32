import { Inject, Injectable } from '@nestjs/common';
import { defineQueue, jobIdFor, QueueName } from '@latchkey/queues';
import type { QueueHost } from '@latchkey/queues';

/** The host of the connector's discovery queue (provideQueueHost in the module). */
export const REFRESH_QUEUE = Symbol('REFRESH_QUEUE');
/** How often each integration is refreshed on schedule. */
export const REFRESH_INTERVAL_MS = Symbol('REFRESH_INTERVAL_MS');

const JOB = 'refresh-integration';
const PENDING_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

export const refreshQueue = defineQueue({
  name: QueueName.Discovery,
  perConnector: true,
  jobs: [JOB],
  jobOptions: {
    // Unreachable targets are not retried here (the refresh records them); these retries are for
    // our own failures: the control database, NATS.
    attempts: 3,
    backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
    // Not kept: a finished job must not block the next one with the same deterministic id.
    removeOnComplete: true,
    removeOnFail: true,
  },
  // Integrations of this connector refreshed at the same time (each holds target sessions and a control transaction).
  worker: { concurrency: 2 },
  failureMessage: 'refresh job failed',
});

const schedulerId = (integrationId: string) => `${jobIdFor(JOB, integrationId)}-every`;

/**
 * The connector's discovery queue (`discovery-<connectorId>`): refreshes asked for now, and one
 * job scheduler per integration for the periodic refresh. Redis may lose all of it: schedules
 * are reconciled with the catalog at start.
 */
@Injectable()
export class RefreshQueue {
  constructor(
    @Inject(REFRESH_QUEUE) private readonly host: QueueHost<typeof JOB>,
    @Inject(REFRESH_INTERVAL_MS) private readonly everyMs: number,
  ) {}

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
    const existing = await this.host.scheduler(schedulerId(integrationId));
    if (existing?.every === this.everyMs) return false;
    await this.host.upsertScheduler(
      schedulerId(integrationId),
      // A start date: without it BullMQ runs an `every` scheduler at once, on top of the refresh the caller queues.
      { every: this.everyMs, startDate: Date.now() + this.everyMs },
      { name: JOB, data: { integrationId } },
    );
    return existing === undefined;
  }

  async unschedule(integrationId: string): Promise<void> {
    await this.host.removeScheduler(schedulerId(integrationId));
  }

  /** Integrations with a schedule on this connector's queue. */
  async scheduled(): Promise<string[]> {
    const schedulers = await this.host.schedulers();
    return schedulers.map((s) => s.data?.integrationId).filter((id): id is string => typeof id === 'string');
  }

  private async add(integrationId: string, jobId: string): Promise<{ jobId: string; queued: boolean }> {
    // A leftover finished job with this id would make add() a no-op.
    const leftover = await this.host.job(jobId);
    if (leftover && ((await leftover.isCompleted()) || (await leftover.isFailed()))) await leftover.remove();
    await this.host.add(JOB, { integrationId }, { jobId });
    return { jobId, queued: true };
  }

  private async stateOf(jobId: string): Promise<string | undefined> {
    const job = await this.host.job(jobId);
    return job ? await job.getState() : undefined;
  }
}
