import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { Actor, AuditDiff } from '@latchkey/contracts';

/** bigint columns arrive from pg as strings; seq stays far below 2^53, so a number is exact. */
const bigintAsNumber = { to: (value: number | null) => value, from: (value: string | number | null) => (value === null ? null : Number(value)) };

/**
 * One entry of the audit log. Appended without a place in the chain (seq, prevHash and hash null),
 * linked into it once committed by the sequencer, and never changed after that; `hash` covers every
 * other column but `id` and `queued`.
 */
@Entity({ name: 'audit_log' })
export class AuditEntryEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'bigint', transformer: bigintAsNumber, nullable: true }) seq!: number | null;
  @Column({ type: 'timestamptz', precision: 3 }) at!: Date;
  @Column({ type: 'text' }) action!: string;
  @Column({ type: 'jsonb' }) actor!: Actor;
  /** Copied out of `actor` so filtering by actor uses an index. */
  @Column({ type: 'text', name: 'actor_id' }) actorId!: string;
  @Column({ type: 'text', name: 'target_type' }) targetType!: string;
  @Column({ type: 'text', name: 'target_id' }) targetId!: string;
  @Column({ type: 'text', name: 'target_name', nullable: true }) targetName!: string | null;
  @Column({ type: 'jsonb', nullable: true }) diff!: AuditDiff | null;
  @Column({ type: 'jsonb', nullable: true }) details!: Record<string, unknown> | null;
  @Column({ type: 'text', name: 'source_id', nullable: true }) sourceId!: string | null;
  @Column({ type: 'text', name: 'prev_hash', nullable: true }) prevHash!: string | null;
  @Column({ type: 'text', nullable: true }) hash!: string | null;
}

/** An entry linked into the chain: what readers, the verifier and the API see. */
export type LinkedEntry = AuditEntryEntity & { seq: number; prevHash: string; hash: string };

/**
 * The chain's head (one row): the last entry's seq and hash, moved in the same transaction as the
 * sequencer links entries. A chain alone cannot show that its last entries were deleted; comparing
 * it with the head can. Its row lock is also what makes one sequencer run at a time, across replicas.
 */
@Entity({ name: 'audit_head' })
export class AuditHeadEntity {
  @PrimaryColumn({ type: 'smallint' }) id!: number;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) seq!: number;
  @Column({ type: 'text' }) hash!: string;
}
