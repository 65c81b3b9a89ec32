import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { managerOf, transactionOn, Tx } from '../control-database/transactions.repository';
import { AuditEntryEntity, AuditHeadEntity } from './audit-entry.entity';

const HEAD_ID = 1;

export interface AuditListFilter {
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  /** Only entries older than this seq (the page token's position). */
  beforeSeq?: number;
}

/** What a verification reads: one consistent snapshot of the head and the chain. */
export interface AuditSnapshot {
  head(): Promise<AuditHeadEntity | null>;
  /** The next `limit` entries after `afterSeq`, in seq order. */
  entriesAfter(afterSeq: number, limit: number): Promise<AuditEntryEntity[]>;
}

interface RawEntry {
  id: string;
  seq: string;
  at: Date;
  action: string;
  actor: AuditEntryEntity['actor'];
  actor_id: string;
  target_type: string;
  target_id: string;
  target_name: string | null;
  diff: AuditEntryEntity['diff'];
  details: AuditEntryEntity['details'];
  source_id: string | null;
  prev_hash: string;
  hash: string;
}

const ENTRIES_AFTER = 'SELECT * FROM access.audit_log WHERE seq > $1 ORDER BY seq LIMIT $2';

const fromRaw = (r: RawEntry): AuditEntryEntity => ({
  id: r.id,
  seq: Number(r.seq),
  at: r.at,
  action: r.action,
  actor: r.actor,
  actorId: r.actor_id,
  targetType: r.target_type,
  targetId: r.target_id,
  targetName: r.target_name,
  diff: r.diff,
  details: r.details,
  sourceId: r.source_id,
  prevHash: r.prev_hash,
  hash: r.hash,
});

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in the caller's transaction `tx` when it is still open, otherwise in a new one:
   * the head's row lock taken by `lockHead` must be held until the entry commits.
   */
  inTransaction<T>(tx: Tx | undefined, work: (tx: Tx) => Promise<T>): Promise<T> {
    if (tx && managerOf(tx).queryRunner?.isTransactionActive) return work(tx);
    return transactionOn(this.dataSource, work);
  }

  /**
   * Locks the head row until the transaction ends and returns it with the database's clock. Every
   * append takes this lock first, so appends from any number of replicas form one chain.
   */
  async lockHead(tx: Tx): Promise<{ seq: number; hash: string; now: Date }> {
    const m = managerOf(tx);
    const rows: { seq: string; hash: string; now: Date }[] = await m.query(
      "SELECT seq, hash, date_trunc('milliseconds', clock_timestamp()) AS now FROM access.audit_head WHERE id = $1 FOR UPDATE",
      [HEAD_ID],
    );
    if (!rows.length) throw new Error('the audit head record is missing: the audit_log migration has not run, or the row was deleted');
    return { seq: Number(rows[0].seq), hash: rows[0].hash, now: rows[0].now };
  }

  findBySourceId(tx: Tx, sourceId: string): Promise<AuditEntryEntity | null> {
    return managerOf(tx).getRepository(AuditEntryEntity).findOneBy({ sourceId });
  }

  /** Appends the entry and moves the head to it in one statement (one round trip per append). */
  async insertAndMoveHead(tx: Tx, e: Omit<AuditEntryEntity, 'id'>): Promise<string> {
    const m = managerOf(tx);
    const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
    const rows: { id: string }[] = await m.query(
      `WITH entry AS (
         INSERT INTO access.audit_log (seq, at, action, actor, actor_id, target_type, target_id, target_name, diff, details, source_id, prev_hash, hash)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13) RETURNING id
       ), head AS (
         -- A data-modifying CTE runs to completion whether or not the outer query reads it.
         UPDATE access.audit_head SET seq = $1, hash = $13 WHERE id = $14
       )
       SELECT id FROM entry`,
      [
        e.seq,
        e.at,
        e.action,
        json(e.actor),
        e.actorId,
        e.targetType,
        e.targetId,
        e.targetName,
        json(e.diff),
        json(e.details),
        e.sourceId,
        e.prevHash,
        e.hash,
        HEAD_ID,
      ],
    );
    return rows[0].id;
  }

  /** Entries after `afterSeq`, oldest first (the outbox read: see AuditContracts.accessAuditSince). */
  async since(afterSeq: number, limit: number): Promise<AuditEntryEntity[]> {
    return ((await this.dataSource.query(ENTRIES_AFTER, [afterSeq, limit])) as RawEntry[]).map(fromRaw);
  }

  /** Newest first; one more row than asked for tells whether a next page exists. */
  list(filter: AuditListFilter, limit: number): Promise<AuditEntryEntity[]> {
    const qb = this.dataSource.getRepository(AuditEntryEntity).createQueryBuilder('e').orderBy('e.seq', 'DESC').limit(limit);
    if (filter.action !== undefined) qb.andWhere('e.action = :action', { action: filter.action });
    // An admin's actions include those done with a token they made for someone else.
    if (filter.actorId !== undefined) qb.andWhere("(e.actor_id = :actorId OR e.actor->'impersonatedBy'->>'id' = :actorId)", { actorId: filter.actorId });
    if (filter.targetType !== undefined) qb.andWhere('e.target_type = :targetType', { targetType: filter.targetType });
    if (filter.targetId !== undefined) qb.andWhere('e.target_id = :targetId', { targetId: filter.targetId });
    if (filter.from !== undefined) qb.andWhere('e.at >= :from', { from: filter.from });
    if (filter.to !== undefined) qb.andWhere('e.at < :to', { to: filter.to });
    if (filter.beforeSeq !== undefined) qb.andWhere('e.seq < :beforeSeq', { beforeSeq: filter.beforeSeq });
    return qb.getMany();
  }

  /**
   * Runs `read` in a read-only REPEATABLE READ transaction: the head and every batch come from the
   * same snapshot, so appends committed meanwhile neither show up half-way nor look like damage.
   */
  async inSnapshot<T>(read: (snapshot: AuditSnapshot) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      await runner.query('SET TRANSACTION READ ONLY');
      const m = runner.manager;
      const result = await read({
        head: () => m.getRepository(AuditHeadEntity).findOneBy({ id: HEAD_ID }),
        // Raw rows: entity hydration costs more than the hashing on a long walk.
        entriesAfter: async (afterSeq, limit) => ((await m.query(ENTRIES_AFTER, [afterSeq, limit])) as RawEntry[]).map(fromRaw),
      });
      await runner.commitTransaction();
      return result;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }
}
