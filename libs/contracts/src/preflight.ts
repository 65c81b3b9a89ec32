import { z } from 'zod';

export const PreflightCheckId = z.enum([
  'connect',
  'create_roles',
  'grant_database',
  'terminate_backends',
  'admin_option',
]);
export type PreflightCheckId = z.infer<typeof PreflightCheckId>;

export const PreflightCheck = z.object({
  id: PreflightCheckId,
  /** The database or role the check is about, when it is about one. */
  target: z.string().optional(),
  ok: z.boolean(),
  detail: z.string(),
  /** SQL an administrator runs to grant what is missing. */
  fix: z.string().optional(),
});
export type PreflightCheck = z.infer<typeof PreflightCheck>;

export const PreflightReport = z.object({
  ok: z.boolean(),
  testedAt: z.string(),
  connectorId: z.string(),
  connected: z.boolean(),
  serverVersion: z.string().optional(),
  serverVersionNum: z.number().int().optional(),
  tls: z.boolean(),
  /** The connecting user, as the server names it. */
  user: z.string().optional(),
  superuser: z.boolean().optional(),
  checks: z.array(PreflightCheck),
});
export type PreflightReport = z.infer<typeof PreflightReport>;
