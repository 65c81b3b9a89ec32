import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { createWorker } from '@latchkey/queues';
import type { ManagedWorker, RedisConnection } from '@latchkey/queues';
import { REDIS, RevocationQueue } from './revocation.queue';
import { RevocationService } from './revocation.service';

export const REVOCATION_CONCURRENCY = Symbol('REVOCATION_CONCURRENCY');

/** Runs due revocations; a failure is retried with exponential backoff and jitter, then STUCK. */
@Injectable()
export class RevocationProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: ManagedWorker;

  constructor(
    private readonly queue: RevocationQueue,
    private readonly revocations: RevocationService,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(REVOCATION_CONCURRENCY) private readonly concurrency: number,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    this.worker = createWorker<'revoke-grant'>(
      this.queue.name,
      this.redis,
      {
        'revoke-grant': async ({ grantId }, job) => {
          const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          await this.revocations.run(grantId, { throwOnFailure: true, lastAttempt });
        },
      },
      // Short locks: a worker killed mid-job is noticed within seconds, not a minute.
      { concurrency: this.concurrency, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 3 },
    );
    this.worker.worker.on('error', (err) => this.logger.warn({ err }, 'revocation worker error'));
  }

  async onApplicationShutdown() {
    await this.worker?.close();
  }
}
