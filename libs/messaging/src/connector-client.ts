import type { z } from 'zod';
import { Contracts } from '@latchkey/contracts';
import type { Integration, RequestContract } from '@latchkey/contracts';
import type { RequestOptions } from './message-bus';

/** The one thing the client needs of the bus (MessageBus, or a fake in tests). */
export interface RequestSender {
  request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    payload: z.input<Req>,
    options?: RequestOptions,
  ): Promise<z.output<Res>>;
}

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
  constructor(private readonly bus: RequestSender) {}

  /** The integration as the catalog has it, its connector among it; NOT_FOUND when it does not exist. */
  integration(id: string): Promise<Integration> {
    return this.bus.request(Contracts.catalogIntegrationsGet, { id });
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
