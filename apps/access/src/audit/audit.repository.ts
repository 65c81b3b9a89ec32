import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { managerOf, transactionOn, Tx } from '../control-database/transactions.repository';
import { AuditEntryEntity, AuditHeadEntity } from './audit-entry.entity';
import type { LinkedEntry } from './audit-entry.entity';

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
  entriesAfter(afterSeq: number, limit: number): Promise<LinkedEntry[]>;
}

interface RawEntry {
  id: string;
  seq: string | null;
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
  prev_hash: string | null;
  hash: string | null;
}

/** What an append writes: the entry without its place in the chain (and `at`: the database's clock). */
export type UnlinkedEntry = Omit<AuditEntryEntity, 'id' | 'seq' | 'at' | 'prevHash' | 'hash'>;

/** An entry's place in the chain, as the sequencer gives it. */
export interface ChainLink {
  id: string;
  seq: number;
  prevHash: string;
  hash: string;
}

/** The chain's end, as the head record has it. */
export interface ChainEnd {
  seq: number;
  hash: string;
}

const ENTRIES_AFTER = 'SELECT * FROM access.audit_log WHERE seq > $1 ORDER BY seq LIMIT $2';
/** Entries not yet in the chain that have committed, in the order they were appended. */
const UNLINKED = 'SELECT * FROM access.audit_log WHERE seq IS NULL ORDER BY queued LIMIT $1';

/** A jsonb parameter: JSON text, or NULL. */
export const jsonbParam = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));

/**
 * The INSERT of prepared entries (`PreparedAudit.rows`) after changes made in the same statement,
 * as a WITH query of it: the entries of each row `source` (a WITH query of that statement: the rows
 * changed, by `id`) holds, none for a row that did not change, in the entries' order. Its values
 * are the nine arrays of `auditValues`, bound from parameter `$first` on.
 */
export function auditInsertFrom(source: string, first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO access.audit_log (action, actor, actor_id, target_type, target_id, target_name, diff, details)
     SELECT e.action, e.actor, e.actor_id, e.target_type, e.target_id, e.target_name, e.diff, e.details
       FROM ${source} s
       JOIN unnest(${p(0)}::text[], ${p(1)}::jsonb[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::jsonb[], ${p(7)}::jsonb[], ${p(8)}::uuid[])
              WITH ORDINALITY AS e(action, actor, actor_id, target_type, target_id, target_name, diff, details, owner, n)
         ON e.owner = s.id
      ORDER BY e.n
     RETURNING id`;
}

/** The nine arrays auditInsertFrom binds: each change's prepared rows (which carry no sourceId), owned by the id of the row it changes. */
export function auditValues(changes: ReadonlyArray<{ owner: string; rows: readonly UnlinkedEntry[] }>): unknown[] {
  const rows = changes.flatMap((c) => c.rows);
  return [
    rows.map((e) => e.action),
    rows.map((e) => jsonbParam(e.actor)),
    rows.map((e) => e.actorId),
    rows.map((e) => e.targetType),
    rows.map((e) => e.targetId),
    rows.map((e) => e.targetName),
    rows.map((e) => jsonbParam(e.diff)),
    rows.map((e) => jsonbParam(e.details)),
    changes.flatMap((c) => c.rows.map(() => c.owner)),
  ];
}

const fromRaw = (r: RawEntry): AuditEntryEntity => ({
  id: r.id,
  seq: r.seq === null ? null : Number(r.seq),
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

/** An entry read from the chain (seq set): its link, typed as present. */
function linked(e: AuditEntryEntity): LinkedEntry {
  const { seq, prevHash, hash } = e;
  if (seq === null || prevHash === null || hash === null) throw new Error(`audit entry ${e.id} was read from the chain but is not linked into it`);
  return { ...e, seq, prevHash, hash };
}

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in the caller's transaction `tx` when it is still open (the entry commits or rolls back with the change), otherwise in a new one. */
  inTransaction<T>(tx: Tx | undefined, work: (tx: Tx) => Promise<T>): Promise<T> {
    if (tx && managerOf(tx).queryRunner?.isTransactionActive) return work(tx);
    return transactionOn(this.dataSource, work);
  }

  /**
   * Writes an entry without its place in the chain: no lock, so appends do not wait on one another.
   * Null when an entry with the same `sourceId` exists (or is being written: this waits for it).
   */
  async insertUnlinked(tx: Tx, e: UnlinkedEntry): Promise<string | null> {
    const rows: { id: string }[] = await managerOf(tx).query(
      `INSERT INTO access.audit_log (action, actor, actor_id, target_type, target_id, target_name, diff, details, source_id)
       VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)
       ON CONFLICT (source_id) DO NOTHING RETURNING id`,
      [e.action, jsonbParam(e.actor), e.actorId, e.targetType, e.targetId, e.targetName, jsonbParam(e.diff), jsonbParam(e.details), e.sourceId],
    );
    return rows[0]?.id ?? null;
  }

  /** The id of the entry recorded with this `sourceId` (a statement of its own: it sees one committed meanwhile). */
  async idOfSource(tx: Tx, sourceId: string): Promise<string> {
    const rows: { id: string }[] = await managerOf(tx).query('SELECT id FROM access.audit_log WHERE source_id = $1', [sourceId]);
    if (!rows.length) throw new Error(`no audit entry with sourceId ${sourceId}`);
    return rows[0].id;
  }

  /** Whether a committed entry waits to be linked into the chain (an index-only look, no lock). */
  async hasUnlinked(): Promise<boolean> {
    const rows: { waiting: boolean }[] = await this.dataSource.query('SELECT EXISTS (SELECT 1 FROM access.audit_log WHERE seq IS NULL) AS waiting');
    return rows[0].waiting;
  }

  /**
   * Links up to `limit` committed entries into the chain, in the order they were appended, in one
   * transaction under the head's lock (one sequencer at a time, across replicas): `chain` gives
   * each its seq and hashes from the head, and the head moves to the last. Returns how many.
   */
  async link(limit: number, chain: (head: ChainEnd, entries: AuditEntryEntity[]) => ChainLink[]): Promise<number> {
    return transactionOn(this.dataSource, async (tx) => {
      const m = managerOf(tx);
      const heads: { seq: string; hash: string }[] = await m.query('SELECT seq, hash FROM access.audit_head WHERE id = $1 FOR UPDATE', [HEAD_ID]);
      if (!heads.length) throw new Error('the audit head record is missing: the audit_log migration has not run, or the row was deleted');
      // Read after the lock is held: what another sequencer linked meanwhile is no longer unlinked.
      const entries = ((await m.query(UNLINKED, [limit])) as RawEntry[]).map(fromRaw);
      if (!entries.length) return 0;
      const links = chain({ seq: Number(heads[0].seq), hash: heads[0].hash }, entries);
      const last = links.at(-1)!;
      const rows: { n: number }[] = await m.query(
        `WITH linked AS (
           UPDATE access.audit_log a SET seq = l.seq, prev_hash = l.prev_hash, hash = l.hash
             FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[]) AS l(id, seq, prev_hash, hash)
            WHERE a.id = l.id AND a.seq IS NULL
           RETURNING 1
         ), head AS (
           -- A data-modifying CTE runs to completion whether or not the outer query reads it.
           UPDATE access.audit_head SET seq = $5, hash = $6 WHERE id = $7
         )
         SELECT count(*)::int AS n FROM linked`,
        [links.map((l) => l.id), links.map((l) => l.seq), links.map((l) => l.prevHash), links.map((l) => l.hash), last.seq, last.hash, HEAD_ID],
      );
      if (rows[0].n !== links.length) throw new Error(`linked ${rows[0].n} audit entries of ${links.length}: rolled back, the next run links them`);
      return entries.length;
    });
  }

  /** Entries after `afterSeq`, oldest first (the outbox read: see AuditContracts.accessAuditSince). */
  async since(afterSeq: number, limit: number): Promise<LinkedEntry[]> {
    return ((await this.dataSource.query(ENTRIES_AFTER, [afterSeq, limit])) as RawEntry[]).map((r) => linked(fromRaw(r)));
  }

  /** Newest first; one more row than asked for tells whether a next page exists. */
  async list(filter: AuditListFilter, limit: number): Promise<LinkedEntry[]> {
    const qb = this.dataSource.getRepository(AuditEntryEntity).createQueryBuilder('e').where('e.seq IS NOT NULL').orderBy('e.seq', 'DESC').limit(limit);
    if (filter.action !== undefined) qb.andWhere('e.action = :action', { action: filter.action });
    // An admin's actions include those done with a token they made for someone else.
    if (filter.actorId !== undefined) qb.andWhere("(e.actor_id = :actorId OR e.actor->'impersonatedBy'->>'id' = :actorId)", { actorId: filter.actorId });
    if (filter.targetType !== undefined) qb.andWhere('e.target_type = :targetType', { targetType: filter.targetType });
    if (filter.targetId !== undefined) qb.andWhere('e.target_id = :targetId', { targetId: filter.targetId });
    if (filter.from !== undefined) qb.andWhere('e.at >= :from', { from: filter.from });
    if (filter.to !== undefined) qb.andWhere('e.at < :to', { to: filter.to });
    if (filter.beforeSeq !== undefined) qb.andWhere('e.seq < :beforeSeq', { beforeSeq: filter.beforeSeq });
    return (await qb.getMany()).map(linked);
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
        entriesAfter: async (afterSeq, limit) => ((await m.query(ENTRIES_AFTER, [afterSeq, limit])) as RawEntry[]).map((r) => linked(fromRaw(r))),
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
