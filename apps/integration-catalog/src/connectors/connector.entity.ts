import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'connectors' })
export class ConnectorEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  /** Version of the newest heartbeat. */
  @Column({ type: 'text' }) version!: string;
  /** Connector service name -> time of its last heartbeat (ISO). */
  @Column({ type: 'jsonb' }) services!: Record<string, string>;
  @Column({ type: 'timestamptz', name: 'first_seen_at' }) firstSeenAt!: Date;
  @Column({ type: 'timestamptz', name: 'last_seen_at' }) lastSeenAt!: Date;
}
