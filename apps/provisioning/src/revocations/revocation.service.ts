import { Inject, Injectable } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import { LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { revokeGrant } from '@latchkey/pg-access';
import { GrantEntity } from '../grants/grant.entity';
import { GrantsRepository } from '../grants/grants.repository';
import { TargetResolver } from '../grants/target-resolver';
import { toView } from '../grants/grant-view';

const ENDED = ['REVOKED', 'EXPIRED', 'FAILED'];

/**
 * Takes a grant back on the target: memberships out; when the person has no grant left, NOLOGIN
 * first (committed), then every session of the role ends. Idempotent: any step may run twice.
 */
@Injectable()
export class RevocationService {
  constructor(
    private readonly grants: GrantsRepository,
    private readonly targets: TargetResolver,
    private readonly bus: MessageBus,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /**
   * Revokes a grant whose time has come (or that a person ended). Answers the grant as it stands;
   * a failure is recorded and, with `throwOnFailure`, thrown so the queue retries with backoff.
   */
  async run(grantId: string, opts: { throwOnFailure: boolean; lastAttempt?: boolean }): Promise<GrantEntity> {
    const grant = await this.grants.findById(grantId);
    if (!grant) throw new Error(`grant ${grantId} does not exist`);
    if (ENDED.includes(grant.status)) return grant;
    if (grant.status === 'ACTIVE' && grant.expiresAt.getTime() > Date.now()) return grant; // extended: a later job will come
    if (grant.status === 'GRANTING') return grant; // the sweeper finishes or rolls back half-made grants

    const revoking = grant.status === 'ACTIVE' ? ((await this.grants.transition(grant.id, ['ACTIVE'], { status: 'REVOKING', endReason: 'EXPIRED' })) ?? (await this.grants.findById(grant.id))!) : grant;
    try {
      const target = await this.targets.resolve(grant.integrationId);
      const keepItems = await this.grants.heldItems(grant.integrationId, grant.roleName, grant.id);
      const result = await revokeGrant(target.params, { role: grant.roleName, items: grant.items, keepItems });
      const status = revoking.endReason === 'REVOKED' ? 'REVOKED' : 'EXPIRED';
      const ended = await this.grants.transition(grant.id, ['REVOKING', 'STUCK'], { status, endedAt: new Date(), lastError: null });
      await this.grants.touchRole(grant.integrationId, grant.roleName, grant.connectorId, grant.identityId);
      if (ended) {
        const lateMs = Date.now() - grant.expiresAt.getTime();
        this.logger.info({ grantId, status, lateMs: status === 'EXPIRED' ? lateMs : undefined, ...result }, 'grant ended');
        await this.bus.publish(Contracts.provisioningGrantEnded, { grant: toView(ended) }).catch(() => undefined);
      }
      return ended ?? (await this.grants.findById(grant.id))!;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const failed = (await this.grants.recordFailure(grant.id, message))!;
      this.logger.warn({ grantId, attempts: failed.attempts, err: message }, 'revocation failed');
      if (opts.lastAttempt) await this.markStuck(failed);
      if (opts.throwOnFailure) throw err;
      return failed;
    }
  }

  /** Out of retries: visible as STUCK with its error and attempts, an alert raised; the sweeper keeps trying. */
  private async markStuck(grant: GrantEntity) {
    const stuck = await this.grants.transition(grant.id, ['REVOKING'], { status: 'STUCK' });
    if (!stuck) return;
    this.logger.error({ grantId: grant.id, attempts: stuck.attempts, lastError: stuck.lastError }, 'revocation stuck; alert raised');
    await this.bus.publish(Contracts.provisioningGrantStuck, { grant: toView(stuck) }).catch(() => undefined);
  }

  /** Rolls back a grant that could not be made: whatever it created for the person goes. */
  async undo(grant: GrantEntity): Promise<void> {
    const target = await this.targets.resolve(grant.integrationId);
    const keepItems = await this.grants.heldItems(grant.integrationId, grant.roleName, grant.id);
    await revokeGrant(target.params, { role: grant.roleName, items: grant.items, keepItems });
  }
}
