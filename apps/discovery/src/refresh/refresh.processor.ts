import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, Metric, ServiceMetrics, withCorrelation } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { createWorker } from '@latchkey/queues';
import type { ManagedWorker, RedisConnection } from '@latchkey/queues';
import { REDIS, RefreshQueue } from './refresh.queue';
import { RefreshResult, RefreshService } from './refresh.service';

/** Integrations of this connector refreshed at the same time (each holds target sessions and a control transaction). */
const CONCURRENCY = 2;

/** Runs the connector's refresh jobs, asked-for and scheduled alike. */
@Injectable()
export class RefreshProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: ManagedWorker;
  private readonly duration;
  private readonly size;

  constructor(
    private readonly queue: RefreshQueue,
    private readonly refreshes: RefreshService,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(LOGGER) private readonly logger: AppLogger,
    metrics: ServiceMetrics,
  ) {
    this.duration = metrics.histogram(Metric.discoverySeconds);
    this.size = metrics.histogram(Metric.discoveryResources);
  }

  onApplicationBootstrap() {
    this.worker = createWorker<'refresh-integration'>(
      this.queue.name,
      this.redis,
      // Each run gets its own correlation id: its log lines and the events it publishes carry it.
      { 'refresh-integration': ({ integrationId }) => withCorrelation(undefined, () => this.measured(integrationId)) },
      { concurrency: CONCURRENCY },
    );
    this.worker.worker.on('error', (err) => this.logger.warn({ err }, 'discovery worker error'));
    this.worker.worker.on('failed', (job, err) => this.logger.warn({ err, integrationId: job?.data?.integrationId, attempt: job?.attemptsMade }, 'refresh job failed'));
  }

  /** A refresh, timed by outcome (a thrown error of our own is a failed one too); a successful one's size is kept. */
  private async measured(integrationId: string): Promise<RefreshResult> {
    const stop = this.duration.startTimer();
    try {
      const result = await this.refreshes.refresh(integrationId);
      if (result.status === 'succeeded') {
        stop({ outcome: 'succeeded' });
        this.size.observe(result.counts.total);
      } else if (result.status === 'failed') {
        stop({ outcome: 'failed' });
      }
      return result;
    } catch (err) {
      stop({ outcome: 'failed' });
      throw err;
    }
  }

  async onApplicationShutdown() {
    await this.worker?.close();
  }
}
