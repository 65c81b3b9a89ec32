import { Inject, Injectable } from '@nestjs/common';
import { Metric, ServiceMetrics, withCorrelation } from '@latchkey/messaging';
import { QueueProcessor } from '@latchkey/queues';
import type { JobHandlers, QueueHost } from '@latchkey/queues';
import { REFRESH_QUEUE } from './refresh.queue';
import { RefreshResult, RefreshService } from './refresh.service';

/** Runs the connector's refresh jobs, asked-for and scheduled alike. */
@Injectable()
export class RefreshProcessor extends QueueProcessor<'refresh-integration'> {
  private readonly duration;
  private readonly size;

  constructor(
    @Inject(REFRESH_QUEUE) host: QueueHost<'refresh-integration'>,
    private readonly refreshes: RefreshService,
    metrics: ServiceMetrics,
  ) {
    super(host);
    this.duration = metrics.histogram(Metric.discoverySeconds);
    this.size = metrics.histogram(Metric.discoveryResources);
  }

  protected handlers(): JobHandlers<'refresh-integration'> {
    // Each run gets its own correlation id: its log lines and the events it publishes carry it.
    return { 'refresh-integration': ({ integrationId }) => withCorrelation(undefined, () => this.measured(integrationId)) };
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
}
