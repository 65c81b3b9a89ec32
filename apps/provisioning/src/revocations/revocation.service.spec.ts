import { z } from 'zod';
import { Contracts, type GrantItem } from '@latchkey/contracts';
import { createLogger } from '@latchkey/messaging';
import type { TargetConnectionParams } from '@latchkey/pg-access';
import { GrantEntity } from '../store/grant.entity';
import type { ResolvedTarget } from '../target/target-resolver';
import { RevocationService } from './revocation.service';
import type { EventPublisher, RevocationCounters, RevocationRows, TargetLookup } from './revocation.service';
import type { RevokeOnTarget } from './target-revocations';

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

const PARAMS: TargetConnectionParams = { hostname: 'h', port: 5432, dbname: 'd', sslmode: 'disable', username: 'latchkey', password: 'p' };
const RESOLVED: ResolvedTarget = { params: PARAMS, config: { hostname: 'h', port: 5432, dbname: 'd', sslmode: 'disable' } };
type Revoke = RevokeOnTarget['revokeGrant'];
type RevokeMany = RevokeOnTarget['revokeGrants'];
/** Every event of a grant carries it. */
const grantIdOf = (payload: unknown) => z.object({ grant: z.object({ id: z.string() }) }).parse(payload).grant.id;

function setup() {
  const grants = {
    claimExpired: jest.fn(async (id: string): Promise<{ grant: GrantEntity; heldItems: GrantItem[] } | null> => ({ grant: grant(id), heldItems: [] })),
    findById: jest.fn(),
    transition: jest.fn(),
    heldItems: jest.fn(async (): Promise<GrantItem[]> => []),
    heldItemsOfEach: jest.fn(async (_integrationId: string, of: unknown[]): Promise<GrantItem[][]> => of.map(() => [])),
    // As the SQL does: the end is the one its revocation started with (the row's, here the grant handed in).
    endRevocation: jest.fn(async (g: Parameters<RevocationRows['endRevocation']>[0], endedAt: Date) =>
      grant(g.id, { status: 'endReason' in g && g.endReason === 'REVOKED' ? 'REVOKED' : 'EXPIRED', endedAt }),
    ),
    recordFailure: jest.fn(async (id: string, error: string) => grant(id, { attempts: 1, lastError: error })),
  } satisfies RevocationRows;
  const targets = { resolve: jest.fn(async () => RESOLVED) } satisfies TargetLookup;
  const revoke = jest.fn<ReturnType<Revoke>, Parameters<Revoke>>(async () => ({ loginDisabled: true, sessionsTerminated: 0 }));
  const revokeMany = jest.fn<ReturnType<RevokeMany>, Parameters<RevokeMany>>(async (_conn, { grants: many }) =>
    many.map(() => ({ loginDisabled: true, sessionsTerminated: 0 })),
  );
  const published: Array<{ subject: string; payload: unknown }> = [];
  const bus: EventPublisher = {
    publish: async (contract, payload) => {
      published.push({ subject: contract.subject, payload });
    },
  };
  const metrics = { attempted: jest.fn(), succeeded: jest.fn(), failed: jest.fn() } satisfies RevocationCounters;
  const service = new RevocationService(
    grants,
    targets,
    { revokeGrant: revoke, revokeGrants: revokeMany },
    bus,
    createLogger('provisioning', 'silent'),
    metrics,
  );
  return { service, grants, targets, revoke, revokeMany, published };
}

describe('RevocationService', () => {
  it('claims a due grant with the items to keep in one call, ends it, and publishes grant.ended before it answers', async () => {
    const { service, grants, revoke, published } = setup();
    grants.claimExpired.mockResolvedValueOnce({ grant: grant('a'), heldItems: [{ ...ITEM, table: 'other' }] });
    const ended = await service.run('a', { throwOnFailure: true });
    expect(ended.status).toBe('EXPIRED');
    expect(grants.findById).not.toHaveBeenCalled();
    expect(grants.heldItems).not.toHaveBeenCalled();
    expect(revoke).toHaveBeenCalledWith(PARAMS, { role: 'lk_a', items: [ITEM], keepItems: [{ ...ITEM, table: 'other' }], keepItemsNow: expect.any(Function) });
    expect(grants.endRevocation).toHaveBeenCalledWith(expect.objectContaining({ id: 'a' }), expect.any(Date));
    expect(published).toEqual([
      { subject: Contracts.provisioningGrantEnded.subject, payload: { grant: expect.objectContaining({ id: 'a', status: 'EXPIRED' }) } },
    ]);
  });

  it('falls back to reading the grant when it cannot be claimed: not yet due, already ended, or revoked early', async () => {
    const { service, grants, revoke } = setup();
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

  it('publishes each grant.ended before it answers, and resolves the target once for revocations close together, revoked together', async () => {
    const { service, targets, published, revoke, revokeMany } = setup();
    let publishedBeforeAnswer = 0;
    await Promise.all(
      ['a', 'b', 'c'].map(async (id) => {
        await service.run(id, { throwOnFailure: true });
        publishedBeforeAnswer += published.some((event) => grantIdOf(event.payload) === id) ? 1 : 0;
      }),
    );
    expect(publishedBeforeAnswer).toBe(3);
    expect(published).toHaveLength(3);
    expect(targets.resolve).toHaveBeenCalledTimes(1);
    expect(revoke).not.toHaveBeenCalled();
    expect(revokeMany).toHaveBeenCalledTimes(1);
    expect(revokeMany.mock.calls[0]![1].grants.map((g) => g.role)).toEqual(['lk_a', 'lk_b', 'lk_c']);
  });

  it('records a failure, resolves the target afresh for the retry, and throws so the queue retries', async () => {
    const { service, grants, targets, revoke } = setup();
    revoke.mockRejectedValueOnce(new Error('password authentication failed'));
    await expect(service.run('a', { throwOnFailure: true })).rejects.toThrow('password authentication failed');
    expect(grants.recordFailure).toHaveBeenCalledWith('a', 'password authentication failed');
    expect(grants.endRevocation).not.toHaveBeenCalled();
    await service.run('b', { throwOnFailure: true });
    expect(targets.resolve).toHaveBeenCalledTimes(2);
  });
});
