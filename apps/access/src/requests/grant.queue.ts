import { Inject, Injectable } from '@nestjs/common';
import { defineQueue, jobIdFor, QueueName } from '@latchkey/queues';
import type { QueueHost } from '@latchkey/queues';

/** The host of the grant queue (provideQueueHost in the module). */
export const GRANT_QUEUE = Symbol('GRANT_QUEUE');

export const grantQueue = defineQueue({
  name: QueueName.AccessGrants,
  perConnector: false,
  jobs: ['grant-request'],
  jobOptions: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    // Not kept: the request row holds the state, and the sweeper must be able to re-add the id.
    removeOnFail: true,
    removeOnComplete: true,
  },
  worker: { concurrency: 16, lockDuration: 30_000, stalledInterval: 5_000, maxStalledCount: 3 },
  failureMessage: 'grant attempt failed; retried',
});

/**
 * One job per approved request (`grant-request-<id>`). Redis may lose it: the sweeper re-adds
 * it from the control database, and provisioning's idempotency key makes a second run harmless.
 */
@Injectable()
export class GrantQueue {
  constructor(@Inject(GRANT_QUEUE) private readonly host: QueueHost<'grant-request'>) {}

  /** `delayMs` > 0: the safety net of a grant made inline (see GrantLifecycle.grantNow). */
  async enqueue(requestId: string, delayMs = 0): Promise<void> {
    await this.host.add('grant-request', { requestId }, { jobId: jobIdFor('grant-request', requestId), ...(delayMs > 0 ? { delay: delayMs } : {}) });
  }

  /** Drops a waiting or delayed job whose work is done; a job already running is left to find that out. */
  async remove(requestId: string): Promise<void> {
    await this.host.remove(jobIdFor('grant-request', requestId));
  }
}
