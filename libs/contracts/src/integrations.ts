import { z } from 'zod';
import { IntegrationStatus, ResourceType } from './enums';
import { PreflightReport } from './preflight';
import { ValidationIssue } from './errors';
import { SecretInput, SecretRef, SecretView } from './secrets';
import { ManagedBy } from './managed';
import { text } from './text';
import { Warning } from './errors';

export const INTEGRATION_NAME_RULE = 'must be 1-64 characters of letters, digits, spaces, - and _, not starting or ending with a space';
export const RESOURCE_OWNER_RULE = 'When Resource Owner is defined, an Integration Owner must be defined.';

export const IntegrationOwner = z
  .object({
    /** `user`, `group`, or the name of an identity attribute such as `team`. */
    attribute: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'must be user, group or an attribute name (letters, digits, _ . -; at most 64)'),
    values: z
      .array(text({ min: 1, max: 256 }))
      .min(1, 'must list at least one value')
      .max(100, 'must list at most 100 values'),
  })
  .strict();
export type IntegrationOwner = z.infer<typeof IntegrationOwner>;

export const ResourceOwnerMapping = z
  .object({
    tagKey: z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'must be a tag key of 1-128 letters, digits, _ . : / -'),
    attribute: IntegrationOwner.shape.attribute,
  })
  .strict();
export type ResourceOwnerMapping = z.infer<typeof ResourceOwnerMapping>;

/**
 * The seed's cross-field rule (a resource owner needs an integration owner), checked by the API
 * and by the web console's wizard alike.
 */
export function integrationOwnerIssues(body: { integrationOwners?: unknown; resourceOwnerMappings?: unknown }): ValidationIssue[] {
  const mappings = body.resourceOwnerMappings;
  const owners = body.integrationOwners;
  return Array.isArray(mappings) && mappings.length > 0 && !(Array.isArray(owners) && owners.length > 0)
    ? [{ field: 'integrationOwners', rule: RESOURCE_OWNER_RULE }]
    : [];
}

/**
 * The API body of an integration. `config` is checked against the integration type's own schema
 * (libs/config), so that one 400 can name every broken rule at once.
 */
export const IntegrationInput = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-](?:[A-Za-z0-9 _-]{0,62}[A-Za-z0-9_-])?$/, INTEGRATION_NAME_RULE),
    type: text({ max: 64 }).refine((v) => v.length > 0, 'must name an integration type from GET /api/v1/catalog'),
    connectorId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a connector id (1-64 letters, digits, _ and -)')
      .default('local'),
    connectedResourceTypes: z
      .array(ResourceType)
      .min(1, 'must list at least one resource type')
      .refine((v) => new Set(v).size === v.length, 'must not repeat a resource type'),
    config: z.record(z.string(), z.unknown()).default({}),
    secret: SecretInput,
    credentialRotationDays: z.number().int('must be a whole number of days').min(1, 'must be at least 1 day').max(3650, 'must be at most 3650 days').nullish(),
    customAccessDetails: text({ max: 400 }).nullish(),
    integrationOwners: z.array(IntegrationOwner).max(20, 'must list at most 20 owners').nullish(),
    resourceOwnerMappings: z.array(ResourceOwnerMapping).max(20, 'must list at most 20 mappings').nullish(),
    managedBy: ManagedBy,
  })
  .strict();
export type IntegrationInput = z.input<typeof IntegrationInput>;

/** On update the secret may be left out to keep the stored one. */
export const IntegrationUpdateInput = IntegrationInput.extend({ secret: SecretInput.optional() });
export type IntegrationUpdateInput = z.input<typeof IntegrationUpdateInput>;

/** How the last rotation of the connector credentials ended. */
export const RotationResult = z.enum(['rotated', 'repaired', 'failed']);
export type RotationResult = z.infer<typeof RotationResult>;

/** Rotation of the connector user's password, as the integration shows it (never a credential). */
export const RotationState = z.object({
  /** When the connector user's password was last replaced by a rotation. */
  lastRotatedAt: z.string().nullable(),
  /** When the scheduler rotates next; null when credentialRotationDays is not set (or not planned yet). */
  nextDueAt: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastResult: RotationResult.nullable(),
  lastError: z.string().nullable(),
  /** A new password is staged and not yet confirmed on the database; the next run settles it. */
  pending: z.boolean(),
});
export type RotationState = z.infer<typeof RotationState>;

export const Integration = z.object({
  id: z.string().uuid(),
  name: z.string(),
  type: z.string(),
  connectorId: z.string(),
  connectedResourceTypes: z.array(ResourceType),
  config: z.record(z.string(), z.unknown()),
  secret: SecretView,
  credentialRotationDays: z.number().int().nullable(),
  customAccessDetails: z.string().nullable(),
  integrationOwners: z.array(IntegrationOwner),
  resourceOwnerMappings: z.array(ResourceOwnerMapping),
  /** The config file that manages it (`latchkey apply`), or null. */
  managedBy: z.string().nullable().default(null),
  status: IntegrationStatus,
  statusReason: z.string().nullable(),
  lastTest: PreflightReport.nullable(),
  rotation: RotationState,
  createdAt: z.string(),
  updatedAt: z.string(),
  /** On create and update only: owners who resolve to nobody (their approvals would never come). */
  warnings: z.array(Warning).optional(),
});
export type Integration = z.infer<typeof Integration>;

/**
 * What people without the admin role see of an integration: where it is and who owns it. Not the
 * secret (its variable names or path), the connector login, the preflight report and its fix SQL,
 * the status reason or rotation: those are for admins.
 */
export const IntegrationSummary = Integration.pick({
  id: true,
  name: true,
  type: true,
  connectedResourceTypes: true,
  config: true,
  customAccessDetails: true,
  integrationOwners: true,
  resourceOwnerMappings: true,
  status: true,
  createdAt: true,
  updatedAt: true,
});
export type IntegrationSummary = z.infer<typeof IntegrationSummary>;

/** An integration as a person of `role` may see it. */
export const integrationFor = (role: string, integration: Integration): Integration | IntegrationSummary =>
  role === 'admin' ? integration : IntegrationSummary.parse(integration);

/** What a connector needs to reach an integration's database. */
export const IntegrationTarget = z.object({
  integrationId: z.string().uuid(),
  type: z.string(),
  config: z.record(z.string(), z.unknown()),
  secret: SecretRef,
  /**
   * A password staged by a rotation in flight (builtin only). Between "set on the database" and
   * "stored as current" only this one logs in: connection code tries it when the server refuses
   * `secret` (SQLSTATE 28P01), so grants, discovery and tests keep working.
   */
  pendingSecret: SecretRef.optional(),
});
export type IntegrationTarget = z.infer<typeof IntegrationTarget>;

export const Page = { pageSize: z.coerce.number().int().min(1).max(500).default(50), pageToken: text({ max: 200 }).optional() };

export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextPageToken: z.string().optional() });
