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
/**
 * One transaction at a time per integration: catalog changes made side by side on one server cost
 * it several times the CPU (a storm of 10,000 expiries took the target 12 to 16 s of CPU with four
 * at a time, 2.5 to 9.4 s with two, 1.8 s with one). Another starts beside them only once every
 * transaction under way has run SLOW_TRANSACTION_MS, up to MAX_TRANSACTIONS_AT_ONCE: one held up by
 * a lock or by sessions slow to end holds the others back that long at most.
 */
export const SLOW_TRANSACTION_MS = 1_000;
export const MAX_TRANSACTIONS_AT_ONCE = 4;

interface Waiting {
  target: ResolvedTarget;
  grant: GrantEntity;
  keepItems: GrantItem[];
  resolve: (result: RevokeGrantResult) => void;
  reject: (error: unknown) => void;
}

interface IntegrationQueue {
  waiting: Waiting[];
  /** When each transaction under way started. */
  running: Set<{ startedAt: number }>;
  scheduled: boolean;
  /** Set while revocations wait for the transactions under way to turn slow. */
  timer?: NodeJS.Timeout;
}

/**
 * Takes grants back on their targets, the revocations of one integration that are due together
 * (a storm of expiries) in one transaction each TARGET_BATCH_MAX: the roles locked, read, changed
 * and their sessions scanned in four round trips for all of them instead of four each. A lone
 * revocation goes at once, by itself; the others gather while a transaction is on the target (see
 * SLOW_TRANSACTION_MS). A transaction holds each person's role once (a second grant of the same
 * role waits for the next), and when it fails (one role cannot be revoked, the target is
 * unreachable) each of its revocations runs again by itself, so each grant gets its own answer,
 * error or retry.
 */
export class TargetRevocations {
  private readonly queues = new Map<string, IntegrationQueue>();

  constructor(
    private readonly database: RevokeOnTarget,
    private readonly held: HeldItemsReader,
    private readonly logger: AppLogger,
    private readonly slowMs = SLOW_TRANSACTION_MS,
  ) {}

  /** revokeGrant() of the grant on `target`, the person's other grants read again under the role's lock. */
  revoke(target: ResolvedTarget, grant: GrantEntity, keepItems: GrantItem[]): Promise<RevokeGrantResult> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(grant.integrationId);
      if (!queue) this.queues.set(grant.integrationId, (queue = { waiting: [], running: new Set(), scheduled: false }));
      queue.waiting.push({ target, grant, keepItems, resolve, reject });
      this.schedule(grant.integrationId, queue);
    });
  }

  /** How long until another transaction may start: 0 now, null not before one under way ends. */
  private startsIn(queue: IntegrationQueue): number | null {
    if (queue.running.size === 0) return 0;
    if (queue.running.size >= MAX_TRANSACTIONS_AT_ONCE) return null;
    const newest = Math.max(...[...queue.running].map((r) => r.startedAt));
    return Math.max(0, newest + this.slowMs - Date.now());
  }

  private schedule(integrationId: string, queue: IntegrationQueue): void {
    if (queue.scheduled || queue.waiting.length === 0) return;
    const wait = this.startsIn(queue);
    if (wait === null) return;
    if (wait > 0) {
      queue.timer ??= setTimeout(() => {
        queue.timer = undefined;
        this.schedule(integrationId, queue);
      }, wait).unref();
      return;
    }
    queue.scheduled = true;
    // The revocations that arrive in the same turn of the event loop go together.
    setImmediate(() => {
      queue.scheduled = false;
      while (queue.waiting.length > 0 && this.startsIn(queue) === 0) {
        const batch = takeBatch(queue.waiting);
        const running = { startedAt: Date.now() };
        queue.running.add(running);
        void this.run(integrationId, batch).finally(() => {
          queue.running.delete(running);
          if (queue.running.size === 0 && queue.waiting.length === 0) {
            clearTimeout(queue.timer);
            this.queues.delete(integrationId);
          } else this.schedule(integrationId, queue);
        });
      }
      this.schedule(integrationId, queue);
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
