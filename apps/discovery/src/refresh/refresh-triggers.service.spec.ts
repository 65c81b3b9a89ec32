import type { z } from 'zod';
import { Contracts } from '@latchkey/contracts';
import type { Integration, RequestContract } from '@latchkey/contracts';
import { ConnectorClient } from '@latchkey/messaging';
import type { RequestOptions, RequestSender, ServiceInfo } from '@latchkey/messaging';
import { RefreshTriggers, type InventoryAndAudit, type RefreshJobs, type Refreshes, type TriggersLog } from './refresh-triggers.service';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

type CatalogPage = { items: Array<{ id: string; connectorId: string }>; nextPageToken?: string };

/** An integration as the catalog lists it: the triggers read only its id and its connector. */
const listed = ({ id, connectorId }: { id: string; connectorId: string }): Integration => ({
  id,
  name: 'shop',
  type: 'postgresql',
  connectorId,
  connectedResourceTypes: ['postgresql-table'],
  config: {},
  secret: { store: 'builtin' },
  credentialRotationDays: null,
  customAccessDetails: null,
  integrationOwners: [],
  resourceOwnerMappings: [],
  managedBy: null,
  status: 'ACTIVE',
  statusReason: null,
  lastTest: null,
  rotation: { lastRotatedAt: null, nextDueAt: null, lastAttemptAt: null, lastResult: null, lastError: null, pending: false },
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});

/**
 * The catalog answers with its pages (the page token is the page's index), every connector but the
 * silent ones answers a refresh with a queued job (checked against the contract, as the real bus
 * does); every request is kept.
 */
class FakeBus implements RequestSender {
  readonly requests: Array<{ subject: string; payload: unknown; connectorId?: string }> = [];
  readonly silent = new Set<string>();
  constructor(private readonly catalogPages: CatalogPage[]) {}

  async request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    payload: z.input<Req>,
    options?: RequestOptions,
  ): Promise<z.output<Res>> {
    this.requests.push({ subject: contract.subject, payload, connectorId: options?.connectorId });
    if (contract.subject === Contracts.catalogIntegrationsList.subject) {
      const { pageToken } = Contracts.catalogIntegrationsList.request.parse(payload);
      const page = this.catalogPages[pageToken ? Number(pageToken) : 0];
      return contract.response.parse({ ...page, items: page.items.map(listed) });
    }
    if (options?.connectorId && this.silent.has(options.connectorId)) throw new Error('no responders');
    return contract.response.parse({ jobId: 'refresh-integration-x', queued: true });
  }
}

function setup(catalogPages: CatalogPage[] = []) {
  const bus = new FakeBus(catalogPages);
  const schedules = new Set<string>();
  const queue = {
    ensureSchedule: jest.fn(async (integrationId: string) => {
      const created = !schedules.has(integrationId);
      schedules.add(integrationId);
      return created;
    }),
    enqueue: jest.fn(async (integrationId: string) => ({ jobId: `refresh-integration-${integrationId}`, queued: true })),
    unschedule: jest.fn(async (integrationId: string) => {
      schedules.delete(integrationId);
    }),
    scheduled: jest.fn(async () => [...schedules]),
  } satisfies RefreshJobs;
  const refreshes = { forget: jest.fn(async (_integrationId: string) => undefined) } satisfies Refreshes;
  const resources = {
    inventoried: jest.fn(async (): Promise<string[]> => []),
    audit: jest.fn(async () => undefined),
  } satisfies InventoryAndAudit;
  const info: ServiceInfo = { service: 'discovery', version: '1.3.0', instanceId: 'i-1', startedAt: 0, connectorId: 'local' };
  const logger = { info: jest.fn(), warn: jest.fn() } satisfies TriggersLog;
  const triggers = new RefreshTriggers(queue, refreshes, resources, bus, new ConnectorClient(bus), info, logger);
  return { triggers, bus, requests: bus.requests, queue, schedules, refreshes, resources, logger };
}

describe('RefreshTriggers', () => {
  it('refreshes an integration of this connector now and keeps it on schedule', async () => {
    const s = setup();
    await s.triggers.onIntegrationChanged({ integrationId: id(1), connectorId: 'local', change: 'created', connectedResourceTypes: ['postgresql-table'] });
    expect(s.queue.ensureSchedule).toHaveBeenCalledWith(id(1));
    expect(s.queue.enqueue).toHaveBeenCalledWith(id(1));
    expect(s.requests).toEqual([]);
  });

  it('hands an integration of another connector to that connector, dropping a schedule of its own', async () => {
    const s = setup();
    s.schedules.add(id(2));
    await s.triggers.onIntegrationChanged({ integrationId: id(2), connectorId: 'eu-west', change: 'updated', connectedResourceTypes: ['postgresql-table'] });
    expect(s.requests).toEqual([{ subject: Contracts.discoveryRefreshRequest.subject, payload: { integrationId: id(2) }, connectorId: 'eu-west' }]);
    expect(s.schedules.has(id(2))).toBe(false);
    expect(s.queue.enqueue).not.toHaveBeenCalled();
  });

  it('logs, and does not throw, when the other connector does not answer', async () => {
    const s = setup();
    s.bus.silent.add('eu-west');
    await s.triggers.onIntegrationChanged({ integrationId: id(2), connectorId: 'eu-west', change: 'created', connectedResourceTypes: ['postgresql-table'] });
    expect(s.logger.warn).toHaveBeenCalled();
  });

  it('forgets a deleted integration', async () => {
    const s = setup();
    await s.triggers.onIntegrationChanged({ integrationId: id(3), connectorId: 'local', change: 'deleted', connectedResourceTypes: [] });
    expect(s.refreshes.forget).toHaveBeenCalledWith(id(3));
    expect(s.queue.enqueue).not.toHaveBeenCalled();
  });

  it('reconciles with every page of the catalog: schedules its own, refreshes the unscheduled now, drops the rest', async () => {
    const s = setup([
      {
        items: [
          { id: id(1), connectorId: 'local' },
          { id: id(2), connectorId: 'eu-west' },
        ],
        nextPageToken: '1',
      },
      { items: [{ id: id(3), connectorId: 'local' }] },
    ]);
    s.schedules.add(id(3)); // survived in Redis
    s.schedules.add(id(2)); // moved to eu-west
    s.schedules.add(id(9)); // deleted while this service was down
    s.resources.inventoried.mockResolvedValue([id(1), id(9)]);

    await s.triggers.reconcile();

    expect([...s.schedules].sort()).toEqual([id(1), id(3)]);
    expect(s.queue.enqueue.mock.calls).toEqual([[id(1)]]);
    expect(s.refreshes.forget.mock.calls).toEqual([[id(9)]]);
    expect(s.requests.filter((r) => r.subject === Contracts.catalogIntegrationsList.subject).map((r) => r.payload)).toEqual([
      { pageSize: 500 },
      { pageSize: 500, pageToken: '1' },
    ]);
  });
});
