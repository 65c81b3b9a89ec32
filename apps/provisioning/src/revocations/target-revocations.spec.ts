import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GrantItem } from '@latchkey/contracts';
import { createLogger } from '@latchkey/messaging';
import type { RevokeGrantOptions, RevokeGrantResult, RevokeGrantsOptions, TargetConnectionParams } from '@latchkey/pg-access';
import { GrantEntity } from '../store/grant.entity';
import type { ResolvedTarget } from '../target/target-resolver';
import {
  type HeldItemsReader,
  MAX_TRANSACTIONS_AT_ONCE,
  type RevokeOnTarget,
  SLOW_TRANSACTION_MS,
  TARGET_BATCH_MAX,
  TargetRevocations,
} from './target-revocations';

const ITEM = { resourceType: 'postgresql-table', database: 'd', schema: 's', table: 't', permission: 'READ_ONLY' } as const;
const KEPT = { ...ITEM, table: 'kept' };
const PARAMS: TargetConnectionParams = { hostname: 'h', port: 5432, dbname: 'd', sslmode: 'disable', username: 'latchkey', password: 'p' };
const TARGET: ResolvedTarget = { params: PARAMS, config: { hostname: 'h', port: 5432, dbname: 'd', sslmode: 'disable' } };

const grant = (id: string, fields: Partial<GrantEntity> = {}): GrantEntity =>
  Object.assign(new GrantEntity(), { id, integrationId: 'integration-1', roleName: `lk_${id}`, items: [ITEM], ...fields });

/** A target that answers when the test lets it: each call waits for `release()`, or answers at once when `open`. */
class FakeTarget implements RevokeOnTarget {
  readonly alone: RevokeGrantOptions[] = [];
  readonly together: RevokeGrantsOptions[] = [];
  /** The answers each call of revokeGrants() had from keepItemsNow, in order. */
  readonly keptNow: GrantItem[][][] = [];
  open = true;
  onTarget = 0;
  mostOnTarget = 0;
  failTogether = false;
  /** Roles whose lone revocation fails. */
  readonly refuse = new Set<string>();
  private readonly held: Array<() => void> = [];

  async revokeGrant(_conn: TargetConnectionParams, opts: RevokeGrantOptions): Promise<RevokeGrantResult> {
    this.alone.push(opts);
    const keptNow = await this.onIt(() => opts.keepItemsNow!());
    if (this.refuse.has(opts.role)) throw new Error(`role ${opts.role} is not managed`);
    return { loginDisabled: keptNow.length === 0, sessionsTerminated: 1 };
  }

  async revokeGrants(_conn: TargetConnectionParams, opts: RevokeGrantsOptions): Promise<RevokeGrantResult[]> {
    this.together.push(opts);
    const keptNow = await this.onIt(() => opts.keepItemsNow!());
    this.keptNow.push(keptNow);
    if (this.failTogether) throw new Error('one of the roles is not managed');
    return keptNow.map((kept) => ({ loginDisabled: kept.length === 0, sessionsTerminated: 2 }));
  }

  /** Lets the oldest waiting call answer. */
  release(): void {
    this.held.shift()?.();
  }

  get waiting(): number {
    return this.held.length;
  }

  private async onIt<T>(read: () => Promise<T>): Promise<T> {
    this.onTarget += 1;
    this.mostOnTarget = Math.max(this.mostOnTarget, this.onTarget);
    try {
      const value = await read();
      if (!this.open) await new Promise<void>((resolve) => this.held.push(resolve));
      return value;
    } finally {
      this.onTarget -= 1;
    }
  }
}

function setup() {
  const target = new FakeTarget();
  const held: HeldItemsReader = {
    // The person of `lk_keeper` holds another grant; nobody else does.
    heldItems: async (_integrationId, roleName) => (roleName === 'lk_keeper' ? [KEPT] : []),
    heldItemsOfEach: async (_integrationId, grants) => grants.map((g) => (g.roleName === 'lk_keeper' ? [KEPT] : [])),
  };
  return { target, revocations: new TargetRevocations(target, held, createLogger('provisioning', 'silent')) };
}

describe('TargetRevocations', () => {
  it('revokes a lone grant by itself, its other grants read again under the lock', async () => {
    const { target, revocations } = setup();
    await expect(revocations.revoke(TARGET, grant('keeper'), [])).resolves.toEqual({ loginDisabled: false, sessionsTerminated: 1 });
    expect(target.together).toHaveLength(0);
    expect(target.alone).toEqual([{ role: 'lk_keeper', items: [ITEM], keepItems: [], keepItemsNow: expect.any(Function) }]);
  });

  it('revokes the grants due in the same turn in one transaction, each answered with its own result', async () => {
    const { target, revocations } = setup();
    const answers = await Promise.all([
      revocations.revoke(TARGET, grant('a'), []),
      revocations.revoke(TARGET, grant('keeper'), [KEPT]),
      revocations.revoke(TARGET, grant('c'), []),
    ]);
    expect(target.alone).toHaveLength(0);
    expect(target.together).toHaveLength(1);
    expect(target.together[0]!.grants).toEqual([
      { role: 'lk_a', items: [ITEM], keepItems: [] },
      { role: 'lk_keeper', items: [ITEM], keepItems: [KEPT] },
      { role: 'lk_c', items: [ITEM], keepItems: [] },
    ]);
    // The other grants were read again, once for all three, in their order.
    expect(target.keptNow).toEqual([[[], [KEPT], []]]);
    expect(answers).toEqual([
      { loginDisabled: true, sessionsTerminated: 2 },
      { loginDisabled: false, sessionsTerminated: 2 },
      { loginDisabled: true, sessionsTerminated: 2 },
    ]);
  });

  it('never puts two grants of the same role in one transaction, nor grants of two integrations', async () => {
    const { target, revocations } = setup();
    await Promise.all([
      revocations.revoke(TARGET, grant('a'), []),
      revocations.revoke(TARGET, grant('a2', { roleName: 'lk_a' }), []),
      revocations.revoke(TARGET, grant('b'), []),
      revocations.revoke(TARGET, grant('x', { integrationId: 'integration-2' }), []),
    ]);
    expect(target.together.map((c) => c.grants.map((g) => g.role))).toEqual([['lk_a', 'lk_b']]);
    // The second grant of lk_a went after the first, by itself; the other integration's beside them.
    expect(target.alone.map((c) => c.role).sort()).toEqual(['lk_a', 'lk_x']);
  });

  it('runs each grant of a failed transaction again by itself: each gets its own answer or error', async () => {
    const { target, revocations } = setup();
    target.failTogether = true;
    target.refuse.add('lk_bad');
    const answers = await Promise.allSettled([
      revocations.revoke(TARGET, grant('a'), []),
      revocations.revoke(TARGET, grant('bad'), []),
      revocations.revoke(TARGET, grant('c'), []),
    ]);
    expect(target.together).toHaveLength(1);
    expect(target.alone.map((c) => c.role).sort()).toEqual(['lk_a', 'lk_bad', 'lk_c']);
    expect(answers).toEqual([
      { status: 'fulfilled', value: { loginDisabled: true, sessionsTerminated: 1 } },
      { status: 'rejected', reason: new Error('role lk_bad is not managed') },
      { status: 'fulfilled', value: { loginDisabled: true, sessionsTerminated: 1 } },
    ]);
  });

  it('keeps one transaction on the target while it is quick; what comes meanwhile goes together after it', async () => {
    const { target, revocations } = setup();
    target.open = false;
    const first = revocations.revoke(TARGET, grant('first'), []);
    await turns();
    const later = Array.from({ length: TARGET_BATCH_MAX + 3 }, (_, i) => revocations.revoke(TARGET, grant(`later${i}`), []));
    await turns();
    // Nothing more reaches the target while the first transaction is under way and not slow.
    expect(target.alone.map((c) => c.role)).toEqual(['lk_first']);
    expect(target.together).toHaveLength(0);
    target.release();
    await turns();
    expect(target.together.map((c) => c.grants.length)).toEqual([TARGET_BATCH_MAX]);
    target.release();
    await turns();
    expect(target.together.map((c) => c.grants.length)).toEqual([TARGET_BATCH_MAX, 3]);
    target.release();
    await expect(Promise.all([first, ...later])).resolves.toHaveLength(TARGET_BATCH_MAX + 4);
    expect(target.mostOnTarget).toBe(1);
  });

  it(`starts another transaction beside those that have run ${SLOW_TRANSACTION_MS} ms, ${MAX_TRANSACTIONS_AT_ONCE} at most`, async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const { target, revocations } = setup();
      target.open = false;
      const answers = [revocations.revoke(TARGET, grant('stuck'), [])];
      await turns();
      let n = 0;
      const more = () => answers.push(revocations.revoke(TARGET, grant(`next${(n += 1)}`), []));
      more();
      await turns();
      jest.advanceTimersByTime(SLOW_TRANSACTION_MS - 1);
      await turns();
      expect(target.waiting).toBe(1);
      jest.advanceTimersByTime(1);
      await turns();
      // The first has run SLOW_TRANSACTION_MS: the waiting revocation starts beside it.
      expect(target.waiting).toBe(2);
      for (let i = 0; i < MAX_TRANSACTIONS_AT_ONCE; i += 1) {
        more();
        await turns();
        jest.advanceTimersByTime(SLOW_TRANSACTION_MS);
        await turns();
      }
      expect(target.waiting).toBe(MAX_TRANSACTIONS_AT_ONCE);
      expect(target.mostOnTarget).toBe(MAX_TRANSACTIONS_AT_ONCE);
      target.open = true;
      while (target.waiting > 0) {
        target.release();
        await turns();
      }
      await expect(Promise.all(answers)).resolves.toHaveLength(MAX_TRANSACTIONS_AT_ONCE + 2);
      expect(target.mostOnTarget).toBe(MAX_TRANSACTIONS_AT_ONCE);
    } finally {
      jest.useRealTimers();
    }
  });
});

/** A few turns of the event loop: what a release or a new revocation starts has reached the target. */
async function turns(): Promise<void> {
  for (let i = 0; i < 4; i += 1) await nextTurn();
}
