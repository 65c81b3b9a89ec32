import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Readiness, SERVICE_INFO, ServiceMetrics, watchQueue } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import { connectorQueue, jobIdFor, QueueName, TypedQueue } from '@latchkey/queues';
import type { RedisConnection } from '@latchkey/queues';

export const REDIS = Symbol('REDIS');
export const REVOCATION_RETRY = Symbol('REVOCATION_RETRY');
export interface RevocationRetry {
  attempts: number;
  backoffMs: number;
}

/**
 * The delayed revocation of each grant: one job per grant (`revoke-grant-<id>`), due at expiry.
 * Redis may lose it; the sweeper re-derives it from the control database.
 */
@Injectable()
export class RevocationQueue implements OnApplicationShutdown {
  readonly name: string;
  private readonly queue: TypedQueue<'revoke-grant'>;

  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(SERVICE_INFO) info: ServiceInfo,
    @Inject(REVOCATION_RETRY) retry: RevocationRetry,
    metrics: ServiceMetrics,
    readiness: Readiness,
  ) {
    this.name = connectorQueue(QueueName.Revocations, info.connectorId!);
    this.queue = new TypedQueue(this.name, redis, {
      attempts: retry.attempts,
      backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
      // Failed jobs are not kept: the grant row holds the error, and the sweeper must be able to re-add the id.
      removeOnFail: true,
      removeOnComplete: true,
    });
    watchQueue(metrics, readiness, this.queue.queue, redis);
  }

  /** Schedules (or, with `replace`, moves) the grant's revocation to `at`. */
  async schedule(grantId: string, at: Date, opts: { replace?: boolean } = {}): Promise<void> {
    const jobId = jobIdFor('revoke-grant', grantId);
    if (opts.replace) {
      const existing = await this.queue.queue.getJob(jobId);
      if (existing && (await existing.isDelayed())) {
        await existing.changeDelay(Math.max(0, at.getTime() - Date.now()));
        return;
      }
      if (existing && !(await existing.isActive())) await existing.remove();
    }
    await this.queue.add('revoke-grant', { grantId }, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
  }

  /** Makes the revocation due now: a person ended the grant before its expiry. */
  async runNow(grantId: string): Promise<void> {
    const jobId = jobIdFor('revoke-grant', grantId);
    const existing = await this.queue.queue.getJob(jobId);
    if (existing && (await existing.isDelayed())) {
      await existing.promote();
      return;
    }
    if (!existing) await this.queue.add('revoke-grant', { grantId }, { jobId });
  }

  /**
   * Re-creates the revocation job, due now, only if it is gone (Redis lost it, a worker died, or it
   * ran out of attempts). A job that exists (delayed until expiry, waiting in backoff, running) is
   * left alone: backoff means backoff, the sweeper never hurries a live job.
   */
  async ensure(grantId: string): Promise<void> {
    // BullMQ ignores an add whose jobId exists.
    await this.queue.add('revoke-grant', { grantId }, { jobId: jobIdFor('revoke-grant', grantId) });
  }

  /**
   * `ensure`, when Redis answers within `waitMs`: false when it is gone or too slow, and the caller
   * must not count on the queue for this grant (an add left waiting runs once Redis is back; the job
   * then finds the grant ended).
   */
  async ensureWithin(grantId: string, waitMs: number): Promise<boolean> {
    if (this.redis.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
    const added = this.ensure(grantId).then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([added, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  async cancel(grantId: string): Promise<void> {
    const existing = await this.queue.queue.getJob(jobIdFor('revoke-grant', grantId));
    if (existing && !(await existing.isActive())) await existing.remove();
  }

  async onApplicationShutdown() {
    await this.queue.close();
    // The module's shared connection: this queue is its last user.
    this.redis.disconnect();
  }
}
