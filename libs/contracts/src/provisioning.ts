import { z } from 'zod';
import { Actor } from './audit';
import { Permission, ResourceType, SslMode } from './enums';
import { utf8Length } from './postgresql';
import { CLEAN_TEXT_RULE, isCleanText, text, Timestamp } from './text';

const PERMISSIONS_BY_TYPE: Record<ResourceType, readonly Permission[]> = {
  'postgresql-database': ['READ_ONLY', 'READ_WRITE', 'ADMIN'],
  'postgresql-schema': ['READ_ONLY', 'READ_WRITE', 'ADMIN'],
  'postgresql-table': ['READ_ONLY', 'READ_WRITE', 'ADMIN'],
  'postgresql-role': ['MEMBER'],
};
export const permissionsOf = (type: ResourceType): readonly Permission[] => PERMISSIONS_BY_TYPE[type];

const pgName = z
  .string()
  .min(1, 'must not be empty')
  .refine((v) => utf8Length(v) <= 63, 'must be at most 63 bytes')
  .refine(isCleanText, CLEAN_TEXT_RULE);

/** One (resource, permission) of a grant; path parts exactly as PostgreSQL names them. */
export const GrantItem = z
  .object({
    resourceType: ResourceType,
    database: pgName,
    schema: pgName.optional(),
    table: pgName.optional(),
    role: pgName.optional(),
    permission: Permission,
  })
  .strict()
  .superRefine((item, ctx) => {
    const need = (field: 'schema' | 'table' | 'role', when: boolean) => {
      if (when && !item[field]) ctx.addIssue({ code: 'custom', path: [field], message: `is required for ${item.resourceType}` });
      if (!when && item[field]) ctx.addIssue({ code: 'custom', path: [field], message: `is not used by ${item.resourceType}` });
    };
    need('schema', item.resourceType === 'postgresql-schema' || item.resourceType === 'postgresql-table');
    need('table', item.resourceType === 'postgresql-table');
    need('role', item.resourceType === 'postgresql-role');
    if (!PERMISSIONS_BY_TYPE[item.resourceType].includes(item.permission)) {
      ctx.addIssue({
        code: 'custom',
        path: ['permission'],
        message: `must be one of ${PERMISSIONS_BY_TYPE[item.resourceType].join(', ')} for ${item.resourceType}`,
      });
    }
  });
export type GrantItem = z.infer<typeof GrantItem>;

/**
 * GRANTING: being made on the target. ACTIVE: usable. REVOKING: being taken back (expiry or a
 * person). STUCK: revocation failed after its retries; still retried, alert raised. REVOKED /
 * EXPIRED: taken back. FAILED: could not be made; nothing left behind.
 */
export const GrantStatus = z.enum(['GRANTING', 'ACTIVE', 'REVOKING', 'STUCK', 'REVOKED', 'EXPIRED', 'FAILED']);
export type GrantStatus = z.infer<typeof GrantStatus>;

export const GrantEndReason = z.enum(['EXPIRED', 'REVOKED']);
export type GrantEndReason = z.infer<typeof GrantEndReason>;

export const PersonIdentity = z.object({ id: text({ min: 1, max: 200 }), email: z.string().email('must be an email address').max(320) });
export type PersonIdentity = z.infer<typeof PersonIdentity>;

export const GrantRequest = z.object({
  /** The same key twice yields one grant. */
  idempotencyKey: text({ min: 1, max: 200 }),
  integrationId: z.string().uuid('must be a UUID'),
  identity: PersonIdentity,
  items: z.array(GrantItem).min(1, 'must list at least one item').max(100, 'must list at most 100 items'),
  expiresAt: Timestamp,
  connectionLimit: z.number().int().min(1).max(1000).default(10),
  /** A person acting directly (the admin grants API): provisioning audits the change. Without it (access requests) the caller audits. */
  actor: Actor.optional(),
});
export type GrantRequest = z.input<typeof GrantRequest>;

export const Grant = z.object({
  id: z.string().uuid(),
  idempotencyKey: z.string(),
  integrationId: z.string().uuid(),
  connectorId: z.string(),
  identity: PersonIdentity,
  roleName: z.string(),
  items: z.array(GrantItem),
  status: GrantStatus,
  expiresAt: z.string(),
  createdAt: z.string(),
  grantedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  /** How it ends, decided once when its revocation starts: EXPIRED (time ran out) or REVOKED (by `revokedBy`). */
  endReason: GrantEndReason.nullable().optional(),
  /** Who revoked it, when `endReason` is REVOKED. */
  revokedBy: Actor.nullable().optional(),
});
export type Grant = z.infer<typeof Grant>;

/** How to log in. The password is in an answer only when a grant is made or its password reset. */
export const Credentials = z.object({
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  username: z.string(),
  password: z.string(),
  sslmode: SslMode,
});
export type Credentials = z.infer<typeof Credentials>;

export const GrantWithCredentials = z.object({ grant: Grant, credentials: Credentials.nullable() });

export const DriftReport = z.object({
  integrationId: z.string().uuid(),
  checkedAt: z.string(),
  /** Managed personal roles on the target with no active grant behind them (LOGIN or with memberships). */
  orphanRoles: z.array(z.object({ role: z.string(), canLogin: z.boolean(), memberships: z.array(z.string()) })),
  /** Active grants whose login or memberships are missing on the target. */
  missingGrants: z.array(z.object({ grantId: z.string().uuid(), role: z.string(), missing: z.array(z.string()) })),
  repaired: z.boolean(),
});
export type DriftReport = z.infer<typeof DriftReport>;

export const GrantEvent = z.object({ grant: Grant });
