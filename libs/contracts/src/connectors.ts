import { z } from 'zod';
import { ConnectorStatus, ServiceName } from './enums';

export const ConnectorHeartbeat = z.object({
  connectorId: z.string(),
  version: z.string(),
  service: ServiceName,
  instanceId: z.string(),
  sentAt: z.string(),
});
export type ConnectorHeartbeat = z.infer<typeof ConnectorHeartbeat>;

export const Connector = z.object({
  id: z.string(),
  version: z.string(),
  status: ConnectorStatus,
  /** Connector services heard from within the liveness window. */
  services: z.array(ServiceName),
  lastSeenAt: z.string(),
  firstSeenAt: z.string(),
});
export type Connector = z.infer<typeof Connector>;
