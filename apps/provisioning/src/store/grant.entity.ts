import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Actor, EncryptedEnvelope, GrantEndReason, GrantItem, GrantStatus } from '@latchkey/contracts';

@Entity({ name: 'grants' })
export class GrantEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', name: 'idempotency_key' }) idempotencyKey!: string;
  @Column({ type: 'uuid', name: 'integration_id' }) integrationId!: string;
  @Column({ type: 'text', name: 'connector_id' }) connectorId!: string;
  @Column({ type: 'text', name: 'identity_id' }) identityId!: string;
  @Column({ type: 'text', name: 'identity_email' }) identityEmail!: string;
  @Column({ type: 'text', name: 'role_name' }) roleName!: string;
  @Column({ type: 'jsonb' }) items!: GrantItem[];
  @Column({ type: 'integer', name: 'connection_limit' }) connectionLimit!: number;
  @Column({ type: 'text' }) status!: GrantStatus;
  @Column({ type: 'text', name: 'end_reason', nullable: true }) endReason!: GrantEndReason | null;
  @Column({ type: 'jsonb', name: 'revoked_by', nullable: true }) revokedBy!: Actor | null;
  @Column({ type: 'timestamptz', precision: 3, name: 'expires_at' }) expiresAt!: Date;
  @Column({ type: 'timestamptz', precision: 3, name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column({ type: 'timestamptz', precision: 3, name: 'granted_at', nullable: true }) grantedAt!: Date | null;
  @Column({ type: 'timestamptz', precision: 3, name: 'ended_at', nullable: true }) endedAt!: Date | null;
  @Column({ type: 'integer' }) attempts!: number;
  @Column({ type: 'text', name: 'last_error', nullable: true }) lastError!: string | null;
  @Column({ type: 'jsonb', name: 'password_envelope', nullable: true }) passwordEnvelope!: EncryptedEnvelope | null;
  @Column({ type: 'timestamptz', precision: 3, name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}

@Entity({ name: 'personal_roles' })
export class PersonalRoleEntity {
  @Column({ type: 'uuid', name: 'integration_id', primary: true }) integrationId!: string;
  @Column({ type: 'text', name: 'role_name', primary: true }) roleName!: string;
  @Column({ type: 'text', name: 'connector_id' }) connectorId!: string;
  @Column({ type: 'text', name: 'identity_id' }) identityId!: string;
  @Column({ type: 'timestamptz', precision: 3, name: 'last_active_at' }) lastActiveAt!: Date;
  @Column({ type: 'text' }) state!: 'ACTIVE' | 'DROPPED' | 'KEPT';
  @Column({ type: 'text', name: 'state_reason', nullable: true }) stateReason!: string | null;
}
