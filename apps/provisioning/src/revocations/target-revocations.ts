import type { GrantItem } from '@latchkey/contracts';
import type { AppLogger } from '@latchkey/messaging';
import type { RevokeGrantResult, TargetDatabase } from '@latchkey/pg-access';
import type { GrantEntity } from '../store/grant.entity';
import type { GrantsRepository } from '../store/grants.repository';
import type { ResolvedTarget } from '../target/target-resolver';

export type RevokeOnTarget = Pick<TargetDatabase, 'revokeGrant' | 'revokeGrants'>;
export type HeldItemsReader = Pick<GrantsRepository, 'heldItems' | 'heldItemsOfEach'>;

/** How many revocations of one integration go to its target in one transaction, at most. */
export const TARGET_BATCH_MAX = 16;
/** How many of those transactions run at once per integration; the revocations that come meanwhile wait and go together. */
export const TARGET_BATCHES_AT_ONCE = 4;

interface Waiting {
  target: ResolvedTarget;
  grant: GrantEntity;
  keepItems: GrantItem[];
  resolve: (result: RevokeGrantResult) => void;
  reject: (error: unknown) => void;
}

interface IntegrationQueue {
  waiting: Waiting[];
  running: number;
  scheduled: boolean;
}

/**
 * Takes grants back on their targets, the revocations of one integration that are due together
 * (a storm of expiries) in one transaction each TARGET_BATCH_MAX: the roles locked, read, changed
 * and their sessions scanned in four round trips for all of them instead of four each. A lone
 * revocation goes at once, by itself; the others gather while TARGET_BATCHES_AT_ONCE are on the
 * target. A transaction holds each person's role once (a second grant of the same role waits for
 * the next), and when it fails (one role cannot be revoked, the target is unreachable) each of its
 * revocations runs again by itself, so each grant gets its own answer, error or retry.
 */
export class TargetRevocations {
  private readonly queues = new Map<string, IntegrationQueue>();

  constructor(
    private readonly database: RevokeOnTarget,
    private readonly held: HeldItemsReader,
    private readonly logger: AppLogger,
  ) {}

  /** revokeGrant() of the grant on `target`, the person's other grants read again under the role's lock. */
  revoke(target: ResolvedTarget, grant: GrantEntity, keepItems: GrantItem[]): Promise<RevokeGrantResult> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(grant.integrationId);
      if (!queue) this.queues.set(grant.integrationId, (queue = { waiting: [], running: 0, scheduled: false }));
      queue.waiting.push({ target, grant, keepItems, resolve, reject });
      this.schedule(grant.integrationId, queue);
    });
  }

  private schedule(integrationId: string, queue: IntegrationQueue): void {
    if (queue.scheduled || queue.running >= TARGET_BATCHES_AT_ONCE || queue.waiting.length === 0) return;
    queue.scheduled = true;
    // The revocations that arrive in the same turn of the event loop go together.
    setImmediate(() => {
      queue.scheduled = false;
      while (queue.running < TARGET_BATCHES_AT_ONCE && queue.waiting.length > 0) {
        const batch = takeBatch(queue.waiting);
        queue.running += 1;
        void this.run(integrationId, batch).finally(() => {
          queue.running -= 1;
          if (queue.running === 0 && queue.waiting.length === 0) this.queues.delete(integrationId);
          else this.schedule(integrationId, queue);
        });
      }
    });
  }

  private async run(integrationId: string, batch: Waiting[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const results = await this.database.revokeGrants(batch[0]!.target.params, {
          grants: batch.map(({ grant, keepItems }) => ({ role: grant.roleName, items: grant.items, keepItems })),
          keepItemsNow: () =>
            this.held.heldItemsOfEach(
              integrationId,
              batch.map((w) => w.grant),
            ),
        });
        batch.forEach((w, k) => w.resolve(results[k]!));
        return;
      } catch (err) {
        this.logger.info(
          { integrationId, grants: batch.length, err: err instanceof Error ? err.message : String(err) },
          'revoking together failed; one by one',
        );
      }
    }
    await Promise.all(batch.map((w) => this.alone(w)));
  }

  private alone({ target, grant, keepItems, resolve, reject }: Waiting): Promise<void> {
    return this.database
      .revokeGrant(target.params, {
        role: grant.roleName,
        items: grant.items,
        keepItems,
        keepItemsNow: () => this.held.heldItems(grant.integrationId, grant.roleName, grant.id),
      })
      .then(resolve, reject);
  }
}

/** Up to TARGET_BATCH_MAX of `waiting`, oldest first, each role once; what it leaves stays in order. */
function takeBatch(waiting: Waiting[]): Waiting[] {
  const batch: Waiting[] = [];
  const roles = new Set<string>();
  const rest: Waiting[] = [];
  for (const w of waiting) {
    if (batch.length < TARGET_BATCH_MAX && !roles.has(w.grant.roleName)) {
      batch.push(w);
      roles.add(w.grant.roleName);
    } else rest.push(w);
  }
  waiting.splice(0, waiting.length, ...rest);
  return batch;
}
