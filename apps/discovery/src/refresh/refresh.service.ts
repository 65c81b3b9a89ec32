import { Inject, Injectable, Optional } from '@nestjs/common';
import { z } from 'zod';
import { AppException, Contracts, ErrorCode, EventContract, ResponseOf } from '@latchkey/contracts';
import type { RefreshCounts } from '@latchkey/contracts';
import { LOGGER, MessageBus, SERVICE_INFO } from '@latchkey/messaging';
import type { AppLogger, ServiceInfo } from '@latchkey/messaging';
import { DiscoveryReadError, parseCommentTags, TargetConfigError, TargetConnectionError, targetConnectionParams, TargetDatabase } from '@latchkey/pg-access';
import type { DiscoveredObject, TargetConnectionParams } from '@latchkey/pg-access';
import { MasterKey } from '@latchkey/secrets';
import { resourceId, resourcePath } from '../resources/resource-id';
import { kindsOf, TYPE_OF_KIND } from '../resources/resource-kinds';
import { InventoryWriter, ResourceRow, ResourcesRepository } from '../resources/resources.repository';
import { RefreshQueue } from './refresh.queue';

export type RefreshResult =
  | { status: 'succeeded'; counts: RefreshCounts; ms: number; skippedDatabases: string[] }
  | { status: 'failed'; reason: string }
  /** The integration no longer exists: its inventory and schedule were removed. */
  | { status: 'removed' }
  /** The integration moved to another connector: this one dropped its schedule. */
  | { status: 'elsewhere'; connectorId: string };

type Target = ResponseOf<typeof Contracts.catalogIntegrationsTarget>;

/** What a refresh needs of its neighbours, narrow so that unit tests hand-write them. */
export type CatalogBus = Pick<MessageBus, 'request' | 'publish'>;
export type InventoryWrite = Pick<InventoryWriter, 'write' | 'commit' | 'abort'>;
export interface Inventory extends Pick<ResourcesRepository, 'recordFailure' | 'removeInventory' | 'refreshStatistics'> {
  beginRefresh(integrationId: string): Promise<InventoryWrite>;
}
export type RefreshSchedules = Pick<RefreshQueue, 'unschedule'>;
export type InstanceReader = Pick<TargetDatabase, 'discoverInstance'>;

/**
 * One refresh of one integration: read the instance's catalog through this connector and turn it
 * into a diff of the inventory (added, updated, removed), all or nothing. An instance that cannot
 * be read keeps its last inventory and is reported (integration status ERROR via the catalog).
 */
@Injectable()
export class RefreshService {
  constructor(
    @Inject(MessageBus) private readonly bus: CatalogBus,
    @Inject(ResourcesRepository) private readonly resources: Inventory,
    @Inject(RefreshQueue) private readonly queue: RefreshSchedules,
    @Inject(TargetDatabase) private readonly database: InstanceReader,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  async refresh(integrationId: string): Promise<RefreshResult> {
    const target = await this.lookup(integrationId);
    if (!target) {
      await this.forget(integrationId);
      return { status: 'removed' };
    }
    if (target.connectorId !== this.info.connectorId) {
      await this.queue.unschedule(integrationId);
      this.logger.info({ integrationId, connectorId: target.connectorId }, 'integration moved to another connector; schedule dropped');
      return { status: 'elsewhere', connectorId: target.connectorId };
    }

    const writer = await this.resources.beginRefresh(integrationId);
    const started = performance.now();
    let skippedDatabases: string[];
    let counts: RefreshCounts;
    try {
      await this.announce(Contracts.discoveryRefreshStarted, { integrationId });
      const outcome = await this.database.discoverInstance(await this.connectionParams(target), { kinds: kindsOf(target.connectedResourceTypes) }, (objects) =>
        writer.write(objects.map((o) => toRow(integrationId, o))),
      );
      skippedDatabases = outcome.skipped.map((s) => s.database);
      for (const skipped of outcome.skipped)
        this.logger.warn({ integrationId, database: skipped.database, reason: skipped.reason }, 'database not read; its inventory is kept');
      counts = await writer.commit({ connectorId: this.info.connectorId!, skippedDatabases, ms: performance.now() - started });
    } catch (err) {
      await writer.abort();
      const reason = failureReason(err);
      if (reason === undefined) throw err;
      await this.resources.recordFailure(integrationId, this.info.connectorId!, reason);
      this.logger.warn({ integrationId, reason }, 'refresh failed; last inventory kept');
      await this.announce(Contracts.discoveryRefreshFailed, { integrationId, reason });
      return { status: 'failed', reason };
    }
    // Before the event: whoever reads the inventory on hearing of it gets plans made with its new shape.
    await this.resources
      .refreshStatistics(counts)
      .catch((err: Error) => this.logger.warn({ integrationId, err: err.message }, 'inventory statistics not refreshed; autovacuum will'));
    const ms = Math.round(performance.now() - started);
    this.logger.info({ integrationId, ...counts, ms, skippedDatabases }, 'refreshed');
    await this.announce(Contracts.discoveryResourcesChanged, { integrationId, ...counts, ms });
    return { status: 'succeeded', counts, ms, skippedDatabases };
  }

  /** Removes an integration's inventory and schedule (it was deleted). */
  async forget(integrationId: string): Promise<void> {
    const removed = await this.resources.removeInventory(integrationId);
    await this.queue.unschedule(integrationId);
    this.logger.info({ integrationId, removed }, 'inventory removed');
  }

  private async lookup(integrationId: string): Promise<Target | undefined> {
    try {
      return await this.bus.request(Contracts.catalogIntegrationsTarget, { id: integrationId });
    } catch (err) {
      if (err instanceof AppException && err.code === ErrorCode.NotFound) return undefined;
      throw err;
    }
  }

  private async connectionParams({ target }: Target): Promise<TargetConnectionParams> {
    return (await targetConnectionParams(target, { masterKey: this.masterKey, env: process.env, applicationName: 'latchkey-discovery' })).params;
  }

  private async announce<P extends z.ZodType>(contract: EventContract<P>, payload: z.input<P>): Promise<void> {
    await this.bus.publish(contract, payload).catch((err: unknown) => this.logger.warn({ err, subject: contract.subject }, 'event not published'));
  }
}

/** Why the instance could not be read, or undefined for failures of our own (retried by the queue). */
function failureReason(err: unknown): string | undefined {
  if (err instanceof TargetConfigError || err instanceof TargetConnectionError || err instanceof DiscoveryReadError) return err.message;
  return undefined;
}

function toRow(integrationId: string, o: DiscoveredObject): ResourceRow {
  return {
    id: resourceId({ integrationId, kind: o.kind, database: o.database, schema: o.schema, name: o.name }),
    kind: o.kind,
    type: TYPE_OF_KIND[o.kind],
    database: o.database ?? null,
    schema: o.schema ?? null,
    name: o.name,
    path: resourcePath(o),
    owner: o.owner,
    comment: o.comment,
    commentTags: parseCommentTags(o.comment),
    managed: o.managed,
    unrequestableReason: o.unrequestableReason,
  };
}
