import { Inject, Injectable } from '@nestjs/common';
import { QueueProcessor } from '@latchkey/queues';
import type { JobHandlers, QueueHost } from '@latchkey/queues';
import { REVOCATION_QUEUE } from './revocation.queue';
import { RevocationService } from './revocation.service';

/** Runs due revocations; a failure is retried with exponential backoff and jitter, then STUCK. */
@Injectable()
export class RevocationProcessor extends QueueProcessor<'revoke-grant'> {
  constructor(
    @Inject(REVOCATION_QUEUE) host: QueueHost<'revoke-grant'>,
    private readonly revocations: RevocationService,
  ) {
    super(host);
  }

  protected handlers(): JobHandlers<'revoke-grant'> {
    return {
      'revoke-grant': async ({ grantId }, job) => {
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        await this.revocations.run(grantId, { throwOnFailure: true, lastAttempt });
      },
    };
  }
}
