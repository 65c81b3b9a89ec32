import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { AuditEntryInput } from '@latchkey/contracts';

/** An audit entry waiting to reach the audit log; written in the same transaction as the change it records. */
@Entity({ name: 'audit_outbox' })
export class AuditOutboxEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'jsonb' }) entry!: Omit<AuditEntryInput, 'sourceId'>;
  @Column({ type: 'timestamptz', precision: 3, name: 'created_at', insert: false }) createdAt!: Date;
  @Column({ type: 'integer', insert: false }) attempts!: number;
  @Column({ type: 'text', name: 'last_error', nullable: true, insert: false }) lastError!: string | null;
}
