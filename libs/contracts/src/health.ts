import { z } from 'zod';
import { ServiceName } from './enums';

export const HealthReport = z.object({
  service: ServiceName,
  status: z.literal('ok'),
  version: z.string(),
  instanceId: z.string(),
  connectorId: z.string().optional(),
  uptimeSeconds: z.number(),
});
export type HealthReport = z.infer<typeof HealthReport>;
