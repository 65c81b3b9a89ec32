import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import { managerOf, managerOr, transactionOn, Tx } from '../control-database/transactions.repository';
import type { AccessFlow, ValidAccessFlow } from '@latchkey/contracts';
import { decodePageToken, encodePageToken, runPrepared } from '@latchkey/persistence';
import type { PreparedStatement } from '@latchkey/persistence';
import { AccessFlowEntity } from './flow.entity';

export class DuplicateFlowNameError extends Error {}
export class BadPageTokenError extends Error {}

export function toFlow(e: Omit<AccessFlowEntity, 'integrationIds'>): AccessFlow {
  return {
    id: e.id,
    name: e.name,
    active: e.active,
    ...e.definition,
    managedBy: e.managedBy,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** Changes with any insert, update, deactivation or deletion of an active flow. */
const ACTIVE_FLOWS_VERSION = `SELECT md5(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id)) AS version FROM access.access_flows WHERE active`;

/** The candidates of every request: prepared, as TypeORM's query had the control database plan it again each time (0.9 ms). */
const ACTIVE_FOR: PreparedStatement = {
  name: 'access_flows_active_for',
  text: `SELECT id, name, active, definition, managed_by, created_at, updated_at FROM access.access_flows WHERE active AND integration_ids && $1::uuid[]`,
};

@Injectable()
export class FlowsRepository {
  private readonly repo: Repository<AccessFlowEntity>;
  /** The active flows as last read, and the version they were read at (see allActive). */
  private active?: { version: string | null; flows: readonly AccessFlow[] };

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(AccessFlowEntity);
  }

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return transactionOn(this.dataSource, work);
  }

  findById(id: string, tx?: Tx): Promise<AccessFlowEntity | null> {
    const m = managerOr(this.dataSource, tx);
    return m.getRepository(AccessFlowEntity).findOneBy({ id });
  }

  /**
   * Every active flow: what anyone may request comes from these. Read again only when one changed:
   * the version names each active row by its id and xmin (a new row version on every insert and
   * update, whichever replica made it), so the next call after a change reads the flows again. A
   * change landing between the two reads leaves newer flows under the older version: read again
   * next time, never stale.
   */
  async allActive(): Promise<readonly AccessFlow[]> {
    const [{ version }] = await this.dataSource.query<Array<{ version: string | null }>>(ACTIVE_FLOWS_VERSION);
    if (this.active && this.active.version === version) return this.active.flows;
    const flows = (await this.repo.createQueryBuilder('f').where('f.active').orderBy('f.name').getMany()).map(toFlow);
    this.active = { version, flows };
    return flows;
  }

  /** Active flows with a target on one of these integrations: the candidates for a request. */
  async activeFor(integrationIds: string[]): Promise<AccessFlow[]> {
    const rows = await runPrepared(this.dataSource, ACTIVE_FOR, [integrationIds]);
    return rows.map((r) =>
      toFlow({
        id: r.id as string,
        name: r.name as string,
        active: r.active as boolean,
        definition: r.definition as AccessFlowEntity['definition'],
        managedBy: r.managed_by as string | null,
        createdAt: r.created_at as Date,
        updatedAt: r.updated_at as Date,
      }),
    );
  }

  async save(tx: Tx, id: string | null, flow: ValidAccessFlow): Promise<AccessFlowEntity> {
    const m = managerOf(tx);
    const { name, active, managedBy, ...definition } = flow;
    const fields = {
      name,
      active,
      definition,
      integrationIds: [...new Set(flow.targets.map((t) => t.integrationId))],
      // Left out on update: the stored marker stays (an edit in the console does not unmanage the flow).
      ...(managedBy !== undefined || id === null ? { managedBy: managedBy ?? null } : {}),
      updatedAt: new Date(),
    };
    try {
      const repo = m.getRepository(AccessFlowEntity);
      if (id === null) return await repo.save(repo.create({ ...fields, createdAt: fields.updatedAt }));
      await repo.update({ id }, fields);
      return (await repo.findOneBy({ id }))!;
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505') throw new DuplicateFlowNameError();
      throw err;
    }
  }

  async delete(tx: Tx, id: string): Promise<boolean> {
    const m = managerOf(tx);
    return ((await m.getRepository(AccessFlowEntity).delete({ id })).affected ?? 0) > 0;
  }

  async page(filter: {
    integrationId?: string;
    active?: boolean;
    pageSize: number;
    pageToken?: string;
  }): Promise<{ items: AccessFlow[]; nextPageToken?: string }> {
    const qb = this.repo
      .createQueryBuilder('f')
      .orderBy('f.created_at', 'ASC')
      .addOrderBy('f.id', 'ASC')
      .limit(filter.pageSize + 1);
    if (filter.pageToken) {
      const cursor = decodePageToken(filter.pageToken);
      if (!cursor) throw new BadPageTokenError();
      qb.andWhere('(f.created_at, f.id) > (:createdAt, :id)', cursor);
    }
    if (filter.integrationId) qb.andWhere(':integrationId = ANY(f.integration_ids)', { integrationId: filter.integrationId });
    if (filter.active !== undefined) qb.andWhere('f.active = :active', { active: filter.active });
    const rows = await qb.getMany();
    const items = rows.slice(0, filter.pageSize);
    const last = items.at(-1);
    return {
      items: items.map(toFlow),
      ...(rows.length > filter.pageSize && last ? { nextPageToken: encodePageToken({ createdAt: last.createdAt.toISOString(), id: last.id }) } : {}),
    };
  }
}
