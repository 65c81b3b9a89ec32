import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { AppException, Contracts, ErrorCode } from '@latchkey/contracts';
import type { EventContract, RequestContract } from '@latchkey/contracts';
import { createLogger } from '@latchkey/messaging';
import type { RequestOptions, ServiceInfo } from '@latchkey/messaging';
import { TargetConnectionError } from '@latchkey/pg-access';
import type { DiscoveredObject } from '@latchkey/pg-access';
import { MasterKey, toSecretRef } from '@latchkey/secrets';
import { resourceId } from '../resources/resource-id';
import type { ResourceRow } from '../resources/resources.repository';
import { RefreshService } from './refresh.service';
import type { CatalogBus, InstanceReader, Inventory, InventoryWrite, RefreshSchedules } from './refresh.service';

const integrationId = '3b241101-e2bb-4255-8caf-4136c566a962';
const masterKey = new MasterKey([randomBytes(32)]);
const target = (connectorId = 'local') => ({
  connectorId,
  status: 'ACTIVE' as const,
  connectedResourceTypes: ['postgresql-table' as const, 'postgresql-role' as const],
  target: {
    integrationId,
    type: 'postgresql',
    config: { hostname: 'db.internal', port: 5432, dbname: 'app', sslmode: 'require' },
    secret: toSecretRef({ store: 'builtin', username: 'latchkey', password: 's3cret' }, masterKey),
  },
});

/** The catalog answers every request with `answer` (checked against the contract, as the real bus does); events are kept. */
class FakeBus implements CatalogBus {
  readonly published: Array<{ subject: string; payload: unknown }> = [];
  constructor(private readonly answer: () => Promise<unknown>) {}

  async request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    _payload: z.input<Req>,
    _options?: RequestOptions,
  ): Promise<z.output<Res>> {
    return contract.response.parse(await this.answer());
  }

  async publish<P extends z.ZodType>(contract: EventContract<P>, payload: z.input<P>): Promise<void> {
    this.published.push({ subject: contract.subject, payload });
  }
}

type Discover = InstanceReader['discoverInstance'];

function setup(answer: () => Promise<unknown>, opts: { masterKey?: boolean } = {}) {
  const bus = new FakeBus(answer);
  const written: ResourceRow[][] = [];
  const writer = {
    write: jest.fn(async (rows: ResourceRow[]) => {
      written.push(rows);
    }),
    commit: jest.fn(async () => ({ added: 2, updated: 1, removed: 3, total: 9 })),
    abort: jest.fn(async () => undefined),
  } satisfies InventoryWrite;
  const resources = {
    beginRefresh: jest.fn(async () => writer),
    recordFailure: jest.fn(async () => undefined),
    removeInventory: jest.fn(async () => 4),
    refreshStatistics: jest.fn(async () => false),
  } satisfies Inventory;
  const queue = { unschedule: jest.fn(async () => undefined) } satisfies RefreshSchedules;
  const discover = jest.fn<ReturnType<Discover>, Parameters<Discover>>();
  const info: ServiceInfo = { service: 'discovery', version: '1.3.0', instanceId: 'i-1', startedAt: 0, connectorId: 'local' };
  const service = new RefreshService(
    bus,
    resources,
    queue,
    { discoverInstance: discover },
    info,
    createLogger('discovery', 'silent'),
    opts.masterKey === false ? undefined : masterKey,
  );
  return { service, bus, writer, written, resources, queue, published: bus.published, discover };
}

const table: DiscoveredObject = {
  kind: 'table',
  database: 'app',
  schema: 'billing',
  name: 'invoices',
  owner: 'app',
  comment: 'Bills.\nlatchkey:owner=payments',
  managed: false,
  unrequestableReason: null,
};
const role: DiscoveredObject = {
  kind: 'role',
  name: 'lk_alice_0123',
  owner: null,
  comment: null,
  managed: true,
  unrequestableReason: '"lk_alice_0123" is one of Latchkey\'s own roles',
};

describe('RefreshService.refresh', () => {
  it("reads the instance with the integration's kinds and credentials, writes rows, commits, and announces the diff", async () => {
    const s = setup(async () => target());
    s.discover.mockImplementation(async (_params, _options, sink) => {
      await sink([table, role]);
      return { databasesRead: ['app'], skipped: [{ database: 'locked', reason: 'no CONNECT' }] };
    });

    const result = await s.service.refresh(integrationId);

    expect(result).toEqual({
      status: 'succeeded',
      counts: { added: 2, updated: 1, removed: 3, total: 9 },
      ms: expect.any(Number),
      skippedDatabases: ['locked'],
    });
    const [params, options] = s.discover.mock.calls[0];
    expect(params).toMatchObject({
      hostname: 'db.internal',
      port: 5432,
      dbname: 'app',
      sslmode: 'require',
      username: 'latchkey',
      password: 's3cret',
      applicationName: 'latchkey-discovery',
    });
    expect([...options.kinds].sort()).toEqual(['foreign_table', 'materialized_view', 'partitioned_table', 'role', 'sequence', 'table', 'view']);
    expect(s.written).toEqual([
      [
        {
          id: resourceId({ integrationId, kind: 'table', database: 'app', schema: 'billing', name: 'invoices' }),
          kind: 'table',
          type: 'postgresql-table',
          database: 'app',
          schema: 'billing',
          name: 'invoices',
          path: 'app/billing/invoices',
          owner: 'app',
          comment: 'Bills.\nlatchkey:owner=payments',
          commentTags: { owner: 'payments' },
          managed: false,
          unrequestableReason: null,
        },
        expect.objectContaining({
          kind: 'role',
          type: 'postgresql-role',
          database: null,
          schema: null,
          path: 'lk_alice_0123',
          managed: true,
          unrequestableReason: role.unrequestableReason,
        }),
      ],
    ]);
    expect(s.writer.commit).toHaveBeenCalledWith({ connectorId: 'local', skippedDatabases: ['locked'], ms: expect.any(Number) });
    expect(s.published).toEqual([
      { subject: Contracts.discoveryRefreshStarted.subject, payload: { integrationId } },
      { subject: Contracts.discoveryResourcesChanged.subject, payload: { integrationId, added: 2, updated: 1, removed: 3, total: 9, ms: expect.any(Number) } },
    ]);
  });

  it('keeps the last inventory when the instance cannot be reached: rolled back, recorded, announced', async () => {
    const s = setup(async () => target());
    s.discover.mockRejectedValue(
      new TargetConnectionError(
        'unreachable',
        'Cannot connect to db.internal:5432 with sslmode=require: cannot reach db.internal:5432 (ECONNREFUSED). Fix: check the port.',
        'check the port',
      ),
    );

    const result = await s.service.refresh(integrationId);

    expect(result).toEqual({ status: 'failed', reason: expect.stringContaining('cannot reach db.internal:5432') });
    expect(s.writer.abort).toHaveBeenCalled();
    expect(s.writer.commit).not.toHaveBeenCalled();
    expect(s.resources.recordFailure).toHaveBeenCalledWith(integrationId, 'local', expect.stringContaining('ECONNREFUSED'));
    expect(s.published.map((p) => p.subject)).toEqual([Contracts.discoveryRefreshStarted.subject, Contracts.discoveryRefreshFailed.subject]);
    expect(s.published[1].payload).toEqual({ integrationId, reason: expect.stringContaining('cannot reach') });
  });

  it('reports a secret it cannot open as the reason, without reading the instance', async () => {
    const s = setup(async () => target(), { masterKey: false });
    const result = await s.service.refresh(integrationId);
    expect(result).toEqual({ status: 'failed', reason: expect.stringMatching(/^secret: .*LATCHKEY_MASTER_KEY/) });
    expect(s.discover).not.toHaveBeenCalled();
    expect(s.writer.abort).toHaveBeenCalled();
  });

  it('rethrows failures of its own (the control database) for the queue to retry, announcing no failure', async () => {
    const s = setup(async () => target());
    const controlDown = new Error('connection to the control database lost');
    s.discover.mockRejectedValue(controlDown);
    await expect(s.service.refresh(integrationId)).rejects.toBe(controlDown);
    expect(s.writer.abort).toHaveBeenCalled();
    expect(s.resources.recordFailure).not.toHaveBeenCalled();
    expect(s.published.map((p) => p.subject)).toEqual([Contracts.discoveryRefreshStarted.subject]);
  });

  it('removes the inventory and schedule of an integration the catalog no longer knows', async () => {
    const s = setup(async () => {
      throw new AppException(ErrorCode.NotFound, 'No integration.');
    });
    expect(await s.service.refresh(integrationId)).toEqual({ status: 'removed' });
    expect(s.resources.removeInventory).toHaveBeenCalledWith(integrationId);
    expect(s.queue.unschedule).toHaveBeenCalledWith(integrationId);
    expect(s.resources.beginRefresh).not.toHaveBeenCalled();
    expect(s.published).toEqual([]);
  });

  it('drops its schedule for an integration that moved to another connector', async () => {
    const s = setup(async () => target('eu-west'));
    expect(await s.service.refresh(integrationId)).toEqual({ status: 'elsewhere', connectorId: 'eu-west' });
    expect(s.queue.unschedule).toHaveBeenCalledWith(integrationId);
    expect(s.resources.beginRefresh).not.toHaveBeenCalled();
    expect(s.published).toEqual([]);
  });

  it('lets an unavailable catalog fail the job (retried), touching nothing', async () => {
    const s = setup(async () => {
      throw new AppException(ErrorCode.ServiceUnavailable, 'No service is serving catalog.integrations.target.');
    });
    await expect(s.service.refresh(integrationId)).rejects.toThrow(/No service/);
    expect(s.resources.removeInventory).not.toHaveBeenCalled();
    expect(s.resources.beginRefresh).not.toHaveBeenCalled();
  });
});
