import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, QueryRunner } from 'typeorm';
import type { RefreshCounts, ResourceKind, ResourceSelector, ResourceType, TargetSelection } from '@latchkey/contracts';
import { AuditOutbox, lockForTransaction } from '@latchkey/persistence';
import type { OutboxEntry } from '@latchkey/persistence';

/** A discovered object as the inventory stores it. */
export interface ResourceRow {
  id: string;
  kind: ResourceKind;
  type: ResourceType;
  database: string | null;
  schema: string | null;
  name: string;
  path: string;
  owner: string | null;
  comment: string | null;
  commentTags: Record<string, string>;
  managed: boolean;
  unrequestableReason: string | null;
}

/** A stored resource with its API tags and timestamps. */
export interface StoredResource extends ResourceRow {
  integrationId: string;
  apiTags: Record<string, string>;
  discoveredAt: Date;
  updatedAt: Date;
}

export interface ResourceFilter {
  integrationId?: string;
  type?: ResourceType;
  /** Path fragment, case-insensitive. */
  q?: string;
  tagKey?: string;
  tagValue?: string;
  after?: { path: string; id: string };
  limit: number;
  /** Only resources at least one of these flow targets covers (and never Latchkey's own roles). */
  targets?: TargetSelection[];
}

interface StoredRow {
  id: string;
  integration_id: string;
  kind: ResourceKind;
  type: ResourceType;
  database: string | null;
  schema: string | null;
  name: string;
  path: string;
  owner: string | null;
  comment: string | null;
  comment_tags: Record<string, string>;
  api_tags: Record<string, string> | null;
  managed: boolean;
  unrequestable_reason: string | null;
  discovered_at: Date;
  updated_at: Date;
}

const SELECT_RESOURCES = `
  SELECT r.id, r.integration_id, r.kind, r.type, r.database, r.schema, r.name, r.path, r.owner, r.comment,
         r.comment_tags, a.tags AS api_tags, r.managed, r.unrequestable_reason, r.discovered_at, r.updated_at
    FROM discovery.resources r
    LEFT JOIN discovery.api_tags a ON a.resource_id = r.id`;

/** $1 integration, $2 type, $3 path fragment, $4 tag key, $5 tag value, $6/$7 after (path, id), $8 limit; `extra` more conditions. */
const pageResources = (extra = 'true') => `${SELECT_RESOURCES}
  WHERE ($1::uuid IS NULL OR r.integration_id = $1)
    AND ($2::text IS NULL OR r.type = $2)
    AND ($3::text IS NULL OR strpos(lower(r.path COLLATE "default"), lower($3 COLLATE "default")) > 0)
    AND ($4::text IS NULL OR (r.comment_tags || coalesce(a.tags, '{}')) ? $4)
    AND ($5::text IS NULL OR (r.comment_tags || coalesce(a.tags, '{}')) ->> $4 = $5)
    AND ($6::text IS NULL OR (r.path, r.id) > ($6, $7::uuid))
    AND ${extra}
  ORDER BY r.path, r.id
  LIMIT $8`;

const GET_RESOURCE = `${SELECT_RESOURCES} WHERE r.id = $1`;
const LOCK_RESOURCE = `${SELECT_RESOURCES} WHERE r.id = $1 FOR UPDATE OF r`;

/**
 * A refresh's batch: every id goes to the refresh's list of seen ids; new rows are inserted and
 * existing ones rewritten only when something about them changed (most refreshes change little,
 * and an unchanged row costs no write). Inserted rows come back with no xmax. $1 is the batch of
 * ResourceRows as JSON: the recordset's columns are their field names.
 */
const UPSERT_RESOURCES = `
  WITH input AS (
    SELECT * FROM json_to_recordset($1::json) AS t(
      id uuid, kind text, type text, database text, schema text, name text, path text,
      owner text, comment text, "commentTags" jsonb, managed boolean, "unrequestableReason" text)
  ), seen AS (
    INSERT INTO pg_temp.refresh_seen (id) SELECT id FROM input
  ), written AS (
    INSERT INTO discovery.resources AS r
           (id, integration_id, kind, type, database, schema, name, path, owner, comment, comment_tags, managed, unrequestable_reason, discovered_at, updated_at)
    SELECT id, $2, kind, type, database, schema, name, path, owner, comment, "commentTags", managed, "unrequestableReason", $3, $3 FROM input
    ON CONFLICT (id) DO UPDATE SET
      owner = EXCLUDED.owner,
      comment = EXCLUDED.comment,
      comment_tags = EXCLUDED.comment_tags,
      managed = EXCLUDED.managed,
      unrequestable_reason = EXCLUDED.unrequestable_reason,
      updated_at = EXCLUDED.updated_at
    WHERE (r.owner, r.comment, r.comment_tags, r.managed, r.unrequestable_reason)
          IS DISTINCT FROM (EXCLUDED.owner, EXCLUDED.comment, EXCLUDED.comment_tags, EXCLUDED.managed, EXCLUDED.unrequestable_reason)
    RETURNING r.xmax = 0 AS inserted
  )
  SELECT (count(*) FILTER (WHERE inserted))::int AS added,
         (count(*) FILTER (WHERE NOT inserted))::int AS updated
    FROM written`;

/** Rows the refresh did not see are gone, except in databases it could not read. */
const SWEEP_RESOURCES = `
  WITH gone AS (
    DELETE FROM discovery.resources r
     WHERE r.integration_id = $1
       AND NOT EXISTS (SELECT 1 FROM pg_temp.refresh_seen s WHERE s.id = r.id)
       AND NOT (r.kind NOT IN ('database', 'role') AND r.database = ANY($2::text[]))
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM gone)::int AS removed,
         -- The statement's snapshot does not see its own deletions: subtract them.
         ((SELECT count(*) FROM discovery.resources WHERE integration_id = $1) - (SELECT count(*) FROM gone))::int AS total`;

/** Rows added or removed by one refresh from which its statistics are refreshed at once (ANALYZE samples at most 30,000 rows). */
export const STATISTICS_AFTER_CHANGES = 1000;

/**
 * Writes one refresh of one integration inside one transaction of the control database, under a
 * per-integration advisory lock: two refreshes of the same integration never overlap (the second
 * waits), and a refresh that fails half-way leaves the previous inventory exactly as it was.
 */
export class InventoryWriter {
  private readonly counts = { added: 0, updated: 0 };

  constructor(
    private readonly runner: QueryRunner,
    private readonly integrationId: string,
    /** The refresh's timestamp: rows it adds or changes carry it. */
    private readonly startedAt: Date,
  ) {}

  async write(rows: ResourceRow[]): Promise<void> {
    if (rows.length === 0) return;
    const [result] = (await this.runner.query(UPSERT_RESOURCES, [JSON.stringify(rows), this.integrationId, this.startedAt])) as Array<{
      added: number;
      updated: number;
    }>;
    this.counts.added += result.added;
    this.counts.updated += result.updated;
  }

  /** Removes what this refresh did not see, records the refresh and commits. */
  async commit(state: { connectorId: string; skippedDatabases: string[]; ms: number }): Promise<RefreshCounts> {
    const [{ removed, total }] = (await this.runner.query(SWEEP_RESOURCES, [this.integrationId, state.skippedDatabases])) as Array<{
      removed: number;
      total: number;
    }>;
    const counts = { ...this.counts, removed, total };
    await this.runner.query(
      `INSERT INTO discovery.refresh_state AS s
              (integration_id, connector_id, started_at, succeeded_at, last_error, added, updated, removed, total, duration_ms, skipped_databases)
       VALUES ($1, $2, $3, now(), NULL, $4, $5, $6, $7, $8, $9::jsonb)
       ON CONFLICT (integration_id) DO UPDATE SET
         connector_id = EXCLUDED.connector_id, started_at = EXCLUDED.started_at, succeeded_at = EXCLUDED.succeeded_at, last_error = NULL,
         added = EXCLUDED.added, updated = EXCLUDED.updated, removed = EXCLUDED.removed, total = EXCLUDED.total,
         duration_ms = EXCLUDED.duration_ms, skipped_databases = EXCLUDED.skipped_databases`,
      [
        this.integrationId,
        state.connectorId,
        this.startedAt,
        counts.added,
        counts.updated,
        removed,
        total,
        Math.round(state.ms),
        JSON.stringify(state.skippedDatabases),
      ],
    );
    await this.runner.commitTransaction();
    await this.runner.release();
    return counts;
  }

  async abort(): Promise<void> {
    try {
      if (this.runner.isTransactionActive) await this.runner.rollbackTransaction();
    } finally {
      await this.runner.release();
    }
  }
}

@Injectable()
export class ResourcesRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: AuditOutbox,
  ) {}

  /** Opens the refresh's transaction; waits while another refresh of the integration runs. */
  async beginRefresh(integrationId: string): Promise<InventoryWriter> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await lockForTransaction(runner, 'latchkey:discovery', integrationId);
      // The ids this refresh sees; private to the session, gone with the transaction.
      await runner.query('CREATE TEMP TABLE refresh_seen (id uuid) ON COMMIT DROP');
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
      throw err;
    }
    return new InventoryWriter(runner, integrationId, new Date());
  }

  async recordFailure(integrationId: string, connectorId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO discovery.refresh_state AS s (integration_id, connector_id, failed_at, last_error)
       VALUES ($1, $2, now(), $3)
       ON CONFLICT (integration_id) DO UPDATE SET connector_id = EXCLUDED.connector_id, failed_at = EXCLUDED.failed_at, last_error = EXCLUDED.last_error`,
      [integrationId, connectorId, reason],
    );
  }

  /** Deletes an integration's whole inventory (API tags with it), after any refresh of it ends. */
  async removeInventory(integrationId: string): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      await lockForTransaction(manager, 'latchkey:discovery', integrationId);
      const removed = (await manager.query('DELETE FROM discovery.resources WHERE integration_id = $1', [integrationId])) as [unknown, number];
      await manager.query('DELETE FROM discovery.refresh_state WHERE integration_id = $1', [integrationId]);
      return removed[1];
    });
  }

  /**
   * Gives the planner fresh statistics after a refresh that changed many rows. Autovacuum gets there
   * within a minute or so, but until it does a new inventory of thousands of tables has none: the
   * planner then reads every row of the integration and sorts them for a page of 50 (100 ms at 50,000
   * tables) instead of walking the path index (under 1 ms). False when the change was too small to matter.
   */
  async refreshStatistics(counts: Pick<RefreshCounts, 'added' | 'removed'>): Promise<boolean> {
    if (counts.added + counts.removed < STATISTICS_AFTER_CHANGES) return false;
    await this.dataSource.query('ANALYZE discovery.resources');
    return true;
  }

  /** Integrations this inventory holds anything about. */
  async inventoried(): Promise<string[]> {
    const rows = (await this.dataSource.query(
      'SELECT integration_id FROM discovery.refresh_state UNION SELECT DISTINCT integration_id FROM discovery.resources',
    )) as Array<{ integration_id: string }>;
    return rows.map((r) => r.integration_id);
  }

  /** One page in path order (bytewise), then id; `after` is the last row of the previous page. */
  async page(filter: ResourceFilter): Promise<StoredResource[]> {
    const params: unknown[] = [
      filter.integrationId ?? null,
      filter.type ?? null,
      filter.q ?? null,
      filter.tagKey ?? null,
      filter.tagValue ?? null,
      filter.after?.path ?? null,
      filter.after?.id ?? null,
      filter.limit,
    ];
    // Flows never offer Latchkey's own roles, nor roles it never hands out.
    const sql = pageResources(filter.targets ? `NOT r.managed AND r.unrequestable_reason IS NULL AND ${targetsClause(filter.targets, params)}` : undefined);
    const rows = (await this.dataSource.query(sql, params)) as StoredRow[];
    return rows.map(toStored);
  }

  async findById(id: string): Promise<StoredResource | null> {
    const rows = (await this.dataSource.query(GET_RESOURCE, [id])) as StoredRow[];
    return rows[0] ? toStored(rows[0]) : null;
  }

  /**
   * Replaces a resource's API tags (none: removes them) and records the change (with the tags before and after) in the
   * audit outbox, in one transaction. False when the resource does not exist.
   */
  async putApiTags(
    id: string,
    tags: Record<string, string>,
    audit: (change: { resource: StoredResource; before: Record<string, string> }) => OutboxEntry,
  ): Promise<boolean> {
    try {
      return await this.outbox.transaction(async (m) => {
        const rows = (await m.query(LOCK_RESOURCE, [id])) as StoredRow[];
        if (rows.length === 0) return false;
        const resource = toStored(rows[0]);
        if (Object.keys(tags).length === 0) {
          await m.query('DELETE FROM discovery.api_tags WHERE resource_id = $1', [id]);
        } else {
          await m.query(
            `INSERT INTO discovery.api_tags (resource_id, tags, updated_at) VALUES ($1, $2::jsonb, now())
             ON CONFLICT (resource_id) DO UPDATE SET tags = EXCLUDED.tags, updated_at = EXCLUDED.updated_at`,
            [id, JSON.stringify(tags)],
          );
        }
        await this.outbox.add(m, audit({ resource, before: resource.apiTags }));
        return true;
      });
    } catch (err) {
      // The resource was removed by a refresh in the meantime.
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23503') return false;
      throw err;
    }
  }

  /** An audit entry of its own (a refresh asked for). */
  async audit(entry: OutboxEntry): Promise<void> {
    await this.outbox.transaction((m) => this.outbox.add(m, entry));
  }
}

/**
 * The SQL twin of flow matching's `targetCovers` (apps/access): integration and type, then the
 * selector. Globs (`*`, `?`) become LIKE patterns, case-sensitive like PostgreSQL names. Every value
 * is a bound parameter appended to `params`; no target ever covers nothing but an empty list.
 *
 * Targets on the same integration and type share one condition on them, and their includes of one
 * kind share one array (a LIKE ANY over every name pattern, one id list, one pattern list per tag
 * key): the same rows, in a statement the planner reads once instead of once per flow (with 100
 * flows, planning the per-target form cost more than running it).
 */
export function targetsClause(targets: TargetSelection[], params: unknown[]): string {
  const bind = (value: unknown) => `$${params.push(value)}`;
  const groups = new Map<
    string,
    {
      integrationId: string;
      resourceType: string;
      everything: boolean;
      names: Set<string>;
      ids: Set<string>;
      tags: Map<string, Set<string>>;
      excludes: Map<string, ResourceSelector>;
    }
  >();
  for (const target of targets) {
    const key = JSON.stringify([target.integrationId, target.resourceType]);
    let group = groups.get(key);
    if (!group)
      groups.set(
        key,
        (group = {
          integrationId: target.integrationId,
          resourceType: target.resourceType,
          everything: false,
          names: new Set(),
          ids: new Set(),
          tags: new Map(),
          excludes: new Map(),
        }),
      );
    const selector = target.resources;
    if (!selector) group.everything = true;
    else if (selector.mode === 'exclude') group.excludes.set(JSON.stringify(selector), selector);
    else if (selector.by === 'name') selector.values.forEach((v) => group.names.add(globToLike(v)));
    else if (selector.by === 'id') selector.values.forEach((v) => group.ids.add(v.toLowerCase()));
    else {
      const patterns = group.tags.get(selector.key!) ?? new Set<string>();
      selector.values.forEach((v) => patterns.add(globToLike(v)));
      group.tags.set(selector.key!, patterns);
    }
  }
  if (groups.size === 0) return 'false';
  const clauses = [...groups.values()].map((group) => {
    const where = `r.integration_id = ${bind(group.integrationId)}::uuid AND r.type = ${bind(group.resourceType)}`;
    if (group.everything) return `(${where})`;
    const any = [
      ...(group.names.size ? [`r.path LIKE ANY(${bind([...group.names])}::text[])`] : []),
      ...(group.ids.size ? [`r.id = ANY(${bind([...group.ids])}::uuid[])`] : []),
      ...[...group.tags].map(([key, patterns]) => tagLike(key, [...patterns], bind)),
      ...[...group.excludes.values()].map((selector) => excluded(selector, bind)),
    ];
    return `(${where} AND (${any.join(' OR ')}))`;
  });
  return `(${clauses.join(' OR ')})`;
}

/** A resource without the tag is not selected (NULL LIKE ... is NULL, hence the coalesce). */
const tagLike = (key: string, patterns: string[], bind: (v: unknown) => string) =>
  `coalesce((r.comment_tags || coalesce(a.tags, '{}')) ->> ${bind(key)}::text LIKE ANY(${bind(patterns)}::text[]), false)`;

/** What an exclude selector leaves: NOT its condition (excludes of several flows cannot share an array). */
function excluded(selector: ResourceSelector, bind: (v: unknown) => string): string {
  let sql: string;
  switch (selector.by) {
    case 'id':
      sql = `r.id = ANY(${bind(selector.values.map((v) => v.toLowerCase()))}::uuid[])`;
      break;
    case 'name':
      sql = `r.path LIKE ANY(${bind(selector.values.map(globToLike))}::text[])`;
      break;
    case 'tag':
      sql = tagLike(selector.key!, selector.values.map(globToLike), bind);
      break;
  }
  return `NOT ${sql}`;
}

/** `*` any characters, `?` one; LIKE's own wildcards and its escape character are taken literally. */
export const globToLike = (glob: string) =>
  [...glob].map((ch) => (ch === '*' ? '%' : ch === '?' ? '_' : ch === '%' || ch === '_' || ch === '\\' ? `\\${ch}` : ch)).join('');

function toStored(row: StoredRow): StoredResource {
  return {
    id: row.id,
    integrationId: row.integration_id,
    kind: row.kind,
    type: row.type,
    database: row.database,
    schema: row.schema,
    name: row.name,
    path: row.path,
    owner: row.owner,
    comment: row.comment,
    commentTags: row.comment_tags,
    apiTags: row.api_tags ?? {},
    managed: row.managed,
    unrequestableReason: row.unrequestable_reason,
    discoveredAt: row.discovered_at,
    updatedAt: row.updated_at,
  };
}
