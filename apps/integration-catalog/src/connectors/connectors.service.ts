import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Connector, ConnectorHeartbeat, connectorRefusalRule, Contracts, ServiceName, ValidationIssue } from '@latchkey/contracts';
import { LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { ConnectorEntity } from './connector.entity';
import { ConnectorsRepository } from './connectors.repository';

export const CONNECTOR_OFFLINE_AFTER_MS = Symbol('CONNECTOR_OFFLINE_AFTER_MS');

@Injectable()
export class ConnectorsService implements OnApplicationBootstrap {
  constructor(
    private readonly connectors: ConnectorsRepository,
    private readonly bus: MessageBus,
    @Inject(CONNECTOR_OFFLINE_AFTER_MS) private readonly offlineAfterMs: number,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /** Connectors that started before this catalog announce themselves now rather than at their next beat. */
  async onApplicationBootstrap() {
    await this.bus
      .publish(Contracts.catalogConnectorsAnnounceRequested, {})
      .catch((err: unknown) => this.logger.warn({ err }, 'could not ask connectors to announce'));
  }

  recordHeartbeat(beat: ConnectorHeartbeat): Promise<void> {
    return this.connectors.recordHeartbeat(beat);
  }

  async list(): Promise<Connector[]> {
    const now = Date.now();
    return (await this.connectors.findAll()).map((c) => this.view(c, now));
  }

  /**
   * Why an integration may not use this connector, as a field issue, or null when it may:
   * the connector must be known, connected (heartbeats within the window) and recent enough.
   */
  async refusal(connectorId: string, minimumVersion: string): Promise<ValidationIssue | null> {
    const entity = await this.connectors.findById(connectorId);
    if (!entity) {
      const known = (await this.connectors.findAll()).map((c) => c.id);
      return { field: 'connectorId', rule: `must name a known connector; "${connectorId}" has never sent a heartbeat (known: ${known.join(', ') || 'none'})` };
    }
    const rule = connectorRefusalRule(this.view(entity, Date.now()), minimumVersion);
    return rule ? { field: 'connectorId', rule } : null;
  }

  private view(c: ConnectorEntity, now: number): Connector {
    const live = Object.entries(c.services)
      .filter(([, seen]) => now - Date.parse(seen) <= this.offlineAfterMs)
      .map(([service]) => service as ServiceName)
      .sort();
    return {
      id: c.id,
      version: c.version,
      status: now - c.lastSeenAt.getTime() <= this.offlineAfterMs ? 'CONNECTED' : 'DISCONNECTED',
      services: live,
      lastSeenAt: c.lastSeenAt.toISOString(),
      firstSeenAt: c.firstSeenAt.toISOString(),
    };
  }
}
