import type { Client } from 'pg';
import { PG_VERSIONS, type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { connectTarget, type TargetConnectionParams } from '../connection';
import { applyGrant } from './apply-grant';
import { dropPersonalRole } from './drop-personal-role';
import { GrantError } from './grant-error';
import type { ApplyGrantResult, GrantTargetItem } from './grant-types';
import { revokeGrant } from './revoke-grant';
import { personalRoleName } from './role-names';
import { generatePassword } from './scram';

const CONNECTOR = 'connector';
const CONNECTOR_PASSWORD = 'connector-password';
const clusters = new Map<number, PgCluster>();

// The objects each connector grants on: the superuser's belong to app_owner, the other's to itself.
const OBJECTS = `CREATE SCHEMA app;
  CREATE TABLE app.orders (id serial PRIMARY KEY, item text);
  CREATE VIEW app.items AS SELECT item FROM app.orders;
  CREATE FUNCTION app.answer() RETURNS int LANGUAGE sql AS 'SELECT 42';
  INSERT INTO app.orders (item) VALUES ('tea');
  CREATE SCHEMA work;`;

beforeAll(async () => {
  const started = await Promise.all(PG_VERSIONS.map(async (v) => [v.major, await startPgCluster({ binDir: v.binDir, hba: 'scram' })] as const));
  for (const [major, cluster] of started) clusters.set(major, cluster);
  await Promise.all(
    started.map(async ([, cluster]) => {
      await cluster.query(`CREATE ROLE app_owner NOLOGIN;
      CREATE ROLE ${CONNECTOR} LOGIN CREATEROLE PASSWORD '${CONNECTOR_PASSWORD}';
      GRANT pg_signal_backend TO ${CONNECTOR};`);
      await cluster.query('CREATE DATABASE su_db OWNER app_owner');
      await cluster.query(`CREATE DATABASE conn_db OWNER ${CONNECTOR}`);
      await cluster.query('REVOKE CONNECT ON DATABASE su_db, conn_db FROM PUBLIC');
      await cluster.query(`SET ROLE app_owner; ${OBJECTS}`, undefined, 'su_db');
      await cluster.query(`SET ROLE ${CONNECTOR}; ${OBJECTS}`, undefined, 'conn_db');
    }),
  );
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([...clusters.values()].map((c) => c.stop()));
});

function items(database: string): GrantTargetItem[] {
  return [
    { resourceType: 'postgresql-table', database, schema: 'app', table: 'orders', permission: 'READ_ONLY' },
    { resourceType: 'postgresql-schema', database, schema: 'work', permission: 'ADMIN' },
    { resourceType: 'postgresql-database', database, permission: 'READ_WRITE' },
  ];
}

/** Grant, real SCRAM login, use, revoke with a query in flight, then drop the role and what it created. */
async function coreScenario(
  cluster: PgCluster,
  conn: TargetConnectionParams,
  major: number,
  expected: Pick<ApplyGrantResult, 'uncoveredOwners' | 'ungrantedObjects'>,
) {
  const role = personalRoleName({ id: `${conn.username}-${major}`, email: `${conn.username}@example.com` });
  const password = generatePassword();
  const grant = { role, password, validUntil: new Date(Date.now() + 3_600_000), connectionLimit: 4, comment: 'matrix', items: items(conn.dbname) };
  const result = await applyGrant(conn, grant);
  expect(result.profiles).toHaveLength(3);
  expect(result).toMatchObject(expected);
  await expect(applyGrant(conn, grant)).resolves.toEqual(result);

  const login = async (): Promise<Client> => (await connectTarget({ ...conn, username: role, password })).client;
  const session = await login();
  expect((await session.query('SELECT item FROM app.items')).rows).toEqual([{ item: 'tea' }]);
  expect((await session.query('SELECT app.answer() AS a')).rows).toEqual([{ a: 42 }]);
  await session.query("INSERT INTO app.orders (item) VALUES ('cake')");
  await session.query('CREATE TABLE work.mine (x int)');
  await expect(session.query('CREATE SCHEMA nope')).rejects.toMatchObject({ code: '42501' });
  const inFlight = session.query('SELECT pg_sleep(30)').then(
    () => 'finished',
    (error: Error) => error.message,
  );

  await expect(revokeGrant(conn, { role, items: grant.items, keepItems: [] })).resolves.toEqual({ loginDisabled: true, sessionsTerminated: 1 });
  expect(await inFlight).toMatch(/terminating connection due to administrator command/);
  await session.end().catch(() => undefined);
  expect(await cluster.query('SELECT pid FROM pg_stat_activity WHERE usename = $1', [role])).toEqual([]);
  await expect(login()).rejects.toThrow(/not permitted to log in/);

  await expect(dropPersonalRole(conn, role)).resolves.toEqual({ dropped: true });
  expect(await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).toEqual([]);
  expect(await cluster.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'mine'`, undefined, conn.dbname)).toEqual([
    { tableowner: 'latchkey_orphan_owner' },
  ]);
}

describe.each(PG_VERSIONS.map((v) => v.major))('PostgreSQL %i', (major) => {
  it('with a superuser connector', async () => {
    const cluster = clusters.get(major)!;
    const [version] = await cluster.query<{ v: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS v`);
    expect(version!.v).toBe(major);
    await coreScenario(cluster, cluster.connectionParams('su_db'), major, { uncoveredOwners: [], ungrantedObjects: [] });
  });

  it('with a CREATEROLE connector that owns the objects and holds pg_signal_backend', async () => {
    const cluster = clusters.get(major)!;
    const conn = { ...cluster.connectionParams('conn_db'), username: CONNECTOR, password: CONNECTOR_PASSWORD };
    if (major >= 16) {
      // The superuser created the marker roles above; PostgreSQL 16 wants ADMIN OPTION on them.
      const refused = await applyGrant(conn, {
        role: 'lk_x_000000000000',
        password: generatePassword(),
        validUntil: new Date(Date.now() + 60_000),
        connectionLimit: 1,
        comment: '',
        items: items('conn_db'),
      }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(GrantError);
      expect(refused).toMatchObject({
        code: 'missing_privilege',
        fix: `GRANT "latchkey_managed" TO "${CONNECTOR}" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;\nGRANT "latchkey_orphan_owner" TO "${CONNECTOR}" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;`,
      });
      await cluster.query((refused as GrantError).fix!);
    }
    // Before 15 the public schema belongs to the bootstrap superuser: this connector can neither
    // grant on it nor act for its owner. From 15 on pg_database_owner owns it, and the connector owns the database.
    const old = major < 15;
    await coreScenario(cluster, conn, major, {
      uncoveredOwners: old ? [{ database: 'conn_db', schema: 'public', owner: 'postgres' }] : [],
      ungrantedObjects: old ? [{ database: 'conn_db', kind: 'schema', name: 'public', privileges: ['USAGE'] }] : [],
    });
  });
});
