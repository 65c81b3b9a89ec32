import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { IntegrationOwner, IntegrationStatus, PreflightReport, ResourceOwnerMapping, ResourceType, RotationResult, SecretRef } from '@latchkey/contracts';

@Entity({ name: 'integrations' })
export class IntegrationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) name!: string;
  /** Lower-cased name: names are unique regardless of case. */
  @Column({ type: 'text', name: 'name_key' }) nameKey!: string;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'text', name: 'connector_id' }) connectorId!: string;
  @Column({ type: 'jsonb', name: 'connected_resource_types' }) connectedResourceTypes!: ResourceType[];
  @Column({ type: 'jsonb' }) config!: Record<string, unknown>;
  /** Builtin secrets only as an encrypted envelope; env and file secrets as references. */
  @Column({ type: 'jsonb' }) secret!: SecretRef;
  @Column({ type: 'integer', name: 'credential_rotation_days', nullable: true }) credentialRotationDays!: number | null;
  @Column({ type: 'text', name: 'custom_access_details', nullable: true }) customAccessDetails!: string | null;
  @Column({ type: 'jsonb', name: 'integration_owners' }) integrationOwners!: IntegrationOwner[];
  @Column({ type: 'jsonb', name: 'resource_owner_mappings' }) resourceOwnerMappings!: ResourceOwnerMapping[];
  /** The config file that manages the integration (`latchkey apply`), or null. */
  @Column({ type: 'text', name: 'managed_by', nullable: true }) managedBy!: string | null;
  @Column({ type: 'text' }) status!: IntegrationStatus;
  @Column({ type: 'text', name: 'status_reason', nullable: true }) statusReason!: string | null;
  @Column({ type: 'jsonb', name: 'last_test', nullable: true }) lastTest!: PreflightReport | null;
  /** When the current secret was set: the age a rotation schedule counts from. */
  @Column({ type: 'timestamptz', precision: 3, name: 'secret_set_at' }) secretSetAt!: Date;
  /** A rotation's staged password (builtin envelope), with the run that staged it. */
  @Column({ type: 'jsonb', name: 'pending_secret', nullable: true }) pendingSecret!: SecretRef | null;
  @Column({ type: 'uuid', name: 'pending_run_id', nullable: true }) pendingRunId!: string | null;
  @Column({ type: 'timestamptz', precision: 3, name: 'pending_staged_at', nullable: true }) pendingStagedAt!: Date | null;
  @Column({ type: 'timestamptz', precision: 3, name: 'last_rotated_at', nullable: true }) lastRotatedAt!: Date | null;
  @Column({ type: 'timestamptz', precision: 3, name: 'next_due_at', nullable: true }) nextDueAt!: Date | null;
  @Column({ type: 'timestamptz', precision: 3, name: 'last_rotation_attempt_at', nullable: true }) lastRotationAttemptAt!: Date | null;
  @Column({ type: 'text', name: 'last_rotation_result', nullable: true }) lastRotationResult!: RotationResult | null;
  @Column({ type: 'text', name: 'last_rotation_error', nullable: true }) lastRotationError!: string | null;
  @Column({ type: 'uuid', name: 'last_rotation_run_id', nullable: true }) lastRotationRunId!: string | null;
  @CreateDateColumn({ type: 'timestamptz', precision: 3, name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', precision: 3, name: 'updated_at' }) updatedAt!: Date;
}
