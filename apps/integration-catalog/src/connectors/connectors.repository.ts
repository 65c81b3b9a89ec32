import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { ConnectorHeartbeat } from '@latchkey/contracts';
import { ConnectorEntity } from './connector.entity';

@Injectable()
export class ConnectorsRepository {
  private readonly repo: Repository<ConnectorEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(ConnectorEntity);
  }

  async recordHeartbeat(beat: ConnectorHeartbeat): Promise<void> {
    await this.repo.query(
      `INSERT INTO catalog.connectors (id, version, services, first_seen_at, last_seen_at)
       VALUES ($1, $2, jsonb_build_object($3::text, now()), now(), now())
       ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, last_seen_at = now(),
         services = catalog.connectors.services || jsonb_build_object($3::text, now())`,
      [beat.connectorId, beat.version, beat.service],
    );
  }

  findAll(): Promise<ConnectorEntity[]> {
    return this.repo.find({ order: { id: 'ASC' } });
  }

  findById(id: string): Promise<ConnectorEntity | null> {
    return this.repo.findOneBy({ id });
  }
}
