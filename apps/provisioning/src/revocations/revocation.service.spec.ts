import { Contracts, type GrantItem } from '@latchkey/contracts';
import { revokeGrant } from '@latchkey/pg-access';
import type { AppLogger, MessageBus } from '@latchkey/messaging';
import { GrantEntity } from '../store/grant.entity';
import type { GrantsRepository } from '../store/grants.repository';
import type { TargetResolver } from '../target/target-resolver';
import type { RevocationMetrics } from './revocation.metrics';
import { RevocationService } from './revocation.service';

jest.mock('@latchkey/pg-access', () => ({ revokeGrant: jest.fn() }));
const revoke = revokeGrant as jest.MockedFunction<typeof revokeGrant>;

const ITEM = { resourceType: 'postgresql-table', database: 'd', schema: 's', table: 't', permission: 'READ_ONLY' } as const;

function grant(id: string, fields: Partial<GrantEntity> = {}): GrantEntity {
  return Object.assign(new GrantEntity(), {
    id,
    idempotencyKey: `k-${id}`,
    integrationId: 'integration-1',
    connectorId: 'local',
    identityId: `person-${id}`,
    identityEmail: `${id}@example.com`,
    roleName: `lk_${id}`,
    items: [ITEM],
    connectionLimit: -1,
    status: 'REVOKING',
    endReason: 'EXPIRED',
    revokedBy: null,
    expiresAt: new Date(Date.now() - 1000),
    createdAt: new Date(),
    grantedAt: new Date(),
    endedAt: null,
    attempts: 0,
    lastError: null,
    passwordEnvelope: null,
    updatedAt: new Date(),
    ...fields,
  });
}

function setup() {
  const grants = {
    claimExpired: jest.fn(async (id: string): Promise<{ grant: GrantEntity; heldItems: GrantItem[] } | null> => ({ grant: grant(id), heldItems: [] })),
    findById: jest.fn(),
    transition: jest.fn(),
    heldItems: jest.fn(async (): Promise<GrantItem[]> => []),
    // As the SQL does: the end is the one its revocation started with.
    endRevocation: jest.fn(async (g: GrantEntity, endedAt: Date) => grant(g.id, { status: g.endReason === 'REVOKED' ? 'REVOKED' : 'EXPIRED', endedAt })),
    recordFailure: jest.fn(async (id: string, error: string) => grant(id, { attempts: 1, lastError: error })),
  };
  const targets = { resolve: jest.fn(async () => ({ params: { hostname: 'h' }, config: {} })) };
  const bus = { publish: jest.fn(async () => undefined) };
  const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  const metrics = { attempted: jest.fn(), succeeded: jest.fn(), failed: jest.fn() };
  const service = new RevocationService(grants as unknown as GrantsRepository, targets as unknown as TargetResolver, bus as unknown as MessageBus, logger as unknown as AppLogger, metrics as unknown as RevocationMetrics);
  return { service, grants, targets, bus };
}

beforeEach(() => {
  revoke.mockReset();
  revoke.mockResolvedValue({ loginDisabled: true, sessionsTerminated: 0 });
});

describe('RevocationService', () => {
  it('claims a due grant with the items to keep in one call, ends it, and publishes grant.ended before it answers', async () => {
    const { service, grants, bus } = setup();
    grants.claimExpired.mockResolvedValueOnce({ grant: grant('a'), heldItems: [{ ...ITEM, table: 'other' }] });
    const ended = await service.run('a', { throwOnFailure: true });
    expect(ended.status).toBe('EXPIRED');
    expect(grants.findById).not.toHaveBeenCalled();
    expect(grants.heldItems).not.toHaveBeenCalled();
    expect(revoke).toHaveBeenCalledWith({ hostname: 'h' }, { role: 'lk_a', items: [ITEM], keepItems: [{ ...ITEM, table: 'other' }], keepItemsNow: expect.any(Function) });
    expect(grants.endRevocation).toHaveBeenCalledWith(expect.objectContaining({ id: 'a' }), expect.any(Date));
    expect(bus.publish).toHaveBeenCalledWith(Contracts.provisioningGrantEnded, { grant: expect.objectContaining({ id: 'a', status: 'EXPIRED' }) });
  });

  it('falls back to reading the grant when it cannot be claimed: not yet due, already ended, or revoked early', async () => {
    const { service, grants } = setup();
    grants.claimExpired.mockResolvedValue(null);
    grants.findById.mockResolvedValueOnce(grant('later', { status: 'ACTIVE', expiresAt: new Date(Date.now() + 60_000) }));
    await expect(service.run('later', { throwOnFailure: true })).resolves.toMatchObject({ status: 'ACTIVE' });
    grants.findById.mockResolvedValueOnce(grant('done', { status: 'EXPIRED' }));
    await expect(service.run('done', { throwOnFailure: true })).resolves.toMatchObject({ status: 'EXPIRED' });
    expect(revoke).not.toHaveBeenCalled();

    grants.findById.mockResolvedValueOnce(grant('early', { status: 'REVOKING', endReason: 'REVOKED' }));
    await expect(service.run('early', { throwOnFailure: true })).resolves.toMatchObject({ status: 'REVOKED' });
    expect(grants.heldItems).toHaveBeenCalledWith('integration-1', 'lk_early', 'early');
  });

  it('publishes each grant.ended before it answers, and resolves the target once for revocations close together', async () => {
    const { service, targets, bus } = setup();
    let publishedBeforeAnswer = 0;
    await Promise.all(
      ['a', 'b', 'c'].map(async (id) => {
        await service.run(id, { throwOnFailure: true });
        publishedBeforeAnswer += bus.publish.mock.calls.some((call) => (call as unknown as [unknown, { grant: { id: string } }])[1].grant.id === id) ? 1 : 0;
      }),
    );
    expect(publishedBeforeAnswer).toBe(3);
    expect(bus.publish).toHaveBeenCalledTimes(3);
    expect(targets.resolve).toHaveBeenCalledTimes(1);
  });

  it('records a failure, resolves the target afresh for the retry, and throws so the queue retries', async () => {
    const { service, grants, targets } = setup();
    revoke.mockRejectedValueOnce(new Error('password authentication failed'));
    await expect(service.run('a', { throwOnFailure: true })).rejects.toThrow('password authentication failed');
    expect(grants.recordFailure).toHaveBeenCalledWith('a', 'password authentication failed');
    expect(grants.endRevocation).not.toHaveBeenCalled();
    await service.run('b', { throwOnFailure: true });
    expect(targets.resolve).toHaveBeenCalledTimes(2);
  });
});
