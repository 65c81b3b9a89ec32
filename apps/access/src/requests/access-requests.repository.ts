import { Injectable } from '@nestjs/common';
import { DataSource, In, Repository } from 'typeorm';
import { managerOf, transactionOn, Tx } from '../control-database/transactions.repository';
import { RequestStates } from '@latchkey/contracts';
import type { AccessRequestStatus, EncryptedEnvelope } from '@latchkey/contracts';
import { SameTurnBatch } from '@latchkey/messaging';
import { decodePageToken, encodePageToken, runPrepared } from '@latchkey/persistence';
import type { PreparedStatement } from '@latchkey/persistence';
import { auditInsertFrom, auditValues, jsonbParam } from '../audit/audit.repository';
import type { PreparedAudit } from '../audit/audit-trail';
import { AccessRequestEntity } from './access-request.entity';
import { BadRequestPageTokenError, PENDING_AGES, RequestStore } from './requests.ports';
import type { DecisionFields, GrantedFields, PendingAge, RequestPageQuery } from './requests.ports';

/** An escalation tier of the request that is due names the person (parameter `param`) among its approvers. */
const escalatedTo = (param: string) =>
  `EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(r.flow_limits->'escalation', '[]'::jsonb)) AS t(tier), jsonb_array_elements(t.tier->'groups') AS g(grp)
     WHERE (t.tier->>'dueAt')::timestamptz <= now() AND g.grp->'approverIds' @> jsonb_build_array(CAST(:${param} AS text)))`;

/** An approver group of the request that nobody has approved yet names the person (parameter `param`). */
const undecidedGroupOf = (param: string) =>
  `EXISTS (SELECT 1 FROM jsonb_array_elements(r.approver_groups) AS g(grp)
     WHERE g.grp->'satisfiedBy' = 'null'::jsonb AND g.grp->'approverIds' @> jsonb_build_array(CAST(:${param} AS text)))`;

// The hot path of an access request (create, granted, credentials viewed): the change and its
// audit entries in one prepared statement, no transaction, where the locked path takes five round
// trips (BEGIN, the row's lock, the change, the entries, COMMIT). New requests and grants recorded
// in the same turn (16 people at a time, say) go in one statement each. Each answers the ids of
// the rows it changed.

/** The columns of a request, in the order INSERT_AUDITED binds them (one array each). */
const REQUEST_COLUMNS = `id, status, requester_id, requester_email, flow_id, flow_name, flow_limits, integration_id, items,
  justification, duration_minutes, approval_mode, approver_groups, approver_ids, approvals, created_at, updated_at, decided_at,
  granted_at, expires_at, ended_at, extensions, grant_id, status_reason, login, password_envelope, password_viewed_at, revoked_by`;

const INSERT_AUDITED: PreparedStatement = {
  name: 'access_requests_insert_audited',
  text: `WITH w AS (
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::uuid[], $9::text[],
                                $10::text[], $11::int[], $12::text[], $13::text[], $14::text[], $15::text[], $16::timestamptz[], $17::timestamptz[],
                                $18::timestamptz[], $19::timestamptz[], $20::timestamptz[], $21::timestamptz[], $22::int[], $23::uuid[], $24::text[],
                                $25::text[], $26::text[], $27::timestamptz[], $28::text[])
                    AS w(${REQUEST_COLUMNS})
         ), inserted AS (
           INSERT INTO access.access_requests (${REQUEST_COLUMNS})
           SELECT id, status, requester_id, requester_email, flow_id, flow_name, flow_limits::jsonb, integration_id, items::jsonb,
                  justification, duration_minutes, approval_mode, approver_groups::jsonb,
                  ARRAY(SELECT jsonb_array_elements_text(approver_ids::jsonb)::uuid), approvals::jsonb, created_at, updated_at, decided_at,
                  granted_at, expires_at, ended_at, extensions, grant_id, status_reason, login::jsonb, password_envelope::jsonb,
                  password_viewed_at, revoked_by::jsonb
             FROM w
           RETURNING id
         ), audited AS (
           ${auditInsertFrom('inserted', 29)}
         )
         SELECT id FROM inserted`,
};

const RECORD_GRANTED: PreparedStatement = {
  name: 'access_requests_record_granted',
  text: `WITH w AS (
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[],
                                $9::timestamptz[])
                    AS w(id, from_status, status, grant_id, granted_at, expires_at, login, password_envelope, password_viewed_at)
         ), changed AS (
           UPDATE access.access_requests r
              SET status = w.status, grant_id = w.grant_id, granted_at = w.granted_at, expires_at = w.expires_at, status_reason = NULL,
                  login = w.login::jsonb, password_envelope = w.password_envelope::jsonb, password_viewed_at = w.password_viewed_at, updated_at = $10
             FROM w
            WHERE r.id = w.id AND r.status = w.from_status
           RETURNING r.id
         ), audited AS (
           ${auditInsertFrom('changed', 11)}
         )
         SELECT id FROM changed`,
};

const RECORD_DECISION: PreparedStatement = {
  name: 'access_request_record_decision',
  text: `WITH changed AS (
           UPDATE access.access_requests
              SET approver_groups = $5::jsonb, approvals = $6::jsonb, status = $7, decided_at = $8, updated_at = $9
            WHERE id = $1 AND status = $2 AND approver_groups = $3::jsonb AND approvals = $4::jsonb
           RETURNING id
         ), audited AS (
           ${auditInsertFrom('changed', 10)}
         )
         SELECT id FROM changed`,
};

const RECORD_PASSWORD_VIEWED: PreparedStatement = {
  name: 'access_request_record_password_viewed',
  text: `WITH changed AS (
           UPDATE access.access_requests SET password_viewed_at = $2, password_envelope = NULL, updated_at = $2
            WHERE id = $1 AND status = 'GRANTED' AND password_envelope = $3::jsonb AND password_viewed_at IS NULL
           RETURNING id
         ), audited AS (
           ${auditInsertFrom('changed', 4)}
         )
         SELECT id FROM changed`,
};

/** A grant to record (recordGranted's arguments). */
interface GrantedChange {
  id: string;
  from: AccessRequestStatus;
  fields: GrantedFields;
  audit: PreparedAudit;
}

@Injectable()
export class AccessRequestsRepository implements RequestStore {
  private readonly repo: Repository<AccessRequestEntity>;
  // Should the statement of a turn fail, each request is written alone: one request's failure is its own.
  private readonly inserting = new SameTurnBatch((requests: Array<{ row: AccessRequestEntity; audit: PreparedAudit }>) => this.insertAll(requests), {
    aloneOnFailure: true,
  });
  // A request named twice in one turn (the inline grant and its job) is changed in a second round, as two calls would change it.
  private readonly granting = new SameTurnBatch((changes: GrantedChange[]) => this.recordAllGranted(changes), {
    aloneOnFailure: true,
    keyOf: (c) => c.id,
  });

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(AccessRequestEntity);
  }

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return transactionOn(this.dataSource, work);
  }

  findById(id: string): Promise<AccessRequestEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findByIds(ids: readonly string[]): Promise<AccessRequestEntity[]> {
    return ids.length ? this.repo.findBy({ id: In([...ids]) }) : Promise.resolve([]);
  }

  /** The row, locked until the transaction ends: decisions on one request happen one at a time. */
  lock(tx: Tx, id: string): Promise<AccessRequestEntity | null> {
    const m = managerOf(tx);
    return m.getRepository(AccessRequestEntity).createQueryBuilder('r').setLock('pessimistic_write').where('r.id = :id', { id }).getOne();
  }

  insert(tx: Tx, row: Omit<AccessRequestEntity, 'id'>): Promise<AccessRequestEntity> {
    const m = managerOf(tx);
    const repo = m.getRepository(AccessRequestEntity);
    return repo.save(repo.create(row));
  }

  async update(tx: Tx, id: string, fields: Partial<AccessRequestEntity>): Promise<void> {
    const m = managerOf(tx);
    await m.getRepository(AccessRequestEntity).update({ id }, { ...fields, updatedAt: new Date() });
  }

  insertAudited(r: AccessRequestEntity, audit: PreparedAudit): Promise<void> {
    return this.inserting.add({ row: r, audit });
  }

  /** insertAudited() of the requests of one turn, in one statement. */
  private async insertAll(requests: Array<{ row: AccessRequestEntity; audit: PreparedAudit }>): Promise<void[]> {
    const column = <T>(pick: (r: AccessRequestEntity) => T) => requests.map(({ row }) => pick(row));
    await runPrepared(this.dataSource, INSERT_AUDITED, [
      column((r) => r.id),
      column((r) => r.status),
      column((r) => r.requesterId),
      column((r) => r.requesterEmail),
      column((r) => r.flowId),
      column((r) => r.flowName),
      column((r) => jsonbParam(r.flowLimits)),
      column((r) => r.integrationId),
      column((r) => jsonbParam(r.items)),
      column((r) => r.justification),
      column((r) => r.durationMinutes),
      column((r) => r.approvalMode),
      column((r) => jsonbParam(r.approverGroups)),
      column((r) => jsonbParam(r.approverIds)),
      column((r) => jsonbParam(r.approvals)),
      column((r) => r.createdAt),
      column((r) => r.updatedAt),
      column((r) => r.decidedAt),
      column((r) => r.grantedAt),
      column((r) => r.expiresAt),
      column((r) => r.endedAt),
      column((r) => r.extensions),
      column((r) => r.grantId),
      column((r) => r.statusReason),
      column((r) => jsonbParam(r.login)),
      column((r) => jsonbParam(r.passwordEnvelope)),
      column((r) => r.passwordViewedAt),
      column((r) => jsonbParam(r.revokedBy)),
      ...auditValues(requests.map(({ row, audit }) => ({ owner: row.id, rows: audit.rows }))),
    ]);
    return requests.map(() => undefined);
  }

  recordGranted(id: string, from: AccessRequestStatus, fields: GrantedFields, audit: PreparedAudit): Promise<boolean> {
    return this.granting.add({ id, from, fields, audit });
  }

  /** recordGranted() of the grants of one turn (each request once), in one statement. */
  private async recordAllGranted(changes: GrantedChange[]): Promise<boolean[]> {
    const rows = await runPrepared(this.dataSource, RECORD_GRANTED, [
      changes.map((c) => c.id),
      changes.map((c) => c.from),
      changes.map((c) => c.fields.status),
      changes.map((c) => c.fields.grantId),
      changes.map((c) => c.fields.grantedAt),
      changes.map((c) => c.fields.expiresAt),
      changes.map((c) => jsonbParam(c.fields.login)),
      changes.map((c) => jsonbParam(c.fields.passwordEnvelope)),
      changes.map((c) => c.fields.passwordViewedAt),
      new Date(),
      ...auditValues(changes.map((c) => ({ owner: c.id, rows: c.audit.rows }))),
    ]);
    const changed = new Set(rows.map((row) => row.id as string));
    return changes.map((c) => changed.has(c.id));
  }

  async recordDecision(id: string, read: DecisionFields, f: DecisionFields, audit: PreparedAudit): Promise<boolean> {
    const rows = await runPrepared(this.dataSource, RECORD_DECISION, [
      id,
      read.status,
      jsonbParam(read.approverGroups),
      jsonbParam(read.approvals),
      jsonbParam(f.approverGroups),
      jsonbParam(f.approvals),
      f.status,
      f.decidedAt,
      new Date(),
      ...auditValues([{ owner: id, rows: audit.rows }]),
    ]);
    return rows.length > 0;
  }

  async recordPasswordViewed(id: string, readEnvelope: EncryptedEnvelope, viewedAt: Date, audit: PreparedAudit): Promise<boolean> {
    const rows = await runPrepared(this.dataSource, RECORD_PASSWORD_VIEWED, [
      id,
      viewedAt,
      jsonbParam(readEnvelope),
      ...auditValues([{ owner: id, rows: audit.rows }]),
    ]);
    return rows.length > 0;
  }

  /** Requests whose next step is Latchkey's and that have not moved for `idleMs`. */
  findOpenWork(statuses: readonly AccessRequestStatus[], idleMs: number, limit = 500): Promise<AccessRequestEntity[]> {
    return this.repo
      .createQueryBuilder('r')
      .where('r.status IN (:...statuses)', { statuses })
      .andWhere('r.updated_at < :before', { before: new Date(Date.now() - idleMs) })
      .orderBy('r.updated_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** PENDING requests past their decision deadline (the flow's pendingExpiryMinutes, else `defaultMinutes`). */
  async findPendingPastDeadline(defaultMinutes: number, limit = 500): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM access.access_requests
        WHERE status = 'PENDING'
          AND created_at + make_interval(mins => coalesce((flow_limits->>'pendingExpiryMinutes')::int, $1)) <= now()
        ORDER BY created_at LIMIT $2`,
      [defaultMinutes, limit],
    );
    return rows.map((r) => r.id);
  }

  /** GRANTED requests past their expiry: provisioning should have ended them. */
  findOverdue(graceMs: number, limit = 500): Promise<AccessRequestEntity[]> {
    return this.repo
      .createQueryBuilder('r')
      .where("r.status = 'GRANTED'")
      .andWhere('r.expires_at < :before', { before: new Date(Date.now() - graceMs) })
      .orderBy('r.expires_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** The requests of a requester that still hold, or may yet hold, access. */
  openOf(requesterId: string): Promise<AccessRequestEntity[]> {
    return this.repo
      .createQueryBuilder('r')
      .where('r.requester_id = :requesterId', { requesterId })
      .andWhere('r.status IN (:...revocable)', { revocable: RequestStates.REVOCABLE })
      .orderBy('r.created_at', 'ASC')
      .getMany();
  }

  /**
   * PENDING requests whose approvers may change with this person's groups: those they approve
   * (they may have lost it), and those with an undecided approver group naming one of their
   * groups now (they may have gained it).
   */
  async pendingApproverIdsMayChange(userId: string, groups: string[]): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM access.access_requests r
        WHERE status = 'PENDING' AND requester_id <> $1
          AND ($1 = ANY(approver_ids) OR EXISTS (
                SELECT 1 FROM jsonb_array_elements(r.approver_groups) g, jsonb_array_elements_text(g->'values') v
                 WHERE g->>'type' = 'group' AND g->'satisfiedBy' = 'null'::jsonb AND lower(v) = ANY($2::text[])))
        ORDER BY created_at`,
      [userId, groups.map((g) => g.toLowerCase())],
    );
    return rows.map((r) => r.id);
  }

  /** Newest first. `visibleTo` limits a non-admin to their own requests and those they may approve. */
  async page(query: RequestPageQuery): Promise<{ items: AccessRequestEntity[]; nextPageToken?: string }> {
    const qb = this.repo
      .createQueryBuilder('r')
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(query.pageSize + 1);
    if (query.pageToken) {
      const cursor = decodePageToken(query.pageToken);
      if (!cursor) throw new BadRequestPageTokenError();
      qb.andWhere('(r.created_at, r.id) < (:createdAt, :id)', cursor);
    }
    if (query.visibleTo) qb.andWhere(`(r.requester_id = :me OR :me = ANY(r.approver_ids) OR ${escalatedTo('me')})`, { me: query.visibleTo });
    if (query.awaitingApprovalBy) {
      qb.andWhere("r.status = 'PENDING' AND r.requester_id <> :approver", { approver: query.awaitingApprovalBy });
      // Awaiting them: a group they approve for has no approval yet (under ALL_OF, once their group approved, the request waits on others).
      qb.andWhere(`((:approver = ANY(r.approver_ids) AND ${undecidedGroupOf('approver')}) OR ${escalatedTo('approver')})`, {
        approver: query.awaitingApprovalBy,
      });
    }
    if (query.status) qb.andWhere('r.status = :status', { status: query.status });
    if (query.requesterId) qb.andWhere('r.requester_id = :requesterId', { requesterId: query.requesterId });
    if (query.integrationId) qb.andWhere('r.integration_id = :integrationId', { integrationId: query.integrationId });
    if (query.flowId) qb.andWhere('r.flow_id = :flowId', { flowId: query.flowId });
    if (query.from) qb.andWhere('r.created_at >= :from', { from: query.from });
    if (query.to) qb.andWhere('r.created_at < :to', { to: query.to });
    const rows = await qb.getMany();
    const items = rows.slice(0, query.pageSize);
    const last = items.at(-1);
    return rows.length > query.pageSize && last
      ? { items, nextPageToken: encodePageToken({ createdAt: last.createdAt.toISOString(), id: last.id }) }
      : { items };
  }

  /** For the metrics: PENDING requests per age band, and GRANTED ones whose password was never read (one scan of the live rows). */
  async liveCounts(): Promise<{ pending: Record<PendingAge, number>; unviewed: number }> {
    const [row]: Array<Record<PendingAge | 'unviewed', string>> = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = $1 AND created_at > now() - interval '5 minutes') AS under_5m,
              count(*) FILTER (WHERE status = $1 AND created_at <= now() - interval '5 minutes' AND created_at > now() - interval '1 hour') AS "5m_to_1h",
              count(*) FILTER (WHERE status = $1 AND created_at <= now() - interval '1 hour' AND created_at > now() - interval '1 day') AS "1h_to_1d",
              count(*) FILTER (WHERE status = $1 AND created_at <= now() - interval '1 day') AS over_1d,
              count(*) FILTER (WHERE status = $2 AND password_viewed_at IS NULL) AS unviewed
         FROM access.access_requests WHERE status IN ($1, $2)`,
      ['PENDING', 'GRANTED'] satisfies AccessRequestStatus[],
    );
    const pending = Object.fromEntries(PENDING_AGES.map((age) => [age, Number(row[age])])) as Record<PendingAge, number>;
    return { pending, unviewed: Number(row.unviewed) };
  }
}
