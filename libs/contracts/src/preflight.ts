import { z } from 'zod';

export const PreflightCheckId = z.enum(['connect', 'create_roles', 'grant_database', 'terminate_backends', 'admin_option']);
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

/**
 * The failed checks of a preflight that stop grants in this scope: creating roles (every grant),
 * granting on one of `databases` ('any': wherever the resources are), and ADMIN OPTION when
 * `roles` (MEMBER grants). Used to warn when a flow is saved and to explain a failed grant.
 */
export function checksBlockingGrants(report: PreflightReport, scope: { databases: readonly string[] | 'any'; roles: boolean }): PreflightCheck[] {
  return report.checks.filter(
    (c) =>
      !c.ok &&
      (c.id === 'create_roles' ||
        (c.id === 'grant_database' && (scope.databases === 'any' || scope.databases.includes(c.target ?? ''))) ||
        (c.id === 'admin_option' && scope.roles)),
  );
}
