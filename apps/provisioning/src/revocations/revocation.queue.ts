import { Inject, Injectable } from '@nestjs/common';
import { defineQueue, jobIdFor, QueueName } from '@latchkey/queues';
import type { QueueHost } from '@latchkey/queues';

/** The host of the connector's revocation queue (provideQueueHost in the module). */
export const REVOCATION_QUEUE = Symbol('REVOCATION_QUEUE');

/** REVOCATION_ATTEMPTS, REVOCATION_BACKOFF_MS and REVOCATION_CONCURRENCY. */
export interface RevocationSettings {
  attempts: number;
  backoffMs: number;
  concurrency: number;
}

export const revocationQueue = (settings: RevocationSettings) =>
  defineQueue({
    name: QueueName.Revocations,
    perConnector: true,
    jobs: ['revoke-grant'],
    jobOptions: {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: settings.backoffMs, jitter: 0.5 },
      // Failed jobs are not kept: the grant row holds the error, and the sweeper must be able to re-add the id.
      removeOnFail: true,
      removeOnComplete: true,
    },
    // Short locks: a worker killed mid-job is noticed within seconds, not a minute.
    worker: { concurrency: settings.concurrency, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 3 },
    failureMessage: 'revocation attempt failed; retried with backoff, then STUCK',
  });

/**
 * The delayed revocation of each grant: one job per grant (`revoke-grant-<id>`), due at expiry.
 * Redis may lose it; the sweeper re-derives it from the control database.
 */
@Injectable()
export class RevocationQueue {
  constructor(@Inject(REVOCATION_QUEUE) private readonly host: QueueHost<'revoke-grant'>) {}

  /** Schedules (or, with `replace`, moves) the grant's revocation to `at`. */
  async schedule(grantId: string, at: Date, opts: { replace?: boolean } = {}): Promise<void> {
    const jobId = jobIdFor('revoke-grant', grantId);
    if (opts.replace) {
      const existing = await this.host.job(jobId);
      if (existing && (await existing.isDelayed())) {
        await existing.changeDelay(Math.max(0, at.getTime() - Date.now()));
        return;
      }
      if (existing && !(await existing.isActive())) await existing.remove();
    }
    await this.host.add('revoke-grant', { grantId }, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
  }

  /** Makes the revocation due now: a person ended the grant before its expiry. */
  async runNow(grantId: string): Promise<void> {
    const jobId = jobIdFor('revoke-grant', grantId);
    const existing = await this.host.job(jobId);
    if (existing && (await existing.isDelayed())) {
      await existing.promote();
      return;
    }
    if (!existing) await this.host.add('revoke-grant', { grantId }, { jobId });
  }

  /**
   * Re-creates the revocation job, due now, only if it is gone (Redis lost it, a worker died, or it
   * ran out of attempts). A job that exists (delayed until expiry, waiting in backoff, running) is
   * left alone: backoff means backoff, the sweeper never hurries a live job.
   */
  async ensure(grantId: string): Promise<void> {
    // BullMQ ignores an add whose jobId exists.
    await this.host.add('revoke-grant', { grantId }, { jobId: jobIdFor('revoke-grant', grantId) });
  }

  /**
   * `ensure` for each grant, in one round trip (BullMQ's addBulk: a job that exists is left alone),
   * when Redis answers within `waitMs`: false when it is gone or too slow, and the caller must not
   * count on the queue for these grants (adds left waiting run once Redis is back; the jobs then
   * find the grants ended).
   */
  async ensureWithin(grantIds: string[], waitMs: number): Promise<boolean> {
    if (grantIds.length === 0) return true;
    if (!this.host.connected) return false;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
    const added = this.host
      .addBulk(grantIds.map((grantId) => ({ name: 'revoke-grant' as const, data: { grantId }, opts: { jobId: jobIdFor('revoke-grant', grantId) } })))
      .then(
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
    const existing = await this.host.job(jobIdFor('revoke-grant', grantId));
    if (existing && !(await existing.isActive())) await existing.remove();
  }
}
