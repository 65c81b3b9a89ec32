import { z } from 'zod';
import { IntegrationTypeDescription } from './catalog';
import { defineEvent, defineRequest } from './contract';
import { Connector, ConnectorHeartbeat } from './connectors';
import { ServiceName } from './enums';
import { HealthReport } from './health';
import { Integration, IntegrationInput, IntegrationTarget, IntegrationUpdateInput, listOf, Page } from './integrations';
import { PreflightReport } from './preflight';

const Empty = z.object({}).strict();
const ById = z.object({ id: z.string().uuid('must be a UUID') });

/** Every NATS subject of Latchkey. Do not rename a published subject; add a new one instead. */
export const Contracts = {
  catalogTypesList: defineRequest('catalog.types.list', Empty, z.object({ items: z.array(IntegrationTypeDescription) })),
  catalogIntegrationsCreate: defineRequest('catalog.integrations.create', z.object({ input: IntegrationInput }), Integration),
  catalogIntegrationsList: defineRequest('catalog.integrations.list', z.object(Page), listOf(Integration)),
  catalogIntegrationsGet: defineRequest('catalog.integrations.get', ById, Integration),
  catalogIntegrationsUpdate: defineRequest('catalog.integrations.update', ById.extend({ input: IntegrationUpdateInput }), Integration),
  catalogIntegrationsDelete: defineRequest('catalog.integrations.delete', ById, ById),
  catalogIntegrationsTest: defineRequest('catalog.integrations.test', ById, z.object({ integration: Integration, report: PreflightReport })),
  catalogConnectorsList: defineRequest('catalog.connectors.list', Empty, listOf(Connector)),

  /** Published by every connector service on an interval. */
  connectorHeartbeat: defineEvent('connector.heartbeat.sent', ConnectorHeartbeat),
  /** Published by the catalog when it starts: connector services answer with a heartbeat at once. */
  catalogConnectorsAnnounceRequested: defineEvent('catalog.connectors.announce-requested', Empty),
  /** Served by the provisioning worker of the named connector. */
  connectorIntegrationTest: defineRequest('connector.{connectorId}.integration.test', z.object({ target: IntegrationTarget }), PreflightReport),
} as const;

const healthPrefix: Record<ServiceName, string> = {
  'api-gateway': 'gateway',
  'integration-catalog': 'catalog',
  discovery: 'discovery',
  provisioning: 'provisioning',
  rotation: 'rotation',
  access: 'access',
};

/** `<service>.health.check`, answered by any replica of the service. */
export const healthContract = (service: ServiceName) => defineRequest(`${healthPrefix[service]}.health.check`, Empty, HealthReport);
