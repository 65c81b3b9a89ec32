import { Client } from 'pg';
import { classifyDatabaseError } from '@latchkey/messaging';
import { type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { connectTarget, type TargetConnectionParams } from './connection';
import { withSession } from './grants/target-session';

/**
 * The errors a real server and node-pg raise in each fault, as the engine sees them, and what
 * classifyDatabaseError makes of them: retried (a lost connection, a momentary refusal) or not.
 */
describe('classifying what a real PostgreSQL answers', () => {
  let pg: PgCluster;
  let conn: TargetConnectionParams;
  const failureOf = async (work: () => Promise<unknown>): Promise<unknown> =>
    work().then(
      () => new Error('it worked'),
      (error: unknown) => error,
    );

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    conn = pg.connectionParams();
    await pg.query(`CREATE ROLE limited LOGIN PASSWORD 'limited-pw'`);
    await pg.query('CREATE DATABASE full_db');
    await pg.query('ALTER DATABASE full_db CONNECTION LIMIT 0');
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await pg?.stop();
  }, 180_000);

  it('a server that is down, or starting up (57P03), is a lost connection', async () => {
    await pg.halt();
    try {
      const refused = await failureOf(() => connectTarget(conn));
      expect(refused).toMatchObject({ name: 'TargetConnectionError', code: 'ECONNREFUSED' });
      expect(classifyDatabaseError(refused)).toBe('connection');

      await pg.resume({ acceptConnections: false });
      const starting = await failureOf(() => connectTarget(conn));
      expect(starting).toMatchObject({ name: 'TargetConnectionError', code: '57P03' });
      expect((starting as Error).message).toMatch(/not (yet )?accepting connections/);
      expect(classifyDatabaseError(starting)).toBe('connection');
      await pg.halt();
    } finally {
      await pg.resume();
    }
    await expect(withSession(conn, 'postgres', async (c) => (await c.query('SELECT 1 AS one')).rows)).resolves.toEqual([{ one: 1 }]);
  }, 180_000);

  it('a session ended by the server (57P01) is a lost connection', async () => {
    const { client } = await connectTarget(conn);
    client.on('error', () => undefined);
    const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    await pg.query('SELECT pg_terminate_backend($1)', [pid]);
    const ended = await failureOf(() => client.query('SELECT 1'));
    expect(classifyDatabaseError(ended)).toBe('connection');
    await client.end().catch(() => undefined);
  });

  it('too many connections (53300) and a deadlock (40P01) are transient', async () => {
    const full = await failureOf(() => connectTarget({ ...conn, dbname: 'full_db', username: 'limited', password: 'limited-pw' }));
    expect(full).toMatchObject({ code: '53300' });
    expect(classifyDatabaseError(full)).toBe('transient');

    await pg.query('CREATE TABLE IF NOT EXISTS locks (id int PRIMARY KEY); INSERT INTO locks VALUES (1), (2) ON CONFLICT DO NOTHING');
    const [a, b] = [
      new Client({ host: pg.host, port: pg.port, user: pg.superuser, password: pg.superuserPassword, database: 'postgres' }),
      new Client({ host: pg.host, port: pg.port, user: pg.superuser, password: pg.superuserPassword, database: 'postgres' }),
    ];
    await a.connect();
    await b.connect();
    try {
      await a.query('BEGIN; UPDATE locks SET id = id WHERE id = 1');
      await b.query('BEGIN; UPDATE locks SET id = id WHERE id = 2');
      const waiting = failureOf(() => a.query('UPDATE locks SET id = id WHERE id = 2'));
      const other = failureOf(() => b.query('UPDATE locks SET id = id WHERE id = 1'));
      const deadlocked = [await waiting, await other].find((e) => (e as { code?: string }).code === '40P01');
      expect(deadlocked).toBeDefined();
      expect(classifyDatabaseError(deadlocked)).toBe('transient');
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('a wrong password, a missing privilege and bad SQL are permanent', async () => {
    const wrong = await failureOf(() => connectTarget({ ...conn, password: 'not-it' }));
    expect(wrong).toMatchObject({ code: '28P01' });
    expect(classifyDatabaseError(wrong)).toBe('permanent');
    const limited = { ...conn, username: 'limited', password: 'limited-pw' };
    expect(classifyDatabaseError(await failureOf(() => withSession(limited, 'postgres', (c) => c.query('CREATE ROLE nope'))))).toBe('permanent');
    expect(classifyDatabaseError(await failureOf(() => withSession(conn, 'postgres', (c) => c.query('SELEC 1'))))).toBe('permanent');
  });
});
