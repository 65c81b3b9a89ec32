import { DataSource, EntityManager } from 'typeorm';

/**
 * An open transaction of the control database as services see it: a handle they pass back to
 * repository methods so that several calls commit or roll back together. What it holds is the
 * repositories' business: services see no TypeORM types, and a unit test's fake repository
 * takes any object of this shape.
 */
export interface Tx {
  readonly of: 'control-database';
}

/** The one kind of handle the repositories open: a TypeORM transaction's EntityManager. */
class ManagerTx implements Tx {
  readonly of = 'control-database';
  constructor(readonly manager: EntityManager) {}
}

/** Runs `work` in a new transaction (or a nested one on a manager already inside one, as TypeORM does). */
export function transactionOn<T>(on: DataSource | EntityManager, work: (tx: Tx) => Promise<T>): Promise<T> {
  const run = (m: EntityManager) => work(new ManagerTx(m));
  return on instanceof DataSource ? on.transaction(run) : on.transaction(run);
}

/** The EntityManager behind a handle, for repositories only; a handle from elsewhere is a programming error. */
export function managerOf(tx: Tx): EntityManager {
  if (tx instanceof ManagerTx) return tx.manager;
  throw new Error('not a transaction of the control database: open it with a repository');
}

/** The transaction's manager, or the data source's own (a read outside any transaction). */
export function managerOr(dataSource: DataSource, tx: Tx | undefined): EntityManager {
  return tx ? managerOf(tx) : dataSource.manager;
}
