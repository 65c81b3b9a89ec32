import { createLogger } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import { GrantEntity } from '../store/grant.entity';
import { Sweeper } from './sweeper';
import type { SweepQueue, SweepRevocations, SweepRows } from './sweeper';

const SETTINGS = { intervalSeconds: 15, overdueSeconds: 60, grantingTimeoutSeconds: 120, roleCleanupAfterSeconds: 604_800 };
const INFO: ServiceInfo = { service: 'provisioning', version: 'test', instanceId: 'i-1', startedAt: Date.now(), connectorId: 'local' };

/** A grant still ACTIVE `secondsAgo` past its expiry, as the sweeper's work list answers it. */
function due(id: string, secondsAgo: number): GrantEntity {
  return Object.assign(new GrantEntity(), { id, status: 'ACTIVE', expiresAt: new Date(Date.now() - secondsAgo * 1000) });
}

function setup(dueGrants: GrantEntity[], queueAnswers: (ids: string[]) => boolean = () => true) {
  const ensured: string[][] = [];
  const revoked: string[] = [];
  const grants = {
    withSweepLock: async <T>(_connectorId: string, work: () => Promise<T>) => ({ taken: true as const, value: await work() }),
    dueForRevocation: async () => dueGrants,
    staleGranting: async () => [],
    transition: async () => null,
    recordFailure: async () => null,
    rolesToClean: async () => [],
    setRoleState: async () => undefined,
  } satisfies SweepRows;
  const queue = {
    ensureWithin: async (ids: string[]) => {
      ensured.push(ids);
      return queueAnswers(ids);
    },
    cancel: async () => undefined,
  } satisfies SweepQueue;
  const revocations = {
    run: async (id: string) => {
      revoked.push(id);
      return Object.assign(new GrantEntity(), { id, status: 'EXPIRED' });
    },
    undo: async () => undefined,
  } satisfies SweepRevocations;
  const unused = async () => {
    throw new Error('not expected in this test');
  };
  const sweeper = new Sweeper(
    grants,
    queue,
    revocations,
    { resolve: unused },
    { dropPersonalRole: unused },
    SETTINGS,
    INFO,
    createLogger('provisioning', 'silent'),
  );
  return { sweeper, ensured, revoked };
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('Sweeper', () => {
  it("ensures the due grants' jobs 500 to a round trip and revokes none itself while Redis takes them", async () => {
    const { sweeper, ensured, revoked } = setup(ids('g', 1_200).map((id) => due(id, 1)));
    await expect(sweeper.sweep()).resolves.toEqual({ revocations: 1_200, rolledBack: 0, cleaned: 0 });
    expect(ensured.map((batch) => batch.length)).toEqual([500, 500, 200]);
    expect(ensured.flat()).toEqual(ids('g', 1_200));
    expect(revoked).toEqual([]);
  });

  it('revokes a grant past REVOCATION_OVERDUE_SECONDS itself, without asking the queue for it', async () => {
    const { sweeper, ensured, revoked } = setup([due('fresh', 1), due('overdue', 61), due('fresh2', 2)]);
    await sweeper.sweep();
    expect(ensured).toEqual([['fresh', 'fresh2']]);
    expect(revoked).toEqual(['overdue']);
  });

  it('once Redis does not take a batch in time, revokes that batch and every later one itself, asking Redis no more', async () => {
    let calls = 0;
    const { sweeper, ensured, revoked } = setup(
      ids('g', 1_200).map((id) => due(id, 1)),
      () => ++calls === 1,
    );
    await sweeper.sweep();
    expect(ensured.map((batch) => batch.length)).toEqual([500, 500]);
    expect(revoked).toEqual(ids('g', 1_200).slice(500));
  });
});
