import { Contracts } from '@latchkey/contracts';
import { ConnectorClient } from '@latchkey/messaging';
import type { AppLogger, MessageBus, ServiceInfo } from '@latchkey/messaging';
import type { ResourcesRepository } from '../resources/resources.repository';
import type { RefreshQueue } from './refresh.queue';
import type { RefreshService } from './refresh.service';
import { RefreshTriggers } from './refresh-triggers.service';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function setup(catalogPages: Array<{ items: Array<{ id: string; connectorId: string }>; nextPageToken?: string }> = []) {
  const requests: Array<{ subject: string; payload: unknown; connectorId?: string }> = [];
  const bus = {
    request: jest.fn(async (contract: { subject: string }, payload: { pageToken?: string }, options?: { connectorId?: string }) => {
      requests.push({ subject: contract.subject, payload, connectorId: options?.connectorId });
      if (contract.subject === Contracts.catalogIntegrationsList.subject) return catalogPages[payload.pageToken ? Number(payload.pageToken) : 0];
      return { jobId: 'refresh-integration-x', queued: true };
    }),
  };
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
  };
  const refreshes = { forget: jest.fn(async () => undefined) };
  const resources = { inventoried: jest.fn(async () => [] as string[]) };
  const info: ServiceInfo = { service: 'discovery', version: '1.3.0', instanceId: 'i-1', startedAt: 0, connectorId: 'local' };
  const logger = { info: jest.fn(), warn: jest.fn() };
  const messageBus = bus as unknown as MessageBus;
  const triggers = new RefreshTriggers(
    queue as unknown as RefreshQueue,
    refreshes as unknown as RefreshService,
    resources as unknown as ResourcesRepository,
    messageBus,
    new ConnectorClient(messageBus),
    info,
    logger as unknown as AppLogger,
  );
  return { triggers, bus, requests, queue, schedules, refreshes, resources, logger };
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
    s.bus.request.mockRejectedValueOnce(new Error('no responders'));
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
