import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GrantItem } from '@latchkey/contracts';
import { createLogger } from '@latchkey/messaging';
import type { RevokeGrantOptions, RevokeGrantResult, RevokeGrantsOptions, TargetConnectionParams } from '@latchkey/pg-access';
import { GrantEntity } from '../store/grant.entity';
import type { ResolvedTarget } from '../target/target-resolver';
import { type HeldItemsReader, type RevokeOnTarget, TARGET_BATCH_MAX, TARGET_BATCHES_AT_ONCE, TargetRevocations } from './target-revocations';

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
    const calls = [...target.together.map((c) => c.grants.map((g) => g.role)), ...target.alone.map((c) => [c.role])];
    expect(calls).toEqual([['lk_a', 'lk_b'], ['lk_a'], ['lk_x']]);
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

  it(`keeps at most ${TARGET_BATCHES_AT_ONCE} transactions on the target; what comes meanwhile goes together, ${TARGET_BATCH_MAX} at most`, async () => {
    const { target, revocations } = setup();
    target.open = false;
    const answers: Array<Promise<RevokeGrantResult>> = [];
    // Each in its own turn: each starts alone until the limit is reached.
    for (let i = 0; i < TARGET_BATCHES_AT_ONCE; i += 1) {
      answers.push(revocations.revoke(TARGET, grant(`first${i}`), []));
      await nextTurn();
      await nextTurn();
    }
    expect(target.alone).toHaveLength(TARGET_BATCHES_AT_ONCE);
    const later = TARGET_BATCH_MAX + 3;
    for (let i = 0; i < later; i += 1) answers.push(revocations.revoke(TARGET, grant(`later${i}`), []));
    await nextTurn();
    await nextTurn();
    // Nothing more reaches the target until one of those answers.
    expect(target.together).toHaveLength(0);
    expect(target.waiting).toBe(TARGET_BATCHES_AT_ONCE);
    target.release();
    await nextTurn();
    await nextTurn();
    expect(target.together.map((c) => c.grants.length)).toEqual([TARGET_BATCH_MAX]);
    target.release();
    await nextTurn();
    await nextTurn();
    expect(target.together.map((c) => c.grants.length)).toEqual([TARGET_BATCH_MAX, 3]);
    target.open = true;
    while (target.waiting > 0) target.release();
    const results = await Promise.all(answers);
    expect(results).toHaveLength(TARGET_BATCHES_AT_ONCE + later);
    expect(target.mostOnTarget).toBe(TARGET_BATCHES_AT_ONCE);
  });
});
