import { z } from 'zod';
import { ServiceName } from './enums';

/** One dependency of a service as its readiness check saw it (why it is down goes to the service's log, not here). */
export const DependencyStatus = z.enum(['ok', 'down']);
export type DependencyStatus = z.infer<typeof DependencyStatus>;

export const HealthReport = z.object({
  service: ServiceName,
  status: z.literal('ok'),
  version: z.string(),
  instanceId: z.string(),
  connectorId: z.string().optional(),
  uptimeSeconds: z.number(),
  /** Readiness: every dependency in `checks` answers (the control database, NATS, Redis where used). */
  ready: z.boolean().optional(),
  checks: z.record(z.string(), DependencyStatus).optional(),
});
export type HealthReport = z.infer<typeof HealthReport>;
