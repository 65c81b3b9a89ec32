import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { JobHandlers } from './queue-definition';
import type { QueueHost } from './queue-host';
import type { JobName } from './queues';

/**
 * The worker of a queue, in the service that processes it (`*.processor.ts`): a subclass names
 * its handlers, and a drain of its own if it has work outside the queue to wait for. Nest stops
 * it before the services its handlers use (it depends on them), so running jobs finish first.
 */
export abstract class QueueProcessor<N extends JobName> implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(protected readonly host: QueueHost<N>) {}

  protected abstract handlers(): JobHandlers<N>;

  /** Runs once the worker has stopped, before the queue closes (it may still add jobs). */
  protected drain(): Promise<void> {
    return Promise.resolve();
  }

  onApplicationBootstrap(): void {
    this.host.process(this.handlers());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.host.stopProcessing();
    await this.drain();
  }
}
