import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LOGGER, withCorrelation } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { createWorker } from '@latchkey/queues';
import type { ManagedWorker } from '@latchkey/queues';
import { REDIS, RefreshQueue } from './refresh.queue';
import { RefreshService } from './refresh.service';

/** Integrations of this connector refreshed at the same time (each holds target sessions and a control transaction). */
const CONCURRENCY = 2;

/** Runs the connector's refresh jobs, asked-for and scheduled alike. */
@Injectable()
export class RefreshProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: ManagedWorker;

  constructor(
    private readonly queue: RefreshQueue,
    private readonly refreshes: RefreshService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    this.worker = createWorker<'refresh-integration'>(
      this.queue.name,
      this.redis,
      // Each run gets its own correlation id: its log lines and the events it publishes carry it.
      { 'refresh-integration': ({ integrationId }) => withCorrelation(undefined, () => this.refreshes.refresh(integrationId)) },
      { concurrency: CONCURRENCY },
    );
    this.worker.worker.on('error', (err) => this.logger.warn({ err }, 'discovery worker error'));
    this.worker.worker.on('failed', (job, err) => this.logger.warn({ err, integrationId: job?.data?.integrationId, attempt: job?.attemptsMade }, 'refresh job failed'));
  }

  async onApplicationShutdown() {
    await this.worker?.close();
  }
}
