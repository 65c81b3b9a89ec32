import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import type { EncryptedEnvelope } from '@latchkey/contracts';
import { decodePageToken, encodePageToken } from '@latchkey/persistence';
import { IntegrationEntity } from './integration.entity';

export class DuplicateNameError extends Error {}

@Injectable()
export class IntegrationsRepository {
  private readonly repo: Repository<IntegrationEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(IntegrationEntity);
  }

  /** One transaction of the control database: a change and its audit outbox entry commit together. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The row, locked until the transaction ends: rotation steps of one integration never interleave. */
  lockById(manager: EntityManager, id: string): Promise<IntegrationEntity | null> {
    return manager.findOne(IntegrationEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** Every builtin secret's envelope, current and staged by a rotation. */
  async sealedEnvelopes(): Promise<EncryptedEnvelope[]> {
    const envelopes = async (column: 'secret' | 'pending_secret') =>
      (await this.repo.createQueryBuilder('i').select(`i.${column}->'envelope'`, 'envelope').where(`i.${column}->>'store' = 'builtin'`).getRawMany<{ envelope: EncryptedEnvelope }>()).map((r) => r.envelope);
    return [...(await envelopes('secret')), ...(await envelopes('pending_secret'))];
  }

  findById(id: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findByNameKey(nameKey: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ nameKey });
  }

  /** Inserts or updates (inside `manager`'s transaction when given); a second integration with the same name (any case) is refused. */
  async save(entity: IntegrationEntity, manager?: EntityManager): Promise<IntegrationEntity> {
    try {
      return await (manager ? manager.save(IntegrationEntity, entity) : this.repo.save(entity));
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505') throw new DuplicateNameError();
      throw err;
    }
  }

  async updateStatus(id: string, fields: Pick<IntegrationEntity, 'status' | 'statusReason'> & Partial<Pick<IntegrationEntity, 'lastTest'>>, manager?: EntityManager): Promise<void> {
    await (manager ? manager.update(IntegrationEntity, { id }, fields) : this.repo.update({ id }, fields));
  }

  async delete(id: string, manager?: EntityManager): Promise<boolean> {
    const result = await (manager ? manager.delete(IntegrationEntity, { id }) : this.repo.delete({ id }));
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
