import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { CoalescedRun, LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { requestorMatches } from '../flows/flow-matching';
import { FlowsRepository, toFlow } from '../flows/flows.repository';
import { PeopleRepository, PersonNow } from '../flows/people.repository';
import { IdentityChange, IdentityChanges } from '../identities/identity-changes.repository';
import type { AccessRequestEntity } from './access-request.entity';
import { AccessRequestsRepository } from './access-requests.repository';
import { RequestsService } from './requests.service';

/** Why the requester no longer qualifies for the request, or null when they still do. */
export function disqualification(
  person: PersonNow | null,
  flow: Parameters<typeof requestorMatches>[0] | null,
  r: Pick<AccessRequestEntity, 'flowName'>,
): string | null {
  if (!person) return 'the requester was deleted';
  if (!person.active) return 'the requester was deactivated';
  // A flow deleted since is no identity matter: its requests end as they would have.
  if (flow && !requestorMatches(flow, person)) return `the requester is no longer among the requestors of flow "${r.flowName}"`;
  return null;
}

/**
 * Draws the consequences of identity changes (SCIM deactivation, deletion, group membership,
 * groups refreshed at single sign-on) on access: the person's open requests they no longer
 * qualify for are taken back (pending ones rejected, approved or granted ones revoked through
 * provisioning, so their sessions end), and the pending requests they approve, or might now
 * approve, have their approvers resolved again. Changes are reviewed at once when recorded and
 * again by the access sweeper until each review completes; every step is safe to repeat.
 */
@Injectable()
export class IdentityReview implements OnApplicationBootstrap {
  private readonly reviews = new CoalescedRun(() => this.pass());

  constructor(
    private readonly changes: IdentityChanges,
    private readonly requests: AccessRequestsRepository,
    private readonly flows: FlowsRepository,
    private readonly people: PeopleRepository,
    private readonly requestsService: RequestsService,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    this.changes.onRecorded(() => void this.drain());
  }

  /** Reviews every recorded change, one pass at a time in this process; a change stays recorded until its review is done. */
  drain(): Promise<void> {
    return this.reviews.run().catch((err: unknown) => this.logger.warn({ err }, 'identity changes not all reviewed; the sweeper retries'));
  }

  private async pass(): Promise<void> {
    for (;;) {
      const batch = await this.changes.pending(100);
      if (!batch.length) return;
      for (const change of batch) {
        await this.review(change);
        await this.changes.done(change.id);
      }
    }
  }

  private async review(change: IdentityChange): Promise<void> {
    const person = await this.people.person(change.userId);
    let takenBack = 0;
    for (const r of await this.requests.openOf(change.userId)) {
      const flow = await this.flows.findById(r.flowId);
      const why = disqualification(person, flow ? toFlow(flow) : null, r);
      if (!why) continue;
      await this.requestsService.takeBack(r.id, change.actor, `${why} (${change.reason})`);
      takenBack++;
    }
    const pending = await this.requests.pendingApproverIdsMayChange(change.userId, person?.active ? person.groups : []);
    for (const id of pending) await this.requestsService.reresolveApprovers(id, change.actor, change.reason);
    this.logger.info({ userId: change.userId, takenBack, approvalsChecked: pending.length }, 'identity change reviewed');
  }
}
