import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, withCorrelation } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { createWorker } from '@latchkey/queues';
import type { ManagedWorker, RedisConnection } from '@latchkey/queues';
import { REDIS, RotationQueue } from './rotation.queue';
import { RotationSchedule } from './rotation-schedule.service';

/** Integrations of this connector rotated at the same time (runs of one integration wait for each other on the target). */
const CONCURRENCY = 2;

/** Runs the connector's scheduled rotations. */
@Injectable()
export class RotationProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: ManagedWorker;

  constructor(
    private readonly queue: RotationQueue,
    private readonly schedule: RotationSchedule,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    this.worker = createWorker<'rotate-integration'>(
      this.queue.name,
      this.redis,
      { 'rotate-integration': ({ integrationId }) => withCorrelation(undefined, () => this.schedule.scheduled(integrationId)) },
      { concurrency: CONCURRENCY },
    );
    this.worker.worker.on('error', (err) => this.logger.warn({ err }, 'rotation worker error'));
    this.worker.worker.on('failed', (job, err) => this.logger.warn({ err, integrationId: job?.data?.integrationId, attempt: job?.attemptsMade }, 'scheduled rotation failed'));
  }

  async onApplicationShutdown() {
    await this.worker?.close();
  }
}
