import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ValidAccessFlow } from '@latchkey/contracts';

export type FlowDefinition = Omit<ValidAccessFlow, 'name' | 'active'>;

@Entity({ name: 'access_flows' })
export class AccessFlowEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'boolean' }) active!: boolean;
  @Column({ type: 'jsonb' }) definition!: FlowDefinition;
  @Column({ type: 'uuid', array: true, name: 'integration_ids' }) integrationIds!: string[];
  @Column({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}
