import { z } from 'zod';

export const ServiceName = z.enum(['api-gateway', 'integration-catalog', 'discovery', 'provisioning', 'rotation', 'access', 'notifications']);
export type ServiceName = z.infer<typeof ServiceName>;

/** Services that run as part of a connector: they reach target databases. */
export const CONNECTOR_SERVICES = ['discovery', 'provisioning', 'rotation'] as const satisfies readonly ServiceName[];

/** libpq's six SSL modes, with libpq's meaning (see libs/pg-access). */
export const SslMode = z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);
export type SslMode = z.infer<typeof SslMode>;

export const IntegrationStatus = z.enum(['INITIALIZING', 'ACTIVE', 'ERROR', 'REFRESHING']);
export type IntegrationStatus = z.infer<typeof IntegrationStatus>;

export const ResourceType = z.enum(['postgresql-database', 'postgresql-schema', 'postgresql-table', 'postgresql-role']);
export type ResourceType = z.infer<typeof ResourceType>;

export const Permission = z.enum(['READ_ONLY', 'READ_WRITE', 'ADMIN', 'MEMBER']);
export type Permission = z.infer<typeof Permission>;

export const ConnectorStatus = z.enum(['CONNECTED', 'DISCONNECTED']);
export type ConnectorStatus = z.infer<typeof ConnectorStatus>;

export const SecretStore = z.enum(['builtin', 'env', 'file']);
export type SecretStore = z.infer<typeof SecretStore>;
