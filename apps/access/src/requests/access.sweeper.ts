import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RequestStates } from '@latchkey/contracts';
import { LOGGER, Periodic } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { AccessRequestsRepository } from './access-requests.repository';
import { GrantLifecycle } from './grant-lifecycle.service';
import { IdentityReview } from './identity-review.service';
import { GrantJobs } from './requests.ports';
import { RequestsService } from './requests.service';

export const ACCESS_SWEEP_SECONDS = Symbol('ACCESS_SWEEP_SECONDS');

/**
 * Re-derives the access service's own next steps from the control database, so that losing a
 * NATS event, a Redis job or the process itself delays work instead of losing it:
 * APPROVED requests get their grant job again (provisioning's idempotency key makes it once);
 * REVOKING requests get their revocation asked again; GRANTED requests past expiry, and REVOKING
 * ones, are brought in line with what provisioning reports; PENDING requests past their decision
 * deadline end EXPIRED; identity changes not reviewed yet (a crash, a failed call) are reviewed.
 */
@Injectable()
export class AccessSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: Periodic;
  /** The first pass at start takes even fresh rows: it picks up what a killed predecessor left half-way. */
  private started = false;

  constructor(
    private readonly requests: AccessRequestsRepository,
    private readonly lifecycle: GrantLifecycle,
    private readonly queue: GrantJobs,
    private readonly requestsService: RequestsService,
    private readonly identityReview: IdentityReview,
    @Inject(ACCESS_SWEEP_SECONDS) intervalSeconds: number,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {
    const pass = () => {
      const idleMs = this.started ? 5_000 : 0;
      this.started = true;
      return this.sweep(idleMs);
    };
    this.periodic = new Periodic('access sweep', pass, intervalSeconds * 1000, logger);
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async sweep(idleMs = 5_000): Promise<void> {
    for (const r of await this.requests.findOpenWork(RequestStates.AWAITING_PROVISIONING, idleMs)) {
      if (r.status === 'APPROVED' || !r.grantId) await this.queue.enqueue(r.id);
      else await this.lifecycle.revokeNow(r);
    }
    for (const r of await this.requests.findOverdue(idleMs)) {
      await this.lifecycle.refresh(r).catch((err) => this.logger.warn({ err, requestId: r.id }, 'could not read the grant of an overdue request'));
    }
    await this.requestsService.expirePending();
    await this.identityReview.drain();
  }

  onApplicationShutdown() {
    return this.periodic.stop();
  }
}
