import { z } from 'zod';
import { Timestamp } from './text';
import { IntegrationTypeDescription } from './catalog';
import { defineEvent, defineRequest } from './contract';
import { Connector, ConnectorHeartbeat } from './connectors';
import { ServiceName } from './enums';
import { HealthReport } from './health';
import { ProcessMetrics } from './metrics';
import { Resource, ResourceQuery, RefreshCounts, Tags } from './discovery';
import { IntegrationStatus, ResourceType } from './enums';
import { Integration, IntegrationInput, IntegrationTarget, IntegrationUpdateInput, listOf, Page } from './integrations';
import { PreflightReport } from './preflight';
import { AccessContracts } from './access';
import { Actor, AuditContracts, SYSTEM_ACTOR } from './audit';
import { IdentityContracts } from './identities';
import { RequestableContracts } from './requestable';
import { RotationContracts } from './rotation';
import { NotificationContracts } from './notifications';
import { ScimContracts } from './scim';
import { SignInContracts } from './sign-in';
import { SsoSettingsContracts } from './sso-settings';
import { DriftReport, Grant, GrantEvent, GrantRequest, GrantStatus, GrantWithCredentials } from './provisioning';

const Empty = z.object({}).strict();
const ById = z.object({ id: z.string().uuid('must be a UUID') });
const ByIntegration = z.object({ integrationId: z.string().uuid('must be a UUID') });
/** A person acting directly through the API: the service that makes the change audits it with this actor. */
const DirectActor = { actor: Actor.optional() };

/** Every NATS subject of Latchkey. Do not rename a published subject; add a new one instead. */
export const Contracts = {
  catalogTypesList: defineRequest('catalog.types.list', Empty, z.object({ items: z.array(IntegrationTypeDescription) })),
  catalogIntegrationsCreate: defineRequest(
    'catalog.integrations.create',
    z.object({ input: IntegrationInput, actor: Actor.default(SYSTEM_ACTOR) }),
    Integration,
  ),
  catalogIntegrationsList: defineRequest('catalog.integrations.list', z.object(Page), listOf(Integration)),
  catalogIntegrationsGet: defineRequest('catalog.integrations.get', ById, Integration),
  catalogIntegrationsUpdate: defineRequest(
    'catalog.integrations.update',
    ById.extend({ input: IntegrationUpdateInput, actor: Actor.default(SYSTEM_ACTOR) }),
    Integration,
  ),
  catalogIntegrationsDelete: defineRequest('catalog.integrations.delete', ById.extend({ actor: Actor.default(SYSTEM_ACTOR) }), ById),
  catalogIntegrationsTest: defineRequest(
    'catalog.integrations.test',
    ById.extend({ actor: Actor.default(SYSTEM_ACTOR) }),
    z.object({ integration: Integration, report: PreflightReport }),
  ),
  catalogConnectorsList: defineRequest('catalog.connectors.list', Empty, listOf(Connector)),
  /** What a connector needs to reach an integration's database (secret still encrypted or a reference). */
  catalogIntegrationsTarget: defineRequest(
    'catalog.integrations.target',
    ById,
    z.object({ connectorId: z.string(), status: IntegrationStatus, connectedResourceTypes: z.array(ResourceType), target: IntegrationTarget }),
  ),
  /** An integration was created, updated or deleted. */
  catalogIntegrationChanged: defineEvent(
    'catalog.integration.changed',
    z.object({
      integrationId: z.string().uuid(),
      connectorId: z.string(),
      change: z.enum(['created', 'updated', 'deleted']),
      connectedResourceTypes: z.array(ResourceType),
    }),
  ),

  /** Published by every connector service on an interval. */
  connectorHeartbeat: defineEvent('connector.heartbeat.sent', ConnectorHeartbeat),
  /** Published by the catalog when it starts: connector services answer with a heartbeat at once. */
  catalogConnectorsAnnounceRequested: defineEvent('catalog.connectors.announce-requested', Empty),
  /** Served by the provisioning worker of the named connector. */
  connectorIntegrationTest: defineRequest('connector.{connectorId}.integration.test', z.object({ target: IntegrationTarget }), PreflightReport),

  // Provisioning: grants (leases), served by the provisioning worker of the integration's connector.
  provisioningGrantsCreate: defineRequest('connector.{connectorId}.grants.create', GrantRequest, GrantWithCredentials),
  provisioningGrantsGet: defineRequest('connector.{connectorId}.grants.get', ById, Grant),
  provisioningGrantsList: defineRequest(
    'connector.{connectorId}.grants.list',
    z.object({ integrationId: z.string().uuid().optional(), status: GrantStatus.optional(), ...Page }),
    listOf(Grant),
  ),
  /** `revokedBy`: who ends it (a person, or Latchkey); a grant whose end is already decided keeps its reason. `actor`: a person acting directly, audited here. */
  provisioningGrantsRevoke: defineRequest(
    'connector.{connectorId}.grants.revoke',
    ById.extend({ revokedBy: Actor.default(SYSTEM_ACTOR), ...DirectActor }),
    Grant,
  ),
  provisioningGrantsExtend: defineRequest('connector.{connectorId}.grants.extend', ById.extend({ expiresAt: Timestamp, ...DirectActor }), Grant),
  provisioningGrantsResetCredentials: defineRequest('connector.{connectorId}.grants.reset-credentials', ById.extend(DirectActor), GrantWithCredentials),
  provisioningDriftReport: defineRequest('connector.{connectorId}.drift.report', ByIntegration, DriftReport),
  provisioningDriftRepair: defineRequest('connector.{connectorId}.drift.repair', ByIntegration.extend(DirectActor), DriftReport),
  provisioningGrantEnded: defineEvent('provisioning.grant.ended', GrantEvent),
  provisioningGrantFailed: defineEvent('provisioning.grant.failed', GrantEvent),
  /** Alert: a revocation ran out of retries; it is still retried until it succeeds. */
  provisioningGrantStuck: defineEvent('provisioning.grant.stuck', GrantEvent),

  // Discovery: the inventory. Refreshes run on the integration's connector.
  discoveryResourcesList: defineRequest('discovery.resources.list', ResourceQuery, listOf(Resource)),
  discoveryResourcesGet: defineRequest('discovery.resources.get', ById, Resource),
  discoveryResourcesPutTags: defineRequest('discovery.resources.tags.put', ById.extend({ tags: Tags, actor: Actor.default(SYSTEM_ACTOR) }), Resource),
  discoveryRefreshRequest: defineRequest(
    'connector.{connectorId}.discovery.refresh',
    ByIntegration.extend(DirectActor),
    z.object({ jobId: z.string(), queued: z.boolean() }),
  ),
  discoveryRefreshStarted: defineEvent('discovery.refresh.started', ByIntegration),
  discoveryRefreshFailed: defineEvent('discovery.refresh.failed', ByIntegration.extend({ reason: z.string() })),
  /** A refresh finished: what it added, updated and removed. */
  discoveryResourcesChanged: defineEvent('discovery.resources.changed', ByIntegration.extend(RefreshCounts.shape).extend({ ms: z.number() })),
  /** A resource's API tags were replaced (what flows and owner mappings match on). */
  discoveryResourceTagsChanged: defineEvent('discovery.resource.tags-changed', ById.extend({ integrationId: z.string().uuid() })),

  // Each domain below declares its subjects in its own file of this library.
  ...IdentityContracts,
  ...SignInContracts,
  ...SsoSettingsContracts,
  ...ScimContracts,
  ...AuditContracts,
  ...AccessContracts,
  ...RotationContracts,
  ...RequestableContracts,
  ...NotificationContracts,
} as const;

const healthPrefix: Record<ServiceName, string> = {
  'api-gateway': 'gateway',
  'integration-catalog': 'catalog',
  discovery: 'discovery',
  provisioning: 'provisioning',
  rotation: 'rotation',
  access: 'access',
  notifications: 'notifications',
};

/** `<service>.health.check`, answered by any replica of the service. */
export const healthContract = (service: ServiceName) => defineRequest(`${healthPrefix[service]}.health.check`, Empty, HealthReport);

/**
 * `<service>.metrics.collect`: answered by EVERY process of the service (no queue group), so the
 * gateway gathers all replicas' answers with one request (scatter-gather) and adds them up.
 */
export const metricsContract = (service: ServiceName) => defineRequest(`${healthPrefix[service]}.metrics.collect`, Empty, ProcessMetrics);
