import type { z } from 'zod';
import { Contracts } from '@latchkey/contracts';
import type { Integration, RequestContract } from '@latchkey/contracts';
import type { RequestOptions } from './message-bus';
import { RecentReads } from './recent-reads';

/** The one thing the client needs of the bus (MessageBus, or a fake in tests). */
export interface RequestSender {
  request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    payload: z.input<Req>,
    options?: RequestOptions,
  ): Promise<z.output<Res>>;
}

/** How long a read of an integration is reused by recentIntegration when no change is announced (a lost announcement is caught up this late). */
export const INTEGRATION_REUSE_MS = 5_000;

/**
 * Whose connector serves a request: an integration id (looked up in the catalog), or an
 * integration already read, or a connector already known.
 */
export type ConnectorRoute = string | { connectorId: string };

/**
 * Requests to the workers of an integration's own connector (provisioning, discovery, rotation):
 * the one place that finds an integration's connector and routes to its subjects. An integration
 * the catalog does not know answers the catalog's NOT_FOUND, and nothing is sent to a connector.
 */
export class ConnectorClient {
  private readonly recent: RecentReads<Integration>;

  constructor(
    private readonly bus: RequestSender,
    now: () => number = Date.now,
  ) {
    this.recent = new RecentReads<Integration>(INTEGRATION_REUSE_MS, undefined, now);
  }

  /** The integration as the catalog has it, its connector among it; NOT_FOUND when it does not exist. */
  integration(id: string): Promise<Integration> {
    return this.recent.keep(id, this.read(id));
  }

  /**
   * The integration as read at most INTEGRATION_REUSE_MS ago and not changed since (every process
   * forgets an integration when the catalog announces a change: `catalog.integration.changed`),
   * else read now. For the hot path of an access request, which needs the integration's
   * connector, config, owners and access details, not its status or last test (not announced).
   * A failed read is not kept.
   */
  recentIntegration(id: string): Promise<Integration> {
    return this.recent.get(id, () => this.read(id));
  }

  private read(id: string): Promise<Integration> {
    return this.bus.request(Contracts.catalogIntegrationsGet, { id });
  }

  /** The catalog announced a change of the integration: the next read asks it. */
  forget(id: string): void {
    this.recent.forget(id);
  }

  /** Sends `payload` to the connector that serves `route` (see ConnectorRoute). */
  async request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    route: ConnectorRoute,
    payload: z.input<Req>,
    options: Omit<RequestOptions, 'connectorId'> = {},
  ): Promise<z.output<Res>> {
    const connectorId = typeof route === 'string' ? (await this.integration(route)).connectorId : route.connectorId;
    return this.bus.request(contract, payload, { ...options, connectorId });
  }
}
