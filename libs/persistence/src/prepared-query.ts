import type { DataSource } from 'typeorm';

/**
 * A statement of the control database's hot path (one that runs for every grant or revocation),
 * run as a named prepared statement: each pooled connection parses and plans it once, where
 * TypeORM's `query` has PostgreSQL plan it again on every call (planning was 40% of the control
 * database's time in a storm of revocations). A name always stands for the same text.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/** The `pg` connection under a TypeORM query runner, as much of it as this needs. */
interface PreparedSession {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** Runs `statement` with `values` on a pooled connection of `dataSource`, outside any transaction; answers its rows. */
export async function runPrepared(dataSource: DataSource, statement: PreparedStatement, values: unknown[]): Promise<Array<Record<string, unknown>>> {
  const runner = dataSource.createQueryRunner();
  try {
    const session: PreparedSession = await runner.connect();
    return (await session.query({ name: statement.name, text: statement.text, values })).rows;
  } finally {
    await runner.release();
  }
}
