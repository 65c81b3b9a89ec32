import { z } from 'zod';
import { Permission, ResourceType } from './enums';
import { text } from './text';

/** What a discovered object is, finer than its resource type. */
export const ResourceKind = z.enum(['database', 'schema', 'table', 'partitioned_table', 'view', 'materialized_view', 'foreign_table', 'sequence', 'role']);
export type ResourceKind = z.infer<typeof ResourceKind>;

export const Tags = z.record(z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'tag keys are 1-128 letters, digits, _ . : / -'), text({ max: 256 }));

export const Resource = z.object({
  id: z.string().uuid(),
  integrationId: z.string().uuid(),
  type: ResourceType,
  kind: ResourceKind,
  /** `database/schema/name`, each part exactly as PostgreSQL names it (see `parts` when a name holds `/`). */
  path: z.string(),
  parts: z.object({ database: z.string().optional(), schema: z.string().optional(), name: z.string() }),
  owner: z.string().nullable(),
  comment: z.string().nullable(),
  /** Effective tags: from `latchkey:key=value` comment lines, overridden by API tags. */
  tags: z.record(z.string(), z.string()),
  apiTags: z.record(z.string(), z.string()),
  permissions: z.array(Permission),
  /** Roles only: Latchkey's own managed roles are marked. */
  managed: z.boolean(),
  /**
   * Roles only: why Latchkey never hands out membership in this role (it is, or reaches through
   * its memberships, a superuser, a role with CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS, a
   * predefined role of that power, or one of Latchkey's own roles); null when it may be requested.
   * Such a role offers no permission.
   */
  unrequestableReason: z.string().nullable(),
  discoveredAt: z.string(),
  updatedAt: z.string(),
});
export type Resource = z.infer<typeof Resource>;

/**
 * The line Latchkey writes into the COMMENT of its own control database. A connector never
 * discovers, offers or suggests fixes for a database carrying it, and never grants on it.
 */
export const CONTROL_DATABASE_TAG = 'latchkey:control-database=true';

export const ResourceQuery = z.object({
  integrationId: z.string().uuid('must be a UUID').optional(),
  type: ResourceType.optional(),
  /** Fragment of the path, case-insensitive. */
  q: text({ max: 200 }).optional(),
  /** `key` or `key=value`. */
  tag: text({ max: 400 }).optional(),
  pageSize: z.coerce.number().int().min(1).max(500).default(50),
  pageToken: text({ max: 400 }).optional(),
});

export const RefreshCounts = z.object({ added: z.number().int(), updated: z.number().int(), removed: z.number().int(), total: z.number().int() });
export type RefreshCounts = z.infer<typeof RefreshCounts>;
