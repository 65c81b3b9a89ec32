import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, Repository } from 'typeorm';
import type { AuditEntryInput } from '@latchkey/contracts';
import { AuditOutboxEntity } from './audit-outbox.entity';

export type OutboxEntry = Omit<AuditEntryInput, 'sourceId'>;

/** The catalog's audit outbox: entries are added inside the transaction of the change they record. */
@Injectable()
export class AuditOutboxRepository {
  private readonly repo: Repository<AuditOutboxEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(AuditOutboxEntity);
  }

  async add(manager: EntityManager, entry: OutboxEntry): Promise<void> {
    await manager.query('INSERT INTO catalog.audit_outbox (entry) VALUES ($1)', [JSON.stringify(entry)]);
  }

  /** The oldest waiting entries, in the order they were written. */
  oldest(limit: number): Promise<AuditOutboxEntity[]> {
    return this.repo.createQueryBuilder('o').orderBy('o.created_at', 'ASC').addOrderBy('o.id', 'ASC').limit(limit).getMany();
  }

  async remove(id: string): Promise<void> {
    await this.repo.delete({ id });
  }

  async recordFailure(id: string, error: string): Promise<void> {
    await this.repo.createQueryBuilder().update().set({ attempts: () => 'attempts + 1', lastError: error.slice(0, 2000) }).where('id = :id', { id }).execute();
  }
}
