import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { IntegrationOwner, IntegrationStatus, PreflightReport, ResourceOwnerMapping, ResourceType, SecretRef } from '@latchkey/contracts';

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
  @Column({ type: 'text' }) status!: IntegrationStatus;
  @Column({ type: 'text', name: 'status_reason', nullable: true }) statusReason!: string | null;
  @Column({ type: 'jsonb', name: 'last_test', nullable: true }) lastTest!: PreflightReport | null;
  @CreateDateColumn({ type: 'timestamptz', precision: 3, name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', precision: 3, name: 'updated_at' }) updatedAt!: Date;
}
