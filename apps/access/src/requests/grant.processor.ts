import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { createWorker } from '@latchkey/queues';
import type { ManagedWorker, RedisConnection } from '@latchkey/queues';
import { GrantLifecycle } from './grant-lifecycle.service';
import { ACCESS_REDIS, GrantQueue } from './grant.queue';

/** Runs grant jobs; failures (provisioning, NATS or the catalog unreachable) are retried with backoff, then by the sweeper. */
@Injectable()
export class GrantProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: ManagedWorker;

  constructor(
    private readonly queue: GrantQueue,
    private readonly lifecycle: GrantLifecycle,
    @Inject(ACCESS_REDIS) private readonly redis: RedisConnection,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    this.worker = createWorker<'grant-request'>(
      this.queue.name,
      this.redis,
      { 'grant-request': ({ requestId }) => this.lifecycle.runGrantJob(requestId) },
      { concurrency: 16, lockDuration: 30_000, stalledInterval: 5_000, maxStalledCount: 3 },
    );
    this.worker.worker.on('error', (err) => this.logger.warn({ err }, 'grant worker error'));
    this.worker.worker.on('failed', (job, err) => this.logger.warn({ err: err.message, requestId: job?.data.requestId, attempt: job?.attemptsMade }, 'grant attempt failed; retried'));
  }

  async onApplicationShutdown() {
    await this.worker?.close();
    await this.lifecycle.drain();
  }
}
