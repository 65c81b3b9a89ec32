import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { Actor, AuditDiff } from '@latchkey/contracts';

/** bigint columns arrive from pg as strings; seq stays far below 2^53, so a number is exact. */
const bigintAsNumber = { to: (value: number) => value, from: (value: string | number) => Number(value) };

/** One link of the audit chain. Rows are only ever inserted; `hash` covers every other column but `id`. */
@Entity({ name: 'audit_log' })
export class AuditEntryEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) seq!: number;
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
  @Column({ type: 'text', name: 'prev_hash' }) prevHash!: string;
  @Column({ type: 'text' }) hash!: string;
}

/**
 * The chain's head (one row): the last entry's seq and hash, updated in the same transaction as
 * each append. A chain alone cannot show that its last entries were deleted; comparing it with
 * the head can. Its row lock is also what serializes appends.
 */
@Entity({ name: 'audit_head' })
export class AuditHeadEntity {
  @PrimaryColumn({ type: 'smallint' }) id!: number;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) seq!: number;
  @Column({ type: 'text' }) hash!: string;
}
