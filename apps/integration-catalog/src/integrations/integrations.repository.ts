import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import { decodePageToken, encodePageToken } from '@latchkey/persistence';
import { IntegrationEntity } from './integration.entity';

export class DuplicateNameError extends Error {}

@Injectable()
export class IntegrationsRepository {
  private readonly repo: Repository<IntegrationEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(IntegrationEntity);
  }

  findById(id: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findByNameKey(nameKey: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ nameKey });
  }

  /** Inserts or updates; a second integration with the same name (any case) is refused. */
  async save(entity: IntegrationEntity): Promise<IntegrationEntity> {
    try {
      return await this.repo.save(entity);
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505') throw new DuplicateNameError();
      throw err;
    }
  }

  async updateStatus(id: string, fields: Pick<IntegrationEntity, 'status' | 'statusReason'> & Partial<Pick<IntegrationEntity, 'lastTest'>>): Promise<void> {
    await this.repo.update({ id }, fields);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Keyset pagination in creation order; the token is the last row's position. */
  async page(pageSize: number, pageToken?: string): Promise<{ items: IntegrationEntity[]; nextPageToken?: string }> {
    const qb = this.repo.createQueryBuilder('i').orderBy('i.created_at', 'ASC').addOrderBy('i.id', 'ASC').limit(pageSize + 1);
    const cursor = pageToken ? decodePageToken(pageToken) : undefined;
    if (cursor) qb.where('(i.created_at, i.id) > (:createdAt, :id)', cursor);
    const rows = await qb.getMany();
    const items = rows.slice(0, pageSize);
    const last = items.at(-1);
    return rows.length > pageSize && last ? { items, nextPageToken: encodePageToken({ createdAt: last.createdAt.toISOString(), id: last.id }) } : { items };
  }
}
