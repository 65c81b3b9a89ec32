import { DatabaseError, type Client } from 'pg';
import { type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import { connectTarget, type TargetConnectionParams } from '../connection';
import { quoteIdent, quoteLiteral } from '../quote';
import { applyGrant } from './apply-grant';
import { GrantError } from './grant-error';
import type { ApplyGrantOptions, GrantTargetItem } from './grant-types';
import { revokeGrant } from './revoke-grant';
import { personalRoleName, profileRoleName } from './role-names';
import { GENERATED_PASSWORD_ITERATIONS, generatePassword, scramVerifier } from './scram';

const OWNER = 'app_owner';
const APP_DB = 'appdb';
const OTHER_DB = 'otherdb';
// 63 bytes exactly, PostgreSQL's longest identifier, like LONG_TABLE.
const HOSTILE_DB = `x"; DROP ROLE victim; -- 🔑 ${'d'.repeat(33)}`;
const HOSTILE_SCHEMA = `sch"ema'; DROP ROLE victim; -- é🔑`;
const LONG_TABLE = `${'ü'.repeat(29)}t;"'x`;

let cluster: PgCluster;
let conn: TargetConnectionParams;
const open: Client[] = [];

beforeAll(async () => {
  cluster = await startPgCluster({ hba: 'scram' });
  conn = cluster.connectionParams();
  for (const sql of [
    `CREATE ROLE ${OWNER} NOLOGIN`,
    'CREATE ROLE victim NOLOGIN',
    'CREATE ROLE reporting NOLOGIN',
    `CREATE DATABASE ${APP_DB} OWNER ${OWNER}`,
    `CREATE DATABASE ${OTHER_DB} OWNER ${OWNER}`,
    `CREATE DATABASE ${quoteIdent(HOSTILE_DB)} OWNER ${OWNER}`,
    // Hardened like production: only explicit grants let people in.
    `REVOKE CONNECT ON DATABASE ${APP_DB}, ${OTHER_DB}, ${quoteIdent(HOSTILE_DB)} FROM PUBLIC`,
  ])
    await cluster.query(sql);
  await cluster.query(
    `SET ROLE ${OWNER};
     CREATE SCHEMA app;
     CREATE SCHEMA other;
     CREATE TABLE app.orders (id serial PRIMARY KEY, item text);
     CREATE TABLE app.customers (id int PRIMARY KEY, name text);
     CREATE VIEW app.order_items AS SELECT item FROM app.orders;
     CREATE TABLE other.secrets (s text);
     CREATE FUNCTION app.double_it(x int) RETURNS int LANGUAGE sql AS 'SELECT x * 2';
     REVOKE EXECUTE ON FUNCTION app.double_it(int) FROM PUBLIC;
     INSERT INTO app.orders (item) VALUES ('tea'), ('cake');
     INSERT INTO app.customers VALUES (1, 'Ada');
     INSERT INTO other.secrets VALUES ('s3cret');
     RESET ROLE;
     GRANT SELECT ON app.customers TO reporting;`,
    undefined,
    APP_DB,
  );
  await cluster.query(`SET ROLE ${OWNER}; CREATE TABLE public.elsewhere (x int); INSERT INTO public.elsewhere VALUES (1); RESET ROLE;`, undefined, OTHER_DB);
  await cluster.query(
    `SET ROLE ${OWNER};
     CREATE SCHEMA ${quoteIdent(HOSTILE_SCHEMA)};
     CREATE TABLE ${quoteIdent(HOSTILE_SCHEMA)}.${quoteIdent(LONG_TABLE)} (v text);
     INSERT INTO ${quoteIdent(HOSTILE_SCHEMA)}.${quoteIdent(LONG_TABLE)} VALUES ('hostile ok');
     CREATE TABLE ${quoteIdent(HOSTILE_SCHEMA)}.untouched (v text);
     RESET ROLE;`,
    undefined,
    HOSTILE_DB,
  );
}, STARTUP_TIMEOUT_MS);

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});

afterAll(async () => {
  await cluster?.stop();
});

let people = 0;
function person(email = 'ada.lovelace@example.com') {
  people += 1;
  return { role: personalRoleName({ id: `person-${people}`, email }), password: generatePassword() };
}

function grant(role: string, password: string, items: GrantTargetItem[], over: Partial<ApplyGrantOptions> = {}): ApplyGrantOptions {
  return { role, password, validUntil: new Date(Date.now() + 3_600_000), connectionLimit: 3, comment: `Latchkey login of ${role}`, items, ...over };
}

/** Logs in over TCP with SCRAM, as the person would with the handed-out credentials. */
async function login(role: string, password: string, dbname = APP_DB): Promise<Client> {
  const { client } = await connectTarget({ ...conn, dbname, username: role, password });
  open.push(client);
  return client;
}

async function sqlState(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof DatabaseError ? error.code : `not a DatabaseError: ${String(error)}`;
  }
}

const table = (schema: string, name: string, permission: GrantTargetItem['permission'], database = APP_DB): GrantTargetItem => ({
  resourceType: 'postgresql-table',
  database,
  schema,
  table: name,
  permission,
});

describe('applyGrant', () => {
  it("makes the verifier with the caller's iterations (GRANT_SCRAM_ITERATIONS), and the login works either way", async () => {
    for (const scramIterations of [4096, 1]) {
      const { role, password } = person(`iterations-${scramIterations}@example.com`);
      await applyGrant(conn, grant(role, password, [table('app', 'orders', 'READ_ONLY')], { scramIterations }));
      const [row] = await cluster.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
      expect(row!.rolpassword.startsWith(`SCRAM-SHA-256$${scramIterations}:`)).toBe(true);
      const client = await login(role, password);
      expect((await client.query('SELECT count(*)::int AS n FROM app.orders')).rows).toEqual([{ n: 2 }]);
    }
  });

  it('READ_ONLY on a table: SCRAM login, SELECT only, nothing else reachable', async () => {
    const { role, password } = person();
    const item = table('app', 'orders', 'READ_ONLY');
    const result = await applyGrant(conn, grant(role, password, [item]));
    expect(result).toEqual({ profiles: [profileRoleName(item)], uncoveredOwners: [], ungrantedObjects: [] });

    const client = await login(role, password);
    expect((await client.query('SELECT item FROM app.orders ORDER BY id')).rows).toEqual([{ item: 'tea' }, { item: 'cake' }]);
    expect(await sqlState(client.query("INSERT INTO app.orders (item) VALUES ('x')"))).toBe('42501');
    expect(await sqlState(client.query('SELECT * FROM app.customers'))).toBe('42501');
    expect(await sqlState(client.query('SELECT * FROM other.secrets'))).toBe('42501');
    await expect(login(role, password, OTHER_DB)).rejects.toThrow(/permission denied for database/);
    await expect(login(role, 'wrong-password')).rejects.toThrow(/password authentication failed/);

    const [row] = await cluster.query<{ rolcanlogin: boolean; rolconnlimit: number; valid: boolean; scram: boolean; comment: string }>(
      `SELECT rolcanlogin, rolconnlimit, rolvaliduntil > now() + interval '59 minutes' AS valid,
              rolpassword LIKE $2 AS scram, shobj_description(oid, 'pg_authid') AS comment
         FROM pg_authid WHERE rolname = $1`,
      [role, `SCRAM-SHA-256$${GENERATED_PASSWORD_ITERATIONS}:%`],
    );
    expect(row).toEqual({ rolcanlogin: true, rolconnlimit: 3, valid: true, scram: true, comment: `Latchkey login of ${role}` });
    expect(await memberships(role)).toEqual(['latchkey_managed', profileRoleName(item)].sort());
    // People never appear in an object's ACL: only the profile does.
    const direct = await cluster.query(
      `SELECT c.relname FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
      [role],
      APP_DB,
    );
    expect(direct).toEqual([]);
  });

  it('READ_WRITE on a table: writes through the serial sequence, no TRUNCATE', async () => {
    const { role, password } = person();
    await applyGrant(conn, grant(role, password, [table('app', 'orders', 'READ_WRITE')]));
    const client = await login(role, password);
    await client.query("INSERT INTO app.orders (item) VALUES ('scone')");
    await client.query("UPDATE app.orders SET item = 'buttered scone' WHERE item = 'scone'");
    await client.query("DELETE FROM app.orders WHERE item = 'buttered scone'");
    expect(await sqlState(client.query('TRUNCATE app.orders'))).toBe('42501');
    expect(await sqlState(client.query('SELECT * FROM app.customers'))).toBe('42501');
  });

  it('ADMIN on a schema: creates tables, truncates, executes functions', async () => {
    const { role, password } = person();
    await applyGrant(conn, grant(role, password, [{ resourceType: 'postgresql-schema', database: APP_DB, schema: 'app', permission: 'ADMIN' }]));
    const client = await login(role, password);
    await client.query('CREATE TABLE app.scratch (x int)');
    await client.query('DROP TABLE app.scratch');
    expect((await client.query('SELECT app.double_it(21) AS v')).rows).toEqual([{ v: 42 }]);
    await client.query('TRUNCATE app.customers');
    await cluster.query("INSERT INTO app.customers VALUES (1, 'Ada')", undefined, APP_DB);
    expect(await sqlState(client.query('SELECT * FROM other.secrets'))).toBe('42501');
    expect(await sqlState(client.query('CREATE SCHEMA mine'))).toBe('42501');
  });

  it('READ_ONLY on a database covers every schema and tables created after the grant', async () => {
    const { role, password } = person();
    const result = await applyGrant(conn, grant(role, password, [{ resourceType: 'postgresql-database', database: APP_DB, permission: 'READ_ONLY' }]));
    // The superuser connector may act for every owner, postgres included.
    expect(result.uncoveredOwners).toEqual([]);
    await cluster.query(`SET ROLE ${OWNER}; CREATE TABLE app.later (x int); INSERT INTO app.later VALUES (7); RESET ROLE;`, undefined, APP_DB);
    const client = await login(role, password);
    expect((await client.query('SELECT x FROM app.later')).rows).toEqual([{ x: 7 }]);
    expect((await client.query('SELECT s FROM other.secrets')).rows).toEqual([{ s: 's3cret' }]);
    expect(await sqlState(client.query('INSERT INTO app.later VALUES (8)'))).toBe('42501');
  });

  it('MEMBER on an existing role', async () => {
    const { role, password } = person();
    const result = await applyGrant(
      conn,
      grant(role, password, [
        { resourceType: 'postgresql-role', database: APP_DB, role: 'reporting', permission: 'MEMBER' },
        { resourceType: 'postgresql-database', database: APP_DB, permission: 'READ_ONLY' },
      ]),
    );
    expect(result.profiles).toHaveLength(1);
    expect(await memberships(role)).toContain('reporting');
    const client = await login(role, password);
    expect((await client.query('SELECT name FROM app.customers')).rows).toEqual([{ name: 'Ada' }]);
  });

  it('refuses membership in a missing role or a superuser role, leaving no login behind', async () => {
    const { role, password } = person();
    const missing = applyGrant(conn, grant(role, password, [{ resourceType: 'postgresql-role', database: APP_DB, role: 'nobody', permission: 'MEMBER' }]));
    await expect(missing).rejects.toMatchObject({ code: 'not_found' });
    const superuser = applyGrant(conn, grant(role, password, [{ resourceType: 'postgresql-role', database: APP_DB, role: 'postgres', permission: 'MEMBER' }]));
    await expect(superuser).rejects.toMatchObject({ code: 'invalid_item' });
    await expect(applyGrant(conn, grant(role, password, [table('app', 'gone', 'READ_ONLY')]))).rejects.toMatchObject({ code: 'not_found' });
    expect(await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).toEqual([]);
  });

  it('changes nothing for the person before `ready`, and nothing at all when `ready` is rejected', async () => {
    const { role, password } = person();
    const item = table('app', 'orders', 'READ_ONLY');
    let written!: () => void;
    const ready = new Promise<void>((resolve) => (written = resolve));
    const applying = applyGrant(conn, grant(role, password, [item], { ready }));
    // The engine holds the role's lock and waits: the caller's record is not written yet.
    await waitUntil(
      'the engine holds the role lock',
      async () => (await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`))[0]!.n > 0,
      10_000,
      20,
    );
    expect(await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).toEqual([]);
    written();
    await applying;
    const client = await login(role, password);
    expect((await client.query('SELECT count(*)::int AS n FROM app.orders')).rows).toEqual([{ n: 2 }]);

    const refused = person();
    await expect(
      applyGrant(conn, grant(refused.role, refused.password, [item], { ready: Promise.reject(new Error('the grant row was not written')) })),
    ).rejects.toThrow('the grant row was not written');
    expect(await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [refused.role])).toEqual([]);
    expect(await cluster.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).toEqual([{ n: 0 }]);
  });

  it('is idempotent: applying twice ends in the same state, with the latest password', async () => {
    const { role } = person();
    const items = [
      table('app', 'orders', 'READ_ONLY'),
      { resourceType: 'postgresql-schema', database: APP_DB, schema: 'other', permission: 'READ_WRITE' } as GrantTargetItem,
    ];
    const first = await applyGrant(conn, grant(role, generatePassword(), items));
    const state = await catalogState(role);
    const password = generatePassword();
    expect(await applyGrant(conn, grant(role, password, items))).toEqual(first);
    expect(await catalogState(role)).toEqual(state);
    const client = await login(role, password);
    expect((await client.query('SELECT count(*)::int AS n FROM other.secrets')).rows).toEqual([{ n: 1 }]);
  });

  it('refuses to hand out a role Latchkey did not create', async () => {
    const { role, password } = person();
    await cluster.query(`CREATE ROLE ${quoteIdent(role)} LOGIN SUPERUSER`);
    await expect(applyGrant(conn, grant(role, password, [table('app', 'orders', 'READ_ONLY')]))).rejects.toMatchObject({ code: 'not_managed' });
    await expect(revokeGrant(conn, { role, items: [], keepItems: [] })).rejects.toBeInstanceOf(GrantError);
    expect(await cluster.query('SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = $1', [role])).toEqual([{ rolcanlogin: true, rolsuper: true }]);
  });

  it('grants and revokes hostile database, schema, table and email names without injecting anything', async () => {
    const email = `o'brien "the; boss" 🔑 DROP ROLE victim; --@example.com`;
    const { role, password } = person(email);
    const item = table(HOSTILE_SCHEMA, LONG_TABLE, 'READ_ONLY', HOSTILE_DB);
    expect([Buffer.byteLength(HOSTILE_DB), Buffer.byteLength(LONG_TABLE)]).toEqual([63, 63]);
    await applyGrant(conn, grant(role, password, [item], { comment: `Latchkey login of ${email}` }));

    const client = await login(role, password, HOSTILE_DB);
    const rows = await client.query(`SELECT v FROM ${quoteIdent(HOSTILE_SCHEMA)}.${quoteIdent(LONG_TABLE)}`);
    expect(rows.rows).toEqual([{ v: 'hostile ok' }]);
    expect(await sqlState(client.query(`SELECT v FROM ${quoteIdent(HOSTILE_SCHEMA)}.untouched`))).toBe('42501');
    const [profile] = await cluster.query<{ comment: string }>(`SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1`, [
      profileRoleName(item),
    ]);
    expect(JSON.parse(profile!.comment)).toMatchObject({ database: HOSTILE_DB, schema: HOSTILE_SCHEMA, table: LONG_TABLE });
    expect(await cluster.query(`SELECT shobj_description(oid, 'pg_authid') AS c FROM pg_roles WHERE rolname = $1`, [role])).toEqual([
      { c: `Latchkey login of ${email}` },
    ]);

    await expect(revokeGrant(conn, { role, items: [item], keepItems: [] })).resolves.toEqual({ loginDisabled: true, sessionsTerminated: 1 });
    await expect(login(role, password, HOSTILE_DB)).rejects.toThrow(/not permitted to log in/);
    expect(await memberships(role)).toEqual(['latchkey_managed']);
    expect(await cluster.query(`SELECT rolname FROM pg_roles WHERE rolname = 'victim'`)).toEqual([{ rolname: 'victim' }]);
  });

  it('reports what a connector without grant options cannot grant, and refuses a table grant it cannot make', async () => {
    await cluster.query(`CREATE ROLE weak LOGIN CREATEROLE PASSWORD 'weak-password'; GRANT CONNECT ON DATABASE ${APP_DB} TO weak;`);
    const weak = { ...conn, username: 'weak', password: 'weak-password' };
    const { role, password } = person();
    await expect(applyGrant(weak, grant(role, password, [table('app', 'customers', 'READ_ONLY')]))).rejects.toMatchObject({
      code: 'missing_privilege',
      fix: 'GRANT ALL ON TABLE "app"."customers" TO "weak" WITH GRANT OPTION;',
    });
    const result = await applyGrant(
      weak,
      grant(role, password, [{ resourceType: 'postgresql-schema', database: APP_DB, schema: 'other', permission: 'READ_ONLY' }]),
    );
    expect(result.uncoveredOwners).toEqual([{ database: APP_DB, schema: 'other', owner: OWNER }]);
    expect(result.ungrantedObjects).toEqual([
      { database: APP_DB, kind: 'database', name: APP_DB, privileges: ['CONNECT'] },
      { database: APP_DB, kind: 'schema', name: 'other', privileges: ['USAGE'] },
      { database: APP_DB, kind: 'table', schema: 'other', name: 'secrets', privileges: ['SELECT'] },
    ]);
  });

  it('hands the server the same verifier it would compute itself', async () => {
    await cluster.query(`CREATE ROLE scram_probe PASSWORD ${quoteLiteral('plain ascii \'" ;password')}`);
    const [row] = await cluster.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_probe'`);
    const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(row!.rolpassword)!;
    expect(scramVerifier('plain ascii \'" ;password', { salt: Buffer.from(salt!, 'base64'), iterations: Number(iterations) })).toBe(row!.rolpassword);
  });
});

async function memberships(role: string): Promise<string[]> {
  const rows = await cluster.query<{ rolname: string }>(
    `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 ORDER BY 1`,
    [role],
  );
  return rows.map((r) => r.rolname);
}

/** What a grant leaves in the catalog, password and expiry aside. */
async function catalogState(role: string) {
  const roles = await cluster.query(`SELECT rolname, rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = $1 OR rolname LIKE 'lk\\_p\\_%' ORDER BY 1`, [
    role,
  ]);
  const acls = await cluster.query(
    `SELECT c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('app', 'other') ORDER BY 1`,
    undefined,
    APP_DB,
  );
  const defaults = await cluster.query(
    `SELECT defaclrole::regrole::text, defaclnamespace::regnamespace::text, defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3`,
    undefined,
    APP_DB,
  );
  return { roles, memberships: await memberships(role), acls, defaults };
}
