import { z } from 'zod';
import { ConnectorStatus, ServiceName } from './enums';
import { compareVersions } from './semver';

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

/**
 * Why an integration may not use this connector (the rule of the `connectorId` field), or null
 * when it may: connected, and of the integration type's minimum version or later. The catalog
 * refuses with it and the web console greys the connector out with it.
 */
export function connectorRefusalRule(connector: Pick<Connector, 'id' | 'status' | 'version' | 'lastSeenAt'>, minimumVersion: string): string | null {
  if (connector.status !== 'CONNECTED') {
    return `must name a connected connector; "${connector.id}" is DISCONNECTED (last heartbeat ${connector.lastSeenAt})`;
  }
  if (compareVersions(connector.version, minimumVersion) < 0) {
    return `must name a connector of version ${minimumVersion} or later; "${connector.id}" runs ${connector.version}: upgrade it`;
  }
  return null;
}
