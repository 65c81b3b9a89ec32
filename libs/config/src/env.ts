import { z } from 'zod';
import { CONNECTOR_ID_PATTERN } from '@latchkey/contracts';

const url = (protocols: string[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`);

const seconds = (fallback: number, max: number) => z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`).default(fallback);

/** The package version; connectors report it unless CONNECTOR_VERSION overrides it. */
export const LATCHKEY_VERSION = '1.3.0';

export const CommonEnv = z.object({
  NATS_URL: url(['nats:', 'tls:'], 'nats://127.0.0.1:4222'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
});

export const DatabaseEnv = z.object({
  LATCHKEY_DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/latchkey'),
});

export const MasterKeyEnv = z.object({
  LATCHKEY_MASTER_KEY: z.string().optional(),
  LATCHKEY_MASTER_KEY_FILE: z.string().optional(),
});

export const ConnectorEnv = z.object({
  CONNECTOR_ID: z.string().regex(CONNECTOR_ID_PATTERN, 'must be 1-64 letters, digits, _ and -').default('local'),
  CONNECTOR_VERSION: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a version like 1.3.0').default(LATCHKEY_VERSION),
  CONNECTOR_HEARTBEAT_SECONDS: seconds(5, 3600),
});

export const GatewayEnv = CommonEnv.extend(DatabaseEnv.shape).extend({
  PORT: z.coerce.number().int().min(1, 'must be a port (1-65535)').max(65535, 'must be a port (1-65535)').default(8080),
  HOST: z.string().default('0.0.0.0'),
  LATCHKEY_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(1500),
});
export type GatewayEnv = z.output<typeof GatewayEnv>;

export const CatalogEnv = CommonEnv.extend(DatabaseEnv.shape).extend(MasterKeyEnv.shape).extend({
  CONNECTOR_OFFLINE_AFTER_SECONDS: seconds(20, 86_400),
});
export type CatalogEnv = z.output<typeof CatalogEnv>;

export const ConnectorServiceEnv = CommonEnv.extend(ConnectorEnv.shape).extend(MasterKeyEnv.shape);
export type ConnectorServiceEnv = z.output<typeof ConnectorServiceEnv>;

export const AccessEnv = CommonEnv.extend(DatabaseEnv.shape);
export type AccessEnv = z.output<typeof AccessEnv>;

/** Every variable with its default, for README and `npm start` to print. */
export const ENVIRONMENT_SCHEMAS = {
  'api-gateway': GatewayEnv,
  'integration-catalog': CatalogEnv,
  discovery: ConnectorServiceEnv,
  provisioning: ConnectorServiceEnv,
  rotation: ConnectorServiceEnv,
  access: AccessEnv,
} as const;
