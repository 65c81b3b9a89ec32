import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { managerOf, transactionOn, Tx } from '../control-database/transactions.repository';
import { RequestStates } from '@latchkey/contracts';
import type { AccessRequestStatus, EncryptedEnvelope } from '@latchkey/contracts';
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
// trips (BEGIN, the row's lock, the change, the entries, COMMIT).
const INSERT_AUDITED: PreparedStatement = {
  name: 'access_request_insert_audited',
  text: `WITH inserted AS (
           INSERT INTO access.access_requests (id, status, requester_id, requester_email, flow_id, flow_name, flow_limits, integration_id, items,
                  justification, duration_minutes, approval_mode, approver_groups, approver_ids, approvals, created_at, updated_at, decided_at,
                  granted_at, expires_at, ended_at, extensions, grant_id, status_reason, login, password_envelope, password_viewed_at, revoked_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11, $12, $13::jsonb, $14::uuid[], $15::jsonb, $16, $17, $18,
                  $19, $20, $21, $22, $23, $24, $25::jsonb, $26::jsonb, $27, $28::jsonb)
           RETURNING id)
         ${auditInsertFrom('inserted', 29)}`,
};

const RECORD_GRANTED: PreparedStatement = {
  name: 'access_request_record_granted',
  text: `WITH changed AS (
           UPDATE access.access_requests
              SET status = $3, grant_id = $4, granted_at = $5, expires_at = $6, status_reason = NULL,
                  login = $7::jsonb, password_envelope = $8::jsonb, password_viewed_at = $9, updated_at = $10
            WHERE id = $1 AND status = $2
           RETURNING id)
         ${auditInsertFrom('changed', 11)}`,
};

const RECORD_DECISION: PreparedStatement = {
  name: 'access_request_record_decision',
  text: `WITH changed AS (
           UPDATE access.access_requests
              SET approver_groups = $5::jsonb, approvals = $6::jsonb, status = $7, decided_at = $8, updated_at = $9
            WHERE id = $1 AND status = $2 AND approver_groups = $3::jsonb AND approvals = $4::jsonb
           RETURNING id)
         ${auditInsertFrom('changed', 10)}`,
};

const RECORD_PASSWORD_VIEWED: PreparedStatement = {
  name: 'access_request_record_password_viewed',
  text: `WITH changed AS (
           UPDATE access.access_requests SET password_viewed_at = $2, password_envelope = NULL, updated_at = $2
            WHERE id = $1 AND status = 'GRANTED' AND password_envelope = $3::jsonb AND password_viewed_at IS NULL
           RETURNING id)
         ${auditInsertFrom('changed', 4)}`,
};

@Injectable()
export class AccessRequestsRepository implements RequestStore {
  private readonly repo: Repository<AccessRequestEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(AccessRequestEntity);
  }

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return transactionOn(this.dataSource, work);
  }

  findById(id: string): Promise<AccessRequestEntity | null> {
    return this.repo.findOneBy({ id });
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

  async insertAudited(r: AccessRequestEntity, audit: PreparedAudit): Promise<void> {
    await runPrepared(this.dataSource, INSERT_AUDITED, [
      r.id,
      r.status,
      r.requesterId,
      r.requesterEmail,
      r.flowId,
      r.flowName,
      jsonbParam(r.flowLimits),
      r.integrationId,
      jsonbParam(r.items),
      r.justification,
      r.durationMinutes,
      r.approvalMode,
      jsonbParam(r.approverGroups),
      r.approverIds,
      jsonbParam(r.approvals),
      r.createdAt,
      r.updatedAt,
      r.decidedAt,
      r.grantedAt,
      r.expiresAt,
      r.endedAt,
      r.extensions,
      r.grantId,
      r.statusReason,
      jsonbParam(r.login),
      jsonbParam(r.passwordEnvelope),
      r.passwordViewedAt,
      jsonbParam(r.revokedBy),
      ...auditValues(audit.rows),
    ]);
  }

  async recordGranted(id: string, from: AccessRequestStatus, f: GrantedFields, audit: PreparedAudit): Promise<boolean> {
    const rows = await runPrepared(this.dataSource, RECORD_GRANTED, [
      id,
      from,
      f.status,
      f.grantId,
      f.grantedAt,
      f.expiresAt,
      jsonbParam(f.login),
      jsonbParam(f.passwordEnvelope),
      f.passwordViewedAt,
      new Date(),
      ...auditValues(audit.rows),
    ]);
    return rows.length > 0;
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
      ...auditValues(audit.rows),
    ]);
    return rows.length > 0;
  }

  async recordPasswordViewed(id: string, readEnvelope: EncryptedEnvelope, viewedAt: Date, audit: PreparedAudit): Promise<boolean> {
    const rows = await runPrepared(this.dataSource, RECORD_PASSWORD_VIEWED, [id, viewedAt, jsonbParam(readEnvelope), ...auditValues(audit.rows)]);
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
