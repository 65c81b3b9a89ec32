import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Readiness, ServiceMetrics, watchQueue } from '@latchkey/messaging';
import { jobIdFor, QueueName, TypedQueue } from '@latchkey/queues';
import type { RedisConnection } from '@latchkey/queues';

export const ACCESS_REDIS = Symbol('ACCESS_REDIS');

/**
 * One job per approved request (`grant-request-<id>`). Redis may lose it: the sweeper re-adds
 * it from the control database, and provisioning's idempotency key makes a second run harmless.
 */
@Injectable()
export class GrantQueue implements OnApplicationShutdown {
  readonly name = QueueName.AccessGrants;
  private readonly queue: TypedQueue<'grant-request'>;

  constructor(
    @Inject(ACCESS_REDIS) private readonly redis: RedisConnection,
    metrics: ServiceMetrics,
    readiness: Readiness,
  ) {
    this.queue = new TypedQueue(this.name, redis, {
      attempts: 8,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      // Not kept: the request row holds the state, and the sweeper must be able to re-add the id.
      removeOnFail: true,
      removeOnComplete: true,
    });
    watchQueue(metrics, readiness, this.queue.queue, redis);
  }

  /** `delayMs` > 0: the safety net of a grant made inline (see GrantLifecycle.grantNow). */
  async enqueue(requestId: string, delayMs = 0): Promise<void> {
    await this.queue.add('grant-request', { requestId }, { jobId: jobIdFor('grant-request', requestId), ...(delayMs > 0 ? { delay: delayMs } : {}) });
  }

  /** Drops a waiting or delayed job whose work is done; a job already running is left to find that out. */
  async remove(requestId: string): Promise<void> {
    await this.queue.queue.remove(jobIdFor('grant-request', requestId));
  }

  async onApplicationShutdown() {
    await this.queue.close();
    this.redis.disconnect();
  }
}
