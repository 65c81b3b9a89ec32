import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, Periodic, SERVICE_INFO } from '@latchkey/messaging';
import type { AppLogger, ServiceInfo } from '@latchkey/messaging';
import { TargetDatabase } from '@latchkey/pg-access';
import type { GrantEntity } from '../store/grant.entity';
import { GrantsRepository } from '../store/grants.repository';
import { TargetResolver } from '../target/target-resolver';
import { RevocationQueue } from './revocation.queue';
import { RevocationService, type TargetLookup } from './revocation.service';

export const SWEEPER_SETTINGS = Symbol('SWEEPER_SETTINGS');

/** What a sweep needs of its neighbours, narrow so that unit tests hand-write them. */
export type SweepRows = Pick<
  GrantsRepository,
  'withSweepLock' | 'dueForRevocation' | 'staleGranting' | 'transition' | 'recordFailure' | 'rolesToClean' | 'setRoleState'
>;
export type SweepQueue = Pick<RevocationQueue, 'ensureWithin' | 'cancel'>;
export type SweepRevocations = Pick<RevocationService, 'run' | 'undo'>;
export type SweepRoles = Pick<TargetDatabase, 'dropPersonalRole'>;
/** How long the sweeper waits for Redis to take a batch of revocation jobs before revoking their grants itself. */
const QUEUE_WAIT_MS = 2000;
/** Revocation jobs ensured per round trip to Redis (a storm's sweep finds thousands of due grants whose jobs exist). */
const ENSURE_BATCH = 500;
export interface SweeperSettings {
  intervalSeconds: number;
  /** REVOCATION_OVERDUE_SECONDS: how late past its expiry a grant may still be ACTIVE before the sweeper revokes it without waiting for its job. */
  overdueSeconds: number;
  grantingTimeoutSeconds: number;
  roleCleanupAfterSeconds: number;
}

/**
 * Re-derives missed work from the control database, the system of record: revocation jobs that are
 * gone (Redis lost them, a job ran out of retries: a STUCK grant gets a new round), grants cut off half-way, and
 * personal roles unused for the cleanup period. One replica per connector sweeps at a time.
 */
@Injectable()
export class Sweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    @Inject(GrantsRepository) private readonly grants: SweepRows,
    @Inject(RevocationQueue) private readonly queue: SweepQueue,
    @Inject(RevocationService) private readonly revocations: SweepRevocations,
    @Inject(TargetResolver) private readonly targets: TargetLookup,
    @Inject(TargetDatabase) private readonly database: SweepRoles,
    @Inject(SWEEPER_SETTINGS) private readonly settings: SweeperSettings,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {
    this.periodic = new Periodic('sweep', () => this.sweep(), settings.intervalSeconds * 1000, logger);
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  onApplicationShutdown() {
    return this.periodic.stop();
  }

  async sweep(): Promise<{ revocations: number; rolledBack: number; cleaned: number }> {
    const swept = await this.grants.withSweepLock(this.info.connectorId!, async () => {
      const revocations = await this.requeueDue();
      const rolledBack = await this.rollBackStale();
      const cleaned = await this.cleanRoles();
      if (revocations + rolledBack + cleaned > 0) this.logger.info({ revocations, rolledBack, cleaned }, 'sweep');
      return { revocations, rolledBack, cleaned };
    });
    return swept.taken ? swept.value : { revocations: 0, rolledBack: 0, cleaned: 0 };
  }

  private async requeueDue(): Promise<number> {
    const due = await this.grants.dueForRevocation(this.info.connectorId!, 5000);
    let direct = 0;
    let overdue = 0;
    const now = Date.now();
    // Once Redis has not taken a batch in time, the rest of this sweep does not wait on it again.
    let queueDown = false;
    // Still ACTIVE well after its expiry: no job ran for it (the queue lost it, or its worker is
    // stuck, as right after a Redis failover). Revoked here; a job that runs later finds it ended.
    const isStale = (grant: GrantEntity) => grant.status === 'ACTIVE' && now - grant.expiresAt.getTime() > this.settings.overdueSeconds * 1000;
    for (let start = 0; start < due.length; start += ENSURE_BATCH) {
      const batch = due.slice(start, start + ENSURE_BATCH);
      // Otherwise lost jobs only: a job waiting in backoff keeps its schedule, so a short outage spends no attempts.
      const queued = batch.filter((grant) => !isStale(grant)).map((grant) => grant.id);
      if (!queueDown) queueDown = !(await this.queue.ensureWithin(queued, QUEUE_WAIT_MS));
      for (const grant of batch) {
        const stale = isStale(grant);
        if (!stale && !queueDown) continue;
        // Or Redis is gone: the control database says the grant is due, so it is revoked here rather
        // than left until Redis is back (a failure is recorded on the grant and tried again next sweep).
        await this.revocations
          .run(grant.id, { throwOnFailure: false })
          .catch((err: unknown) => this.logger.warn({ err, grantId: grant.id }, 'direct revocation failed; tried again next sweep'));
        if (stale) overdue += 1;
        else direct += 1;
      }
    }
    if (direct > 0) this.logger.warn({ revoked: direct }, 'Redis unavailable: due revocations run by the sweeper itself');
    if (overdue > 0)
      this.logger.warn(
        { revoked: overdue, overdueSeconds: this.settings.overdueSeconds },
        'grants still active past their expiry with no job run: revoked by the sweeper itself',
      );
    return due.length;
  }

  private async rollBackStale(): Promise<number> {
    const stale = await this.grants.staleGranting(this.info.connectorId!, this.settings.grantingTimeoutSeconds);
    let count = 0;
    for (const grant of stale) {
      try {
        await this.revocations.undo(grant);
        const failed = await this.grants.transition(grant.id, 'FAILED', {
          endedAt: new Date(),
          lastError: grant.lastError ?? 'interrupted while granting; rolled back',
        });
        if (failed) {
          await this.queue.cancel(grant.id);
          count += 1;
        }
      } catch (err) {
        await this.grants.recordFailure(grant.id, err instanceof Error ? err.message : String(err));
      }
    }
    return count;
  }

  private async cleanRoles(): Promise<number> {
    const roles = await this.grants.rolesToClean(this.info.connectorId!, this.settings.roleCleanupAfterSeconds);
    let count = 0;
    for (const role of roles) {
      try {
        const target = await this.targets.resolve(role.integrationId);
        const result = await this.database.dropPersonalRole(target.params, role.roleName);
        await this.grants.setRoleState(role.integrationId, role.roleName, result.dropped ? 'DROPPED' : 'KEPT', result.reason ?? null);
        this.logger.info(
          { integrationId: role.integrationId, role: role.roleName, dropped: result.dropped, reason: result.reason },
          'personal role cleaned up',
        );
        count += 1;
      } catch (err) {
        this.logger.warn({ err, role: role.roleName }, 'personal role cleanup failed; retried next sweep');
      }
    }
    return count;
  }
}
