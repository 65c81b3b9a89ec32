import { z } from 'zod';
import { Permission, ResourceType, SecretStore } from './enums';

export const IntegrationTypeDescription = z.object({
  type: z.string(),
  name: z.string(),
  description: z.string(),
  minimumConnectorVersion: z.string(),
  /** JSON Schema of `config`, with defaults. */
  configSchema: z.record(z.string(), z.unknown()),
  configDefaults: z.record(z.string(), z.unknown()),
  resourceTypes: z.array(z.object({ type: ResourceType, permissions: z.array(Permission) })),
  secretStores: z.array(SecretStore),
});
export type IntegrationTypeDescription = z.infer<typeof IntegrationTypeDescription>;
