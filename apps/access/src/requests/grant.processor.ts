import { Inject, Injectable } from '@nestjs/common';
import { QueueProcessor } from '@latchkey/queues';
import type { JobHandlers, QueueHost } from '@latchkey/queues';
import { GrantLifecycle } from './grant-lifecycle.service';
import { GRANT_QUEUE } from './grant.queue';

/** Runs grant jobs; failures (provisioning, NATS or the catalog unreachable) are retried with backoff, then by the sweeper. */
@Injectable()
export class GrantProcessor extends QueueProcessor<'grant-request'> {
  constructor(
    @Inject(GRANT_QUEUE) host: QueueHost<'grant-request'>,
    private readonly lifecycle: GrantLifecycle,
  ) {
    super(host);
  }

  protected handlers(): JobHandlers<'grant-request'> {
    return { 'grant-request': ({ requestId }) => this.lifecycle.runGrantJob(requestId) };
  }

  /** Grants made inline (not through the queue) finish before the queue closes. */
  protected override drain() {
    return this.lifecycle.drain();
  }
}
