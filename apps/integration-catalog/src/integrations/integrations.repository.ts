import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import type { EncryptedEnvelope } from '@latchkey/contracts';
import { AuditOutbox, decodePageToken, encodePageToken } from '@latchkey/persistence';
import type { OutboxEntry } from '@latchkey/persistence';
import { IntegrationEntity } from './integration.entity';

export class DuplicateNameError extends Error {}

/** The integrations table inside one transaction of the control database: everything done here commits together, or nothing does. */
export interface IntegrationsTransaction {
  /** The row, locked until the transaction ends: rotation steps of one integration never interleave. */
  lockById(id: string): Promise<IntegrationEntity | null>;
  /** Inserts or updates; a second integration with the same name (any case) is refused with DuplicateNameError. */
  save(entity: IntegrationEntity): Promise<IntegrationEntity>;
  updateStatus(id: string, fields: StatusFields): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** An audit entry, written to the outbox with the change it records. */
  audit(entry: OutboxEntry): Promise<void>;
}

export type StatusFields = Pick<IntegrationEntity, 'status' | 'statusReason'> & Partial<Pick<IntegrationEntity, 'lastTest'>>;

@Injectable()
export class IntegrationsRepository {
  private readonly repo: Repository<IntegrationEntity>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: AuditOutbox,
  ) {
    this.repo = dataSource.getRepository(IntegrationEntity);
  }

  /** One transaction of the control database. */
  transaction<T>(work: (tx: IntegrationsTransaction) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((m) => work(this.within(m)));
  }

  /** A transaction that writes audit entries: once it commits, the relay is nudged to send them on. */
  audited<T>(work: (tx: IntegrationsTransaction) => Promise<T>): Promise<T> {
    return this.outbox.transaction((m) => work(this.within(m)));
  }

  private within(m: EntityManager): IntegrationsTransaction {
    return {
      lockById: (id) => m.findOne(IntegrationEntity, { where: { id }, lock: { mode: 'pessimistic_write' } }),
      save: (entity) => refuseDuplicateName(() => m.save(IntegrationEntity, entity)),
      updateStatus: async (id, fields) => {
        await m.update(IntegrationEntity, { id }, fields);
      },
      delete: async (id) => ((await m.delete(IntegrationEntity, { id })).affected ?? 0) > 0,
      audit: (entry) => this.outbox.add(m, entry),
    };
  }

  /** Every builtin secret's envelope, current and staged by a rotation. */
  async sealedEnvelopes(): Promise<EncryptedEnvelope[]> {
    const envelopes = async (column: 'secret' | 'pending_secret') =>
      (
        await this.repo
          .createQueryBuilder('i')
          .select(`i.${column}->'envelope'`, 'envelope')
          .where(`i.${column}->>'store' = 'builtin'`)
          .getRawMany<{ envelope: EncryptedEnvelope }>()
      ).map((r) => r.envelope);
    return [...(await envelopes('secret')), ...(await envelopes('pending_secret'))];
  }

  findById(id: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findByNameKey(nameKey: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ nameKey });
  }

  async updateStatus(id: string, fields: StatusFields): Promise<void> {
    await this.repo.update({ id }, fields);
  }

  /** Keyset pagination in creation order; the token is the last row's position. */
  async page(pageSize: number, pageToken?: string): Promise<{ items: IntegrationEntity[]; nextPageToken?: string }> {
    const qb = this.repo
      .createQueryBuilder('i')
      .orderBy('i.created_at', 'ASC')
      .addOrderBy('i.id', 'ASC')
      .limit(pageSize + 1);
    const cursor = pageToken ? decodePageToken(pageToken) : undefined;
    if (cursor) qb.where('(i.created_at, i.id) > (:createdAt, :id)', cursor);
    const rows = await qb.getMany();
    const items = rows.slice(0, pageSize);
    const last = items.at(-1);
    return rows.length > pageSize && last ? { items, nextPageToken: encodePageToken({ createdAt: last.createdAt.toISOString(), id: last.id }) } : { items };
  }
}

async function refuseDuplicateName(save: () => Promise<IntegrationEntity>): Promise<IntegrationEntity> {
  try {
    return await save();
  } catch (err) {
    if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505') throw new DuplicateNameError();
    throw err;
  }
}
