import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppException, Contracts, ErrorCode, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { Actor, PayloadOf, RotationRunResult, RotationTrigger } from '@latchkey/contracts';
import { ConnectorClient, LOGGER, MessageBus, Metric, RetryUntilDone, SERVICE_INFO, ServiceMetrics } from '@latchkey/messaging';
import type { AppLogger, ServiceInfo } from '@latchkey/messaging';
import { RotationQueue } from './rotation.queue';
import { RotationService } from './rotation.service';

const CATALOG_PAGE_SIZE = 500;

/**
 * When rotations happen: on request (API), and on each integration's own schedule, planned from
 * the age of its credential (the time its secret was set plus `credentialRotationDays`). A change
 * of the setting plans it again; removing it removes the schedule. At start, interrupted runs are
 * repaired and every schedule is planned again from the catalog (Redis may have lost them).
 */
@Injectable()
export class RotationSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly reconciler: RetryUntilDone;
  private readonly results;

  constructor(
    private readonly queue: RotationQueue,
    private readonly rotations: RotationService,
    private readonly bus: MessageBus,
    private readonly connectors: ConnectorClient,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(LOGGER) private readonly logger: AppLogger,
    metrics: ServiceMetrics,
  ) {
    this.results = metrics.counter(Metric.rotations);
    this.reconciler = new RetryUntilDone('reconciling rotations', () => this.reconcile(), this.logger);
  }

  /** A run, then the integration's schedule planned again from its outcome. */
  async run(integrationId: string, trigger: RotationTrigger, actor: Actor): Promise<RotationRunResult> {
    const result = await this.rotations.run(integrationId, trigger, actor);
    if (result.result !== 'not-due') this.results.inc({ result: result.result });
    const nextDueAt = await this.plan(integrationId);
    return { ...result, rotation: { ...result.rotation, nextDueAt } };
  }

  /**
   * Plans the integration's schedule on this connector (or drops it: not rotated, moved away,
   * deleted), shows the next due time on the integration, and answers it.
   */
  async plan(integrationId: string): Promise<string | null> {
    let subject;
    try {
      subject = await this.rotations.subject(integrationId);
    } catch (err) {
      if (!(err instanceof AppException && err.code === ErrorCode.NotFound)) throw err;
      await this.queue.unschedule(integrationId);
      return null;
    }
    if (subject.connectorId !== this.info.connectorId) {
      await this.queue.unschedule(integrationId);
      return subject.rotation.nextDueAt;
    }
    const period = this.rotations.periodMs(subject);
    const due = period === null ? null : Date.parse(subject.secretSetAt) + period;
    if (due === null) await this.queue.unschedule(integrationId);
    else if (await this.queue.ensureSchedule(integrationId, period!, due))
      this.logger.info({ integrationId, nextDueAt: new Date(due).toISOString() }, 'rotation planned');
    const nextDueAt = due === null ? null : new Date(due).toISOString();
    if (subject.rotation.nextDueAt !== nextDueAt) await this.bus.request(Contracts.catalogRotationPlanned, { id: integrationId, nextDueAt });
    return nextDueAt;
  }

  /** A scheduled run; a failed one is thrown for the queue to retry with backoff. */
  async scheduled(integrationId: string): Promise<void> {
    let result: RotationRunResult;
    try {
      result = await this.run(integrationId, 'scheduled', SYSTEM_ACTOR);
    } catch (err) {
      // Deleted, or moved to another connector: planning drops the schedule.
      if (err instanceof AppException && (err.code === ErrorCode.NotFound || err.code === ErrorCode.Conflict)) {
        await this.plan(integrationId);
        return;
      }
      throw err;
    }
    if (result.result === 'failed') throw new Error(`rotation failed: ${result.detail}`);
  }

  /**
   * Events reach one rotation process of any connector (one queue group): an integration of
   * another connector is handed to that connector's own subject.
   */
  async onIntegrationChanged({ integrationId, connectorId, change }: PayloadOf<typeof Contracts.catalogIntegrationChanged>): Promise<void> {
    // Planning also drops the schedule of an integration deleted or moved away from this connector.
    await this.plan(integrationId);
    if (change === 'deleted' || connectorId === this.info.connectorId) return;
    await this.connectors
      .request(Contracts.rotationPlan, { connectorId }, { integrationId })
      .catch((err: unknown) =>
        this.logger.warn({ err, integrationId, connectorId }, "rotation not handed to the integration's connector; it plans it when it starts"),
      );
  }

  onApplicationBootstrap() {
    this.reconciler.start();
  }

  onApplicationShutdown() {
    this.reconciler.stop();
  }

  /** Repairs interrupted runs of this connector's integrations and plans every schedule again. */
  async reconcile(): Promise<void> {
    const mine = new Set<string>();
    let repaired = 0;
    let pageToken: string | undefined;
    do {
      const page = await this.bus.request(Contracts.catalogIntegrationsList, { pageSize: CATALOG_PAGE_SIZE, ...(pageToken ? { pageToken } : {}) });
      for (const integration of page.items) {
        if (integration.connectorId !== this.info.connectorId) continue;
        mine.add(integration.id);
        if (integration.rotation.pending) {
          const outcome = await this.rotations.run(integration.id, 'repair', SYSTEM_ACTOR);
          this.logger.info({ integrationId: integration.id, result: outcome.result, detail: outcome.detail }, 'interrupted rotation settled');
          repaired += 1;
        }
        if (integration.credentialRotationDays !== null || integration.rotation.nextDueAt !== null) await this.plan(integration.id);
      }
      pageToken = page.nextPageToken;
    } while (pageToken && !this.reconciler.stopped);
    const dropped = (await this.queue.scheduled()).filter((id) => !mine.has(id));
    for (const id of dropped) await this.plan(id);
    this.logger.info({ integrations: mine.size, repaired, dropped: dropped.length }, 'rotations reconciled with the catalog');
  }
}
