import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ValidAccessFlow } from '@latchkey/contracts';

export type FlowDefinition = Omit<ValidAccessFlow, 'name' | 'active' | 'managedBy'>;

@Entity({ name: 'access_flows' })
export class AccessFlowEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'boolean' }) active!: boolean;
  @Column({ type: 'jsonb' }) definition!: FlowDefinition;
  @Column({ type: 'uuid', array: true, name: 'integration_ids' }) integrationIds!: string[];
  /** The config file that manages the flow (`latchkey apply`), or null. */
  @Column({ type: 'text', name: 'managed_by', nullable: true }) managedBy!: string | null;
  @Column({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}
