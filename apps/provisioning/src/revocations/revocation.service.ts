import { Inject, Injectable } from '@nestjs/common';
import { Contracts, GrantStates, type GrantItem } from '@latchkey/contracts';
import { LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { TargetDatabase } from '@latchkey/pg-access';
import { GrantEntity } from '../store/grant.entity';
import { GrantsRepository } from '../store/grants.repository';
import { type ResolvedTarget, TargetResolver } from '../target/target-resolver';
import { toView } from '../store/grant-view';
import { RevocationMetrics } from './revocation.metrics';
import { type RevokeOnTarget, TargetRevocations } from './target-revocations';

/** What a revocation needs of its neighbours, narrow so that unit tests hand-write them. */
export type RevocationRows = Pick<
  GrantsRepository,
  'claimExpired' | 'findById' | 'transition' | 'heldItems' | 'heldItemsOfEach' | 'endRevocation' | 'recordFailure'
>;
export type TargetLookup = Pick<TargetResolver, 'resolve'>;
export type EventPublisher = Pick<MessageBus, 'publish'>;
export type RevocationCounters = Pick<RevocationMetrics, 'attempted' | 'succeeded' | 'failed'>;

/** How long revocations reuse a resolved target (well within the catalog answer's own 5 s reuse). */
const TARGET_REUSE_MS = 1_000;

/**
 * Takes a grant back on the target: memberships out; when the person has no grant left, NOLOGIN
 * first (committed), then every session of the role ends. Idempotent: any step may run twice.
 */
@Injectable()
export class RevocationService {
  private readonly targetCache = new Map<string, { at: number; target: Promise<ResolvedTarget> }>();
  private readonly onTargets: TargetRevocations;

  constructor(
    @Inject(GrantsRepository) private readonly grants: RevocationRows,
    @Inject(TargetResolver) private readonly targets: TargetLookup,
    @Inject(TargetDatabase) database: RevokeOnTarget,
    @Inject(MessageBus) private readonly bus: EventPublisher,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(RevocationMetrics) private readonly metrics: RevocationCounters,
  ) {
    this.onTargets = new TargetRevocations(database, grants, logger);
  }

  /**
   * Revokes a grant whose time has come (or that a person ended). Answers the grant as it stands;
   * a failure is recorded and, with `throwOnFailure`, thrown so the queue retries with backoff.
   */
  async run(grantId: string, opts: { throwOnFailure: boolean; lastAttempt?: boolean }): Promise<GrantEntity> {
    // The usual case, a grant whose time has come, claimed in one statement; anything else is read and decided below.
    const claimed = await this.grants.claimExpired(grantId, new Date());
    let revoking: GrantEntity;
    let keepItems: GrantItem[] | undefined;
    if (claimed) {
      revoking = claimed.grant;
      keepItems = claimed.heldItems;
    } else {
      const grant = await this.grants.findById(grantId);
      if (!grant) throw new Error(`grant ${grantId} does not exist`);
      if (GrantStates.ENDED.includes(grant.status)) return grant;
      if (grant.status === 'ACTIVE' && grant.expiresAt.getTime() > Date.now()) return grant; // extended: a later job will come
      if (grant.status === 'GRANTING') return grant; // the sweeper finishes or rolls back half-made grants
      // Read ACTIVE, and a grant never goes back to GRANTING: the table's guard lets only this ACTIVE grant move.
      revoking =
        grant.status === 'ACTIVE'
          ? ((await this.grants.transition(grant.id, 'REVOKING', { endReason: 'EXPIRED' })) ?? (await this.grants.findById(grant.id))!)
          : grant;
    }
    const grant = revoking;
    this.metrics.attempted();
    try {
      const target = await this.target(grant.integrationId);
      keepItems ??= await this.grants.heldItems(grant.integrationId, grant.roleName, grant.id);
      const result = await this.onTargets.revoke(target, grant, keepItems);
      const ended = await this.grants.endRevocation(grant, new Date());
      if (ended) {
        this.metrics.succeeded(ended, result.sessionsTerminated);
        const { status } = ended;
        const lateMs = Date.now() - grant.expiresAt.getTime();
        this.logger.info({ grantId, status, lateMs: status === 'EXPIRED' ? lateMs : undefined, attempts: ended.attempts, ...result }, 'grant ended');
        await this.bus.publish(Contracts.provisioningGrantEnded, { grant: toView(ended) }).catch(() => undefined);
      }
      return ended ?? (await this.grants.findById(grant.id))!;
    } catch (err) {
      this.targetCache.delete(grant.integrationId); // the retry resolves the target afresh (a rotated secret, say)
      const message = err instanceof Error ? err.message : String(err);
      this.metrics.failed(err);
      const failed = (await this.grants.recordFailure(grant.id, message))!;
      this.logger.warn({ grantId, attempts: failed.attempts, err: message }, 'revocation failed');
      if (opts.lastAttempt) await this.markStuck(failed);
      if (opts.throwOnFailure) throw err;
      return failed;
    }
  }

  /**
   * The integration's target, resolved at most once per TARGET_REUSE_MS: resolving decrypts the
   * connector secret, which a storm of revocations would otherwise do for every one of them.
   */
  private target(integrationId: string): Promise<ResolvedTarget> {
    const cached = this.targetCache.get(integrationId);
    if (cached && Date.now() - cached.at < TARGET_REUSE_MS) return cached.target;
    const target = this.targets.resolve(integrationId);
    this.targetCache.set(integrationId, { at: Date.now(), target });
    target.catch(() => this.targetCache.get(integrationId)?.target === target && this.targetCache.delete(integrationId));
    return target;
  }

  /** Out of retries: visible as STUCK with its error and attempts, an alert raised; the sweeper keeps trying. */
  private async markStuck(grant: GrantEntity) {
    const stuck = await this.grants.transition(grant.id, 'STUCK', {});
    if (!stuck) return;
    this.logger.error({ grantId: grant.id, attempts: stuck.attempts, lastError: stuck.lastError }, 'revocation stuck; alert raised');
    await this.bus.publish(Contracts.provisioningGrantStuck, { grant: toView(stuck) }).catch(() => undefined);
  }

  /** Rolls back a grant that could not be made: whatever it created for the person goes. */
  async undo(grant: GrantEntity): Promise<void> {
    const target = await this.targets.resolve(grant.integrationId);
    const keepItems = await this.grants.heldItems(grant.integrationId, grant.roleName, grant.id);
    await this.onTargets.revoke(target, grant, keepItems);
  }
}
