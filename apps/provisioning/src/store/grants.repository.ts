import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { GrantStates } from '@latchkey/contracts';
import type { Actor, GrantItem, GrantStatus } from '@latchkey/contracts';
import { SameTurnBatch } from '@latchkey/messaging';
import { AuditOutbox, runPrepared, withSessionLock } from '@latchkey/persistence';
import type { OutboxEntry, PreparedStatement } from '@latchkey/persistence';
import { GrantEntity, PersonalRoleEntity } from './grant.entity';

/** Revocation's claim of a due grant: ACTIVE only (a GRANTING one is the sweeper's to finish or roll back). */
const CLAIM = { from: 'ACTIVE' as GrantStatus, to: GrantStates.transition('ACTIVE', 'REVOKING') };

// The statements of every revocation, prepared (runPrepared): planned once per pooled connection, not on every call.

/** Marks a person's role (integration, role name, connector, identity: $first to $first+3) as used now: touchRole, alone or in a statement that changes a grant. */
const touchRoleSql = (first: number) => touchRolesSql(`VALUES ($${first}, $${first + 1}, $${first + 2}, $${first + 3}, now(), 'ACTIVE')`);
/** touchRoleSql's upsert of the rows `source` yields (integration, role name, connector, identity, now(), 'ACTIVE'), each role once. */
const touchRolesSql = (source: string) =>
  `INSERT INTO provisioning.personal_roles (integration_id, role_name, connector_id, identity_id, last_active_at, state)
   ${source}
   ON CONFLICT (integration_id, role_name) DO UPDATE SET last_active_at = now(), state = 'ACTIVE', state_reason = NULL`;
const TOUCH_ROLE = touchRoleSql(1);

/**
 * Claims due ACTIVE grants ($1 ids, each due by its own $2 now; $4 to, $5 from) with the items of
 * each person's other grants that hold access ($3), answering the claimed rows (none for a grant
 * not due and ACTIVE). Grants claimed together read each other as they were: still holding.
 */
const CLAIM_EXPIRED: PreparedStatement = {
  name: 'provisioning_claim_expired',
  text: `WITH w AS (
           SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS w(id, now)
         ), claimed AS (
           UPDATE provisioning.grants g SET status = $4, end_reason = 'EXPIRED', updated_at = now()
             FROM w
            WHERE g.id = w.id AND g.status = $5 AND g.expires_at <= w.now
            RETURNING g.*
         )
         SELECT c.*, (SELECT coalesce(jsonb_agg(h.items), '[]'::jsonb) FROM provisioning.grants h
                       WHERE h.integration_id = c.integration_id AND h.role_name = c.role_name AND h.id <> c.id AND h.status = ANY($3)) AS held_items
           FROM claimed c`,
};

/**
 * For each (role $2[k], grant $3[k]) on the instance $1: the items of the person's grants that hold
 * access ($4), but that grant, as one jsonb array of item arrays; one row per pair, in their order.
 */
const HELD_ITEMS: PreparedStatement = {
  name: 'provisioning_held_items',
  // A subquery per pair: each an index scan of the person's grants (a join of the pairs planned generically scanned them all).
  text: `SELECT (SELECT coalesce(jsonb_agg(h.items), '[]'::jsonb) FROM provisioning.grants h
                   WHERE h.integration_id = $1 AND h.role_name = w.role_name AND h.id <> w.except_id AND h.status = ANY($4)) AS items
           FROM unnest($2::text[], $3::uuid[]) WITH ORDINALITY AS w(role_name, except_id, ord)
          ORDER BY w.ord`,
};

/**
 * Ends revocations ($1 ids, at $6; each guarded by the predecessors $7) and marks each person's role
 * ($2-$5 for each) as used now, in one statement for grants that end at the same moment.
 */
const END_REVOCATIONS: PreparedStatement = {
  name: 'provisioning_end_revocations',
  text: `WITH w AS (
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
                      AS w(id, integration_id, role_name, connector_id, identity_id, ended_at)
         ), ended AS (
           UPDATE provisioning.grants g
              SET status = CASE WHEN g.end_reason = 'REVOKED' THEN 'REVOKED' ELSE 'EXPIRED' END,
                  end_reason = CASE WHEN g.end_reason = 'REVOKED' THEN 'REVOKED' ELSE 'EXPIRED' END,
                  ended_at = w.ended_at, last_error = NULL, updated_at = now()
             FROM w
            WHERE g.id = w.id AND g.status = ANY($7)
            RETURNING g.*
         ), touched AS (
           ${touchRolesSql(`SELECT DISTINCT ON (integration_id, role_name) integration_id, role_name, connector_id, identity_id, now(), 'ACTIVE' FROM w ORDER BY integration_id, role_name`)}
         )
         SELECT * FROM ended`,
};

/**
 * New grants, one per element of the arrays $1-$12 (their columns in NewGrant's order), in that
 * order; a grant whose idempotency key is taken (before, or by an earlier element) is skipped.
 * Answers the rows made.
 */
const INSERT_GRANTS: PreparedStatement = {
  name: 'provisioning_insert_grants',
  text: `INSERT INTO provisioning.grants (idempotency_key, integration_id, connector_id, identity_id, identity_email, role_name, items,
                connection_limit, status, expires_at, attempts, password_envelope)
         SELECT w.idempotency_key, w.integration_id, w.connector_id, w.identity_id, w.identity_email, w.role_name, w.items::jsonb,
                w.connection_limit, w.status, w.expires_at, w.attempts, w.password_envelope::jsonb
           FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[],
                       $10::timestamptz[], $11::int[], $12::text[])
                AS w(idempotency_key, integration_id, connector_id, identity_id, identity_email, role_name, items, connection_limit, status,
                     expires_at, attempts, password_envelope)
         ON CONFLICT DO NOTHING
         RETURNING *`,
};

/**
 * Grants made on the target ($1 ids, each at its $6; guarded by the predecessors $8) turn ACTIVE
 * ($7), and each person's role ($2-$5 for each) is marked as used now, in one statement.
 */
const ACTIVATE_GRANTS: PreparedStatement = {
  name: 'provisioning_activate_grants',
  text: `WITH w AS (
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
                      AS w(id, integration_id, role_name, connector_id, identity_id, granted_at)
         ), activated AS (
           UPDATE provisioning.grants g SET status = $7, granted_at = w.granted_at, last_error = NULL, updated_at = now()
             FROM w
            WHERE g.id = w.id AND g.status = ANY($8)
            RETURNING g.*
         ), touched AS (
           ${touchRolesSql(`SELECT DISTINCT ON (integration_id, role_name) integration_id, role_name, connector_id, identity_id, now(), 'ACTIVE' FROM w ORDER BY integration_id, role_name`)}
         )
         SELECT * FROM activated`,
};

/** What a new grant is made of; the rest starts empty (and its id, times and attempts from the table's defaults). */
export type NewGrant = Pick<
  GrantEntity,
  | 'idempotencyKey'
  | 'integrationId'
  | 'connectorId'
  | 'identityId'
  | 'identityEmail'
  | 'roleName'
  | 'items'
  | 'connectionLimit'
  | 'status'
  | 'expiresAt'
  | 'attempts'
  | 'passwordEnvelope'
>;

/** A due grant claimed for its revocation, with the items of the person's other grants that hold access. */
type ClaimedGrant = { grant: GrantEntity; heldItems: GrantItem[] };

/** What activating a grant or ending its revocation needs of it: the grant and its person's role. */
type GrantOfRole = Pick<GrantEntity, 'id' | 'integrationId' | 'roleName' | 'connectorId' | 'identityId'>;

/** The arrays of the grants' ids, integrations, role names, connectors and identities, as ACTIVATE_GRANTS and END_REVOCATIONS bind them. */
const roleColumns = (grants: GrantOfRole[]) => [
  grants.map((g) => g.id),
  grants.map((g) => g.integrationId),
  grants.map((g) => g.roleName),
  grants.map((g) => g.connectorId),
  grants.map((g) => g.identityId),
];

@Injectable()
export class GrantsRepository {
  private readonly grants: Repository<GrantEntity>;
  private readonly roles: Repository<PersonalRoleEntity>;
  private readonly claiming = new SameTurnBatch((claims: Array<{ id: string; now: Date }>) => this.claimAll(claims));
  private readonly ending = new SameTurnBatch((ending: Array<{ grant: GrantOfRole; endedAt: Date }>) => this.endRevocations(ending));
  // Should the statement of a turn fail, each grant is inserted alone: one grant's failure is its own.
  private readonly inserting = new SameTurnBatch((grants: NewGrant[]) => this.insertAll(grants), { aloneOnFailure: true });
  private readonly activating = new SameTurnBatch((activations: Array<{ grant: GrantOfRole; grantedAt: Date }>) => this.activateAll(activations));

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: AuditOutbox,
  ) {
    this.grants = dataSource.getRepository(GrantEntity);
    this.roles = dataSource.getRepository(PersonalRoleEntity);
  }

  /**
   * Runs `work` holding this connector's sweep lock, a session lock taken without waiting: one
   * replica per connector sweeps at a time. `{ taken: false }` (and `work` not run) when another holds it.
   */
  async withSweepLock<T>(connectorId: string, work: () => Promise<T>): Promise<{ taken: true; value: T } | { taken: false }> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await withSessionLock(runner, `latchkey:sweep:${connectorId}`, work, { wait: false });
    } finally {
      await runner.release();
    }
  }

  /** Inserts the grant unless its idempotency key exists; answers the row that holds the key. */
  async insertOnce(fields: NewGrant, audit?: (grant: GrantEntity) => OutboxEntry): Promise<{ grant: GrantEntity; created: boolean }> {
    const created = audit
      ? await this.outbox.transaction(async (m) => {
          const result = await m.getRepository(GrantEntity).createQueryBuilder().insert().values(fields).orIgnore().returning('*').execute();
          const row = result.raw.length > 0 ? this.fromRow(result.raw[0]) : null;
          if (row) await this.outbox.add(m, audit(row));
          return row;
        })
      : await this.insertPrepared(fields);
    if (created) return { grant: created, created: true };
    return { grant: await this.grants.findOneByOrFail({ idempotencyKey: fields.idempotencyKey }), created: false };
  }

  /** The usual insert (a grant for an access request, no audit entry of its own): those of one turn in one statement. */
  private insertPrepared(g: NewGrant): Promise<GrantEntity | null> {
    return this.inserting.add(g);
  }

  /** insertPrepared() of the grants of one turn, in one statement; null for a grant whose key was taken. */
  private async insertAll(grants: NewGrant[]): Promise<Array<GrantEntity | null>> {
    const rows = await runPrepared(this.dataSource, INSERT_GRANTS, [
      grants.map((g) => g.idempotencyKey),
      grants.map((g) => g.integrationId),
      grants.map((g) => g.connectorId),
      grants.map((g) => g.identityId),
      grants.map((g) => g.identityEmail),
      grants.map((g) => g.roleName),
      grants.map((g) => JSON.stringify(g.items)),
      grants.map((g) => g.connectionLimit),
      grants.map((g) => g.status),
      grants.map((g) => g.expiresAt),
      grants.map((g) => g.attempts),
      grants.map((g) => (g.passwordEnvelope === null ? null : JSON.stringify(g.passwordEnvelope))),
    ]);
    return this.inOrder(
      grants.map((g) => g.idempotencyKey),
      rows,
      (row) => row.idempotency_key,
    );
  }

  findById(id: string): Promise<GrantEntity | null> {
    return this.grants.findOneBy({ id });
  }

  /**
   * Runs `work` holding the grant's row lock: changes to one grant that also touch the target
   * (extend, new password) happen one at a time, so the expiry and the stored password always
   * match what the target holds; revocation's conditional updates wait for the lock too.
   */
  withLock<T>(
    id: string,
    work: (grant: GrantEntity | null, save: (fields: Partial<GrantEntity>, audit?: (grant: GrantEntity) => OutboxEntry) => Promise<GrantEntity>) => Promise<T>,
  ): Promise<T> {
    return this.outbox.transaction(async (m) => {
      const repo = m.getRepository(GrantEntity);
      const grant = await repo.createQueryBuilder('g').setLock('pessimistic_write').where('g.id = :id', { id }).getOne();
      // The change and its audit entry (an admin's direct action) commit together.
      const save = async (fields: Partial<GrantEntity>, audit?: (grant: GrantEntity) => OutboxEntry) => {
        const result = await repo
          .createQueryBuilder()
          .update()
          .set({ ...fields, updatedAt: () => 'now()' })
          .where('id = :id', { id })
          .returning('*')
          .execute();
        const saved = this.fromRow(result.raw[0]);
        if (audit) await this.outbox.add(m, audit(saved));
        return saved;
      };
      return work(grant, save);
    });
  }

  /**
   * Moves a grant to status `to` (with `fields`) only from a status the transition table lets move
   * there; null when it is in another (another path got there first).
   */
  async transition(
    id: string,
    to: GrantStatus,
    fields: Omit<Partial<GrantEntity>, 'status'>,
    audit?: (grant: GrantEntity) => OutboxEntry,
  ): Promise<GrantEntity | null> {
    const from = GrantStates.predecessorsOf(to);
    const update = async (m?: EntityManager) => {
      const result = await (m ? m.getRepository(GrantEntity) : this.grants)
        .createQueryBuilder()
        .update()
        .set({ ...fields, status: to, updatedAt: () => 'now()' })
        .where('id = :id AND status IN (:...from)', { id, from })
        .returning('*')
        .execute();
      return result.raw.length > 0 ? this.fromRow(result.raw[0]) : null;
    };
    if (!audit) return update();
    // The change and its audit entry commit together, or neither does.
    return this.outbox.transaction(async (m) => {
      const moved = await update(m);
      if (moved) await this.outbox.add(m, audit(moved));
      return moved;
    });
  }

  /** An audit entry of its own (a change made on the target, not in a grant row). */
  async audit(entry: OutboxEntry): Promise<void> {
    await this.outbox.transaction((m) => this.outbox.add(m, entry));
  }

  /**
   * The usual start of a due revocation in one round trip: an ACTIVE grant whose expiry has passed
   * (by `now`, the worker's clock, as before) moves to REVOKING (EXPIRED), with the items of the
   * person's other grants that still hold access. Null when the grant is in any other state: the
   * caller reads it and decides. The claims of one turn (jobs of a storm that start together) go in
   * one statement; the person's other grants are read again under the target's lock anyway.
   */
  claimExpired(id: string, now: Date): Promise<ClaimedGrant | null> {
    return this.claiming.add({ id, now });
  }

  /** claimExpired() of the grants whose jobs start in the same turn, in one statement; a grant named twice is claimed for the first. */
  private async claimAll(claims: Array<{ id: string; now: Date }>): Promise<Array<ClaimedGrant | null>> {
    const rows = await runPrepared(this.dataSource, CLAIM_EXPIRED, [
      claims.map((c) => c.id),
      claims.map((c) => c.now),
      GrantStates.HOLDING_ACCESS,
      CLAIM.to,
      CLAIM.from,
    ]);
    const claimed = new Map(rows.map((row) => [row.id as string, row]));
    return claims.map(({ id }) => {
      const row = claimed.get(id);
      claimed.delete(id);
      return row ? { grant: this.fromRow(row), heldItems: (row.held_items as GrantItem[][]).flat() } : null;
    });
  }

  /**
   * A person (or an admin, or Latchkey) ends a grant that still holds access: GRANTING or ACTIVE
   * moves to REVOKING. How it ends is decided here, once and truthfully: a grant whose time has
   * already run out EXPIRED, whoever asks; otherwise REVOKED by `by`. Null when the grant was no
   * longer GRANTING or ACTIVE (its end is already decided).
   */
  async beginRevocation(id: string, by: Actor, audit?: (grant: GrantEntity) => OutboxEntry): Promise<GrantEntity | null> {
    if (audit) {
      // The change and its audit entry commit together, or neither does.
      return this.outbox.transaction(async (m) => {
        const begun = await this.beginRevocationIn(m, id, by);
        if (begun) await this.outbox.add(m, audit(begun));
        return begun;
      });
    }
    return this.beginRevocationIn(this.dataSource.manager, id, by);
  }

  private async beginRevocationIn(m: EntityManager, id: string, by: Actor): Promise<GrantEntity | null> {
    const rows: Array<Record<string, unknown>> = await m.query(
      `WITH begun AS (
         UPDATE provisioning.grants
            SET status = $3,
                end_reason = CASE WHEN expires_at <= now() THEN 'EXPIRED' ELSE 'REVOKED' END,
                revoked_by = CASE WHEN expires_at <= now() THEN NULL ELSE $2::jsonb END,
                updated_at = now()
          WHERE id = $1 AND status = ANY($4)
          RETURNING *
       )
       SELECT * FROM begun`,
      [id, JSON.stringify(by), 'REVOKING' satisfies GrantStatus, GrantStates.predecessorsOf('REVOKING')],
    );
    return rows.length > 0 ? this.fromRow(rows[0]) : null;
  }

  /**
   * A grant made on the target, in one round trip: GRANTING moves to ACTIVE at `grantedAt`; null
   * when it moved on meanwhile (revoked or rolled back while the SQL ran). The person's role is
   * marked in use (touchRole) either way: it exists on the target now. The grants made in the same
   * turn (16 people at a time, say) turn ACTIVE in one statement.
   */
  activate(grant: GrantOfRole, grantedAt: Date): Promise<GrantEntity | null> {
    return this.activating.add({ grant, grantedAt });
  }

  /** activate() of grants of one turn, in one statement; a grant named twice is activated for the first. */
  private async activateAll(activations: Array<{ grant: GrantOfRole; grantedAt: Date }>): Promise<Array<GrantEntity | null>> {
    const grants = activations.map((a) => a.grant);
    const rows = await runPrepared(this.dataSource, ACTIVATE_GRANTS, [
      ...roleColumns(grants),
      activations.map((a) => a.grantedAt),
      'ACTIVE' satisfies GrantStatus,
      GrantStates.predecessorsOf('ACTIVE'),
    ]);
    return this.inOrder(
      grants.map((g) => g.id),
      rows,
      (row) => row.id,
    );
  }

  /**
   * The end of a revocation in one round trip: REVOKING or STUCK moves to the end its revocation
   * started with (end_reason: REVOKED, else EXPIRED), whichever path finishes it (the job, a retry,
   * the sweeper); null when another path got there first. The person's role is marked in use
   * (touchRole) either way. The revocations that end in the same turn (a storm's, made on the target
   * together) end in one statement.
   */
  endRevocation(grant: GrantOfRole, endedAt: Date): Promise<GrantEntity | null> {
    return this.ending.add({ grant, endedAt });
  }

  /** endRevocation() of grants that end in the same turn, in one statement; a grant named twice ends for the first. */
  private async endRevocations(ending: Array<{ grant: GrantOfRole; endedAt: Date }>): Promise<Array<GrantEntity | null>> {
    const grants = ending.map((e) => e.grant);
    // REVOKED and EXPIRED have the same predecessors (the table's spec checks it): one guard for either end.
    const rows = await runPrepared(this.dataSource, END_REVOCATIONS, [
      ...roleColumns(grants),
      ending.map((e) => e.endedAt),
      GrantStates.predecessorsOf('REVOKED'),
    ]);
    return this.inOrder(
      grants.map((g) => g.id),
      rows,
      (row) => row.id,
    );
  }

  /** For the metrics: this connector's ACTIVE grants, STUCK revocations, and unfinished grants past their expiry (one index scan). */
  async liveCounts(connectorId: string): Promise<{ active: number; stuck: number; overdue: number }> {
    const [row]: Array<Record<'active' | 'stuck' | 'overdue', string>> = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'ACTIVE') AS active,
              count(*) FILTER (WHERE status = 'STUCK') AS stuck,
              count(*) FILTER (WHERE expires_at < now()) AS overdue
         FROM provisioning.grants WHERE connector_id = $1 AND status = ANY($2)`,
      [connectorId, GrantStates.UNFINISHED],
    );
    return { active: Number(row.active), stuck: Number(row.stuck), overdue: Number(row.overdue) };
  }

  /** The grants of `rows` in the order of `keys` (each row's by `keyOf`), null for a key with no row; a key named twice has its row in its first place only. */
  private inOrder(keys: string[], rows: Array<Record<string, unknown>>, keyOf: (row: Record<string, unknown>) => unknown): Array<GrantEntity | null> {
    const byKey = new Map(rows.map((row) => [keyOf(row) as string, row]));
    return keys.map((key) => {
      const row = byKey.get(key);
      byKey.delete(key);
      return row ? this.fromRow(row) : null;
    });
  }

  /** A `RETURNING *` row as an entity, through TypeORM's own column mapping (one round trip, not two). */
  private fromRow(row: Record<string, unknown>): GrantEntity {
    const entity = new GrantEntity();
    for (const column of this.grants.metadata.columns) (entity as unknown as Record<string, unknown>)[column.propertyName] = row[column.databaseName];
    return entity;
  }

  async recordFailure(id: string, error: string): Promise<GrantEntity | null> {
    const result = await this.grants
      .createQueryBuilder()
      .update()
      .set({ attempts: () => 'attempts + 1', lastError: error.slice(0, 2000), updatedAt: () => 'now()' })
      .where('id = :id', { id })
      .returning('*')
      .execute();
    return result.raw.length > 0 ? this.fromRow(result.raw[0]) : null;
  }

  /** Items of the person's other grants on this instance that still hold access. */
  async heldItems(integrationId: string, roleName: string, exceptId: string): Promise<GrantItem[]> {
    const [held] = await this.heldItemsOfEach(integrationId, [{ roleName, id: exceptId }]);
    return held!;
  }

  /** heldItems() of each grant of the instance, in one statement, in their order. */
  async heldItemsOfEach(integrationId: string, grants: Array<Pick<GrantEntity, 'roleName' | 'id'>>): Promise<GrantItem[][]> {
    const rows = await runPrepared(this.dataSource, HELD_ITEMS, [
      integrationId,
      grants.map((g) => g.roleName),
      grants.map((g) => g.id),
      GrantStates.HOLDING_ACCESS,
    ]);
    return rows.map((row) => (row.items as GrantItem[][]).flat());
  }

  /** Grants of this connector whose revocation is due or unfinished: the sweeper's work list. */
  async dueForRevocation(connectorId: string, limit: number): Promise<GrantEntity[]> {
    return this.grants
      .createQueryBuilder('g')
      .where('g.connector_id = :connectorId', { connectorId })
      .andWhere("((g.status = 'ACTIVE' AND g.expires_at <= now()) OR g.status IN (:...beingRevoked))", { beingRevoked: GrantStates.BEING_REVOKED })
      .orderBy('g.expires_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  async staleGranting(connectorId: string, olderThanSeconds: number): Promise<GrantEntity[]> {
    return this.grants
      .createQueryBuilder('g')
      .where("g.connector_id = :connectorId AND g.status = 'GRANTING' AND g.updated_at < now() - make_interval(secs => :secs)", {
        connectorId,
        secs: olderThanSeconds,
      })
      .limit(500)
      .getMany();
  }

  async activeForIntegration(integrationId: string): Promise<GrantEntity[]> {
    return this.grants.createQueryBuilder('g').where("g.integration_id = :integrationId AND g.status = 'ACTIVE'", { integrationId }).getMany();
  }

  async page(filter: { connectorId: string; integrationId?: string; status?: GrantStatus }, pageSize: number, after?: { createdAt: string; id: string }) {
    const qb = this.grants.createQueryBuilder('g').where('g.connector_id = :connectorId', { connectorId: filter.connectorId });
    if (filter.integrationId) qb.andWhere('g.integration_id = :integrationId', { integrationId: filter.integrationId });
    if (filter.status) qb.andWhere('g.status = :status', { status: filter.status });
    if (after) qb.andWhere('(g.created_at, g.id) > (:createdAt, :id)', after);
    return qb
      .orderBy('g.created_at', 'ASC')
      .addOrderBy('g.id', 'ASC')
      .limit(pageSize + 1)
      .getMany();
  }

  /** The person's role is in use on this instance now. */
  async touchRole(integrationId: string, roleName: string, connectorId: string, identityId: string): Promise<void> {
    await this.dataSource.query(TOUCH_ROLE, [integrationId, roleName, connectorId, identityId]);
  }

  /** Roles of this connector unused for `seconds`, with no grant left to revoke. */
  async rolesToClean(connectorId: string, seconds: number): Promise<PersonalRoleEntity[]> {
    return this.roles
      .createQueryBuilder('r')
      .where("r.connector_id = :connectorId AND r.state = 'ACTIVE' AND r.last_active_at < now() - make_interval(secs => :seconds)", { connectorId, seconds })
      .andWhere(
        'NOT EXISTS (SELECT 1 FROM provisioning.grants g WHERE g.integration_id = r.integration_id AND g.role_name = r.role_name AND g.status IN (:...unfinished))',
        {
          unfinished: GrantStates.UNFINISHED,
        },
      )
      .limit(100)
      .getMany();
  }

  async setRoleState(integrationId: string, roleName: string, state: PersonalRoleEntity['state'], reason: string | null): Promise<void> {
    await this.roles.update({ integrationId, roleName }, { state, stateReason: reason });
  }
}
