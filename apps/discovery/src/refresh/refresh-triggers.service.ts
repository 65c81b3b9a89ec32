import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import type { Actor, PayloadOf } from '@latchkey/contracts';
import { ConnectorClient, LOGGER, MessageBus, RetryUntilDone, SERVICE_INFO } from '@latchkey/messaging';
import type { AppLogger, RequestSender, ServiceInfo } from '@latchkey/messaging';
import { ResourcesRepository } from '../resources/resources.repository';
import { RefreshQueue } from './refresh.queue';
import { RefreshService } from './refresh.service';

const CATALOG_PAGE_SIZE = 500;

/** What the triggers need of their neighbours, narrow so that unit tests hand-write them. */
export type RefreshJobs = Pick<RefreshQueue, 'ensureSchedule' | 'enqueue' | 'unschedule' | 'scheduled'>;
export type Refreshes = Pick<RefreshService, 'forget'>;
export type InventoryAndAudit = Pick<ResourcesRepository, 'inventoried' | 'audit'>;
export type TriggersLog = Pick<AppLogger, 'info' | 'warn'>;

/**
 * When refreshes happen: on request (API), when the catalog announces an integration, and every
 * interval through one job scheduler per integration. At start the schedules are reconciled with
 * the catalog (Redis may have lost them, and changes may have been announced while this service
 * was down), and the inventories of integrations that no longer exist are removed.
 */
@Injectable()
export class RefreshTriggers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly reconciler: RetryUntilDone;

  constructor(
    @Inject(RefreshQueue) private readonly queue: RefreshJobs,
    @Inject(RefreshService) private readonly refreshes: Refreshes,
    @Inject(ResourcesRepository) private readonly resources: InventoryAndAudit,
    @Inject(MessageBus) private readonly bus: RequestSender,
    private readonly connectors: ConnectorClient,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(LOGGER) private readonly logger: TriggersLog,
  ) {
    this.reconciler = new RetryUntilDone('reconciling refresh schedules', () => this.reconcile(), this.logger);
  }

  /** A refresh of an integration of this connector, now; it stays on schedule too. One a person asked for (`actor`) is audited. */
  async request(integrationId: string, actor?: Actor): Promise<{ jobId: string; queued: boolean }> {
    await this.queue.ensureSchedule(integrationId);
    const job = await this.queue.enqueue(integrationId);
    if (actor) {
      await this.resources.audit({ action: 'integration.refresh-requested', actor, targetType: 'integration', targetId: integrationId, details: { ...job } });
    }
    return job;
  }

  /**
   * Events reach one discovery process of any connector (one queue group): an integration of
   * another connector is handed to that connector's own subject.
   */
  async onIntegrationChanged(event: PayloadOf<typeof Contracts.catalogIntegrationChanged>): Promise<void> {
    const { integrationId, connectorId, change } = event;
    if (change === 'deleted') {
      await this.refreshes.forget(integrationId);
      return;
    }
    if (connectorId === this.info.connectorId) {
      await this.request(integrationId);
      return;
    }
    // It may have moved away from this connector.
    await this.queue.unschedule(integrationId);
    await this.connectors
      .request(Contracts.discoveryRefreshRequest, { connectorId }, { integrationId })
      .catch((err: unknown) =>
        this.logger.warn({ err, integrationId, connectorId }, "refresh not handed to the integration's connector; its schedule will catch up"),
      );
  }

  onApplicationBootstrap() {
    this.reconciler.start();
  }

  onApplicationShutdown() {
    this.reconciler.stop();
  }

  async reconcile(): Promise<void> {
    // Read before the catalog: an integration created after this read cannot be mistaken for a deleted one.
    const inventoried = await this.resources.inventoried();
    const all = new Map<string, string>();
    let pageToken: string | undefined;
    do {
      const page = await this.bus.request(Contracts.catalogIntegrationsList, { pageSize: CATALOG_PAGE_SIZE, ...(pageToken ? { pageToken } : {}) });
      for (const integration of page.items) all.set(integration.id, integration.connectorId);
      pageToken = page.nextPageToken;
    } while (pageToken && !this.reconciler.stopped);

    const mine = [...all].filter(([, connectorId]) => connectorId === this.info.connectorId).map(([id]) => id);
    let refreshedNow = 0;
    for (const id of mine) {
      if (await this.queue.ensureSchedule(id)) {
        await this.queue.enqueue(id);
        refreshedNow += 1;
      }
    }
    const unscheduled = (await this.queue.scheduled()).filter((id) => all.get(id) !== this.info.connectorId);
    for (const id of unscheduled) await this.queue.unschedule(id);
    const gone = inventoried.filter((id) => !all.has(id));
    for (const id of gone) await this.refreshes.forget(id);
    this.logger.info(
      { integrations: mine.length, refreshedNow, unscheduled: unscheduled.length, inventoriesRemoved: gone.length },
      'schedules reconciled with the catalog',
    );
  }
}
