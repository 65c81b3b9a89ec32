import type { Client } from 'pg';
import { type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { connectTarget, type TargetConnectionParams } from '../connection';
import { quoteIdent } from '../quote';
import { applyGrant } from './apply-grant';
import { setPassword, setValidUntil } from './credentials';
import { dropPersonalRole } from './drop-personal-role';
import type { ApplyGrantOptions, GrantTargetItem } from './grant-types';
import { inspectManaged } from './inspect-managed';
import { disableRole, revokeGrant, revokeGrants } from './revoke-grant';
import { personalRoleName, profileRoleName } from './role-names';
import { GENERATED_PASSWORD_ITERATIONS, generatePassword } from './scram';

const APP_DB = 'appdb';
const ORDERS: GrantTargetItem = { resourceType: 'postgresql-table', database: APP_DB, schema: 'app', table: 'orders', permission: 'READ_ONLY' };
const APP_SCHEMA_ADMIN: GrantTargetItem = { resourceType: 'postgresql-schema', database: APP_DB, schema: 'app', permission: 'ADMIN' };

let cluster: PgCluster;
let conn: TargetConnectionParams;
const open: Client[] = [];

beforeAll(async () => {
  cluster = await startPgCluster({ hba: 'scram' });
  conn = cluster.connectionParams();
  await cluster.query(`CREATE DATABASE ${APP_DB}`);
  await cluster.query(`REVOKE CONNECT ON DATABASE ${APP_DB} FROM PUBLIC`);
  await cluster.query(`CREATE SCHEMA app; CREATE TABLE app.orders (id int, item text); INSERT INTO app.orders VALUES (1, 'tea');`, undefined, APP_DB);
}, STARTUP_TIMEOUT_MS);

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});

afterAll(async () => {
  await cluster?.stop();
});

let people = 0;
async function grantedPerson(items: GrantTargetItem[], over: Partial<ApplyGrantOptions> = {}) {
  people += 1;
  const role = personalRoleName({ id: `revoke-${people}`, email: `person${people}@example.com` });
  const password = generatePassword();
  await applyGrant(conn, { role, password, validUntil: new Date(Date.now() + 3_600_000), connectionLimit: -1, comment: 'test', items, ...over });
  return { role, password };
}

async function login(role: string, password: string, dbname = APP_DB): Promise<Client> {
  const { client } = await connectTarget({ ...conn, dbname, username: role, password });
  open.push(client);
  return client;
}

async function sessions(role: string): Promise<number> {
  const [row] = await cluster.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]);
  return row!.n;
}

async function memberships(role: string): Promise<string[]> {
  const rows = await cluster.query<{ rolname: string }>(
    `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 ORDER BY 1`,
    [role],
  );
  return rows.map((r) => r.rolname);
}

describe('revokeGrant', () => {
  it('cuts open sessions, refuses new logins and leaves other people alone', async () => {
    const alice = await grantedPerson([ORDERS]);
    const bob = await grantedPerson([ORDERS]);
    const reading = await login(alice.role, alice.password);
    const idle = await login(alice.role, alice.password, 'postgres');
    const bobs = await login(bob.role, bob.password);
    expect((await reading.query('SELECT item FROM app.orders')).rows).toEqual([{ item: 'tea' }]);
    // A query in flight when the revocation lands.
    const inFlight = reading.query('SELECT pg_sleep(30) FROM app.orders').then(
      () => 'finished',
      (error: Error) => error.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));

    await expect(revokeGrant(conn, { role: alice.role, items: [ORDERS], keepItems: [] })).resolves.toEqual({ loginDisabled: true, sessionsTerminated: 2 });
    expect(await inFlight).toMatch(/terminating connection due to administrator command/);
    await expect(idle.query('SELECT 1')).rejects.toThrow();
    expect(await sessions(alice.role)).toBe(0);
    await expect(login(alice.role, alice.password)).rejects.toThrow(/not permitted to log in/);
    expect(await cluster.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [alice.role])).toEqual([{ rolcanlogin: false }]);
    expect(await memberships(alice.role)).toEqual(['latchkey_managed']);

    expect((await bobs.query('SELECT item FROM app.orders')).rows).toEqual([{ item: 'tea' }]);
    expect(await sessions(bob.role)).toBe(1);
  });

  it('keeps what another grant of the same person still needs, but ends sessions that held the revoked one', async () => {
    const write = { ...ORDERS, permission: 'READ_WRITE' as const };
    const carol = await grantedPerson([ORDERS]);
    await applyGrant(conn, {
      role: carol.role,
      password: carol.password,
      validUntil: new Date(Date.now() + 3_600_000),
      connectionLimit: -1,
      comment: 'test',
      items: [ORDERS, write],
    });
    const session = await login(carol.role, carol.password);
    await session.query(`SET ROLE ${quoteIdent(profileRoleName(write))}`);

    const result = await revokeGrant(conn, { role: carol.role, items: [ORDERS, write], keepItems: [ORDERS] });
    expect(result).toEqual({ loginDisabled: false, sessionsTerminated: 1 });
    await expect(session.query('SELECT 1')).rejects.toThrow();
    expect(await memberships(carol.role)).toEqual(['latchkey_managed', profileRoleName(ORDERS)].sort());

    const again = await login(carol.role, carol.password);
    expect((await again.query('SELECT item FROM app.orders')).rows).toEqual([{ item: 'tea' }]);
    await expect(again.query(`INSERT INTO app.orders VALUES (2, 'x')`)).rejects.toMatchObject({ code: '42501' });
  });

  it('ends every session of the login when a grant takes something away, even one that uses only another grant', async () => {
    await cluster.query(`CREATE SCHEMA IF NOT EXISTS hr; CREATE TABLE IF NOT EXISTS hr.staff (id int); INSERT INTO hr.staff VALUES (7);`, undefined, APP_DB);
    const staff: GrantTargetItem = { resourceType: 'postgresql-table', database: APP_DB, schema: 'hr', table: 'staff', permission: 'READ_ONLY' };
    const gus = await grantedPerson([ORDERS]);
    await applyGrant(conn, {
      role: gus.role,
      password: gus.password,
      validUntil: new Date(Date.now() + 3_600_000),
      connectionLimit: -1,
      comment: 'test',
      items: [staff],
    });
    const onlyStaff = await login(gus.role, gus.password);
    expect((await onlyStaff.query('SELECT id FROM hr.staff')).rows).toEqual([{ id: 7 }]);
    // This one SET ROLE into the orders profile: PostgreSQL keeps it there after the membership goes.
    const asOrders = await login(gus.role, gus.password);
    await asOrders.query(`SET ROLE ${quoteIdent(profileRoleName(ORDERS))}`);

    await expect(revokeGrant(conn, { role: gus.role, items: [ORDERS], keepItems: [staff] })).resolves.toEqual({ loginDisabled: false, sessionsTerminated: 2 });
    // PostgreSQL cannot tell which grant a session uses: both end, the one that used only hr.staff too.
    await expect(onlyStaff.query('SELECT 1')).rejects.toThrow();
    await expect(asOrders.query('SELECT 1')).rejects.toThrow();
    expect(await sessions(gus.role)).toBe(0);
    // The login stays, with what the other grant gives and nothing else.
    const again = await login(gus.role, gus.password);
    expect((await again.query('SELECT id FROM hr.staff')).rows).toEqual([{ id: 7 }]);
    await expect(again.query('SELECT * FROM app.orders')).rejects.toMatchObject({ code: '42501' });
    await expect(again.query(`SET ROLE ${quoteIdent(profileRoleName(ORDERS))}`)).rejects.toMatchObject({ code: '42501' });
  });

  it('ends no session when another grant of the person still needs everything the ended one gave', async () => {
    const hal = await grantedPerson([ORDERS]);
    // A second grant of the same table: the same profile role.
    await applyGrant(conn, {
      role: hal.role,
      password: hal.password,
      validUntil: new Date(Date.now() + 3_600_000),
      connectionLimit: -1,
      comment: 'test',
      items: [ORDERS],
    });
    const session = await login(hal.role, hal.password);
    await session.query(`SET ROLE ${quoteIdent(profileRoleName(ORDERS))}`);

    await expect(revokeGrant(conn, { role: hal.role, items: [ORDERS], keepItems: [ORDERS] })).resolves.toEqual({ loginDisabled: false, sessionsTerminated: 0 });
    expect(await sessions(hal.role)).toBe(1);
    expect((await session.query('SELECT item FROM app.orders')).rows).toEqual([{ item: 'tea' }]);
    expect(await memberships(hal.role)).toEqual(['latchkey_managed', profileRoleName(ORDERS)].sort());
  });

  it("reads the person's grants again under the role's lock: a grant made after the first read keeps the login", async () => {
    const ivy = await grantedPerson([ORDERS]);
    // The expiring grant's first read saw no other grant; a new grant of the same table lands before the revocation does.
    await applyGrant(conn, {
      role: ivy.role,
      password: ivy.password,
      validUntil: new Date(Date.now() + 3_600_000),
      connectionLimit: -1,
      comment: 'test',
      items: [ORDERS],
    });
    const session = await login(ivy.role, ivy.password);
    let lockHeld = false;
    const keepItemsNow = async () => {
      const [row] = await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`, undefined, APP_DB);
      lockHeld = row!.n > 0;
      return [ORDERS];
    };
    await expect(revokeGrant(conn, { role: ivy.role, items: [ORDERS], keepItems: [], keepItemsNow })).resolves.toEqual({
      loginDisabled: false,
      sessionsTerminated: 0,
    });
    expect(lockHeld).toBe(true);
    expect(await cluster.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [ivy.role])).toEqual([{ rolcanlogin: true }]);
    expect((await session.query('SELECT item FROM app.orders')).rows).toEqual([{ item: 'tea' }]);
    expect(await memberships(ivy.role)).toEqual(['latchkey_managed', profileRoleName(ORDERS)].sort());

    // A new grant of something else: the expiring grant's membership goes, the login stays, sessions end.
    await cluster.query(`CREATE SCHEMA IF NOT EXISTS hr; CREATE TABLE hr.desks (id int); INSERT INTO hr.desks VALUES (7);`, undefined, APP_DB);
    const desks: GrantTargetItem = { resourceType: 'postgresql-table', database: APP_DB, schema: 'hr', table: 'desks', permission: 'READ_ONLY' };
    await applyGrant(conn, {
      role: ivy.role,
      password: ivy.password,
      validUntil: new Date(Date.now() + 3_600_000),
      connectionLimit: -1,
      comment: 'test',
      items: [desks],
    });
    await expect(revokeGrant(conn, { role: ivy.role, items: [ORDERS], keepItems: [], keepItemsNow: async () => [desks] })).resolves.toEqual({
      loginDisabled: false,
      sessionsTerminated: 1,
    });
    const again = await login(ivy.role, ivy.password);
    expect((await again.query('SELECT id FROM hr.desks')).rows).toEqual([{ id: 7 }]);
    await expect(again.query('SELECT * FROM app.orders')).rejects.toMatchObject({ code: '42501' });
  });

  it('takes the login away when the other grant the first read kept has ended since: the read under the lock decides', async () => {
    // Two grants of the same table expiring together: each first read saw the other as active.
    const jo = await grantedPerson([ORDERS]);
    const session = await login(jo.role, jo.password);
    await expect(revokeGrant(conn, { role: jo.role, items: [ORDERS], keepItems: [ORDERS], keepItemsNow: async () => [] })).resolves.toEqual({
      loginDisabled: true,
      sessionsTerminated: 1,
    });
    await expect(session.query('SELECT 1')).rejects.toThrow();
    expect(await cluster.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [jo.role])).toEqual([{ rolcanlogin: false }]);
    expect(await memberships(jo.role)).toEqual(['latchkey_managed']);
  });

  it('is idempotent, and a missing role counts as revoked', async () => {
    const dave = await grantedPerson([ORDERS]);
    const first = await revokeGrant(conn, { role: dave.role, items: [ORDERS], keepItems: [] });
    expect(first).toEqual({ loginDisabled: true, sessionsTerminated: 0 });
    await expect(revokeGrant(conn, { role: dave.role, items: [ORDERS], keepItems: [] })).resolves.toEqual(first);
    await expect(revokeGrant(conn, { role: 'lk_nobody_000000000000', items: [ORDERS], keepItems: [] })).resolves.toEqual({
      loginDisabled: true,
      sessionsTerminated: 0,
    });
    await expect(disableRole(conn, 'lk_nobody_000000000000')).resolves.toEqual({ sessionsTerminated: 0 });
  });

  it('commits NOLOGIN before it ends sessions: a connector that may not end them leaves the role disabled and says what to grant', async () => {
    await cluster.query(`CREATE ROLE nosignal LOGIN CREATEROLE PASSWORD 'nosignal-password'; GRANT CONNECT ON DATABASE ${APP_DB} TO nosignal;`);
    const weak = { ...conn, username: 'nosignal', password: 'nosignal-password' };
    const gina = await grantedPerson([ORDERS]);
    const session = await login(gina.role, gina.password);

    await expect(revokeGrant(weak, { role: gina.role, items: [ORDERS], keepItems: [] })).rejects.toMatchObject({
      code: 'missing_privilege',
      fix: 'GRANT "pg_signal_backend" TO "nosignal";',
    });
    expect(await cluster.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [gina.role])).toEqual([{ rolcanlogin: false }]);
    expect(await memberships(gina.role)).toEqual(['latchkey_managed']);
    expect(await sessions(gina.role)).toBe(1);
    await expect(session.query('SELECT 1')).resolves.toBeDefined();
    // The pooled session is clean: the next revocation on it works.
    await expect(revokeGrant(conn, { role: gina.role, items: [ORDERS], keepItems: [] })).resolves.toEqual({ loginDisabled: true, sessionsTerminated: 1 });
  });

  it('rolls everything back when a change before COMMIT fails', async () => {
    await cluster.query(`CREATE ROLE plain_connector LOGIN PASSWORD 'plain-password'; GRANT CONNECT ON DATABASE ${APP_DB} TO plain_connector;`);
    const plain = { ...conn, username: 'plain_connector', password: 'plain-password' };
    const hank = await grantedPerson([ORDERS]);

    const error = await revokeGrant(plain, { role: hank.role, items: [ORDERS], keepItems: [] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: '42501' });
    expect(error).not.toMatchObject({ name: 'GrantError' });
    expect(await cluster.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [hank.role])).toEqual([{ rolcanlogin: true }]);
    expect(await memberships(hank.role)).toEqual(['latchkey_managed', profileRoleName(ORDERS)].sort());
    await expect(revokeGrant(plain, { role: 'lk_nobody_000000000000', items: [ORDERS], keepItems: [] })).resolves.toEqual({
      loginDisabled: true,
      sessionsTerminated: 0,
    });
  });

  it('re-granting after a revocation lets the person in again', async () => {
    const erin = await grantedPerson([ORDERS]);
    await revokeGrant(conn, { role: erin.role, items: [ORDERS], keepItems: [] });
    const password = generatePassword();
    await applyGrant(conn, { role: erin.role, password, validUntil: new Date(Date.now() + 3_600_000), connectionLimit: 1, comment: 'again', items: [ORDERS] });
    const client = await login(erin.role, password);
    expect((await client.query('SELECT count(*)::int AS n FROM app.orders')).rows).toEqual([{ n: 1 }]);
  });
});

describe('revokeGrants', () => {
  const canLogin = async (role: string) =>
    (await cluster.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;

  it("takes several people's grants back in one transaction, each as revokeGrant would, their sessions ended in one scan", async () => {
    const write = { ...ORDERS, permission: 'READ_WRITE' as const };
    const kim = await grantedPerson([ORDERS]);
    const lou = await grantedPerson([ORDERS, write]);
    // Mia's other grant of the same table is made after the first read: it shows up only under the locks.
    const mia = await grantedPerson([ORDERS]);
    const kims = await login(kim.role, kim.password);
    const lous = await login(lou.role, lou.password);
    const mias = await login(mia.role, mia.password);
    const inFlight = kims.query('SELECT pg_sleep(30) FROM app.orders').then(
      () => 'finished',
      (error: Error) => error.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    let locksHeld = 0;
    const keepItemsNow = async () => {
      const [row] = await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`, undefined, APP_DB);
      locksHeld = row!.n;
      return [[], [ORDERS], [], [ORDERS]];
    };

    const results = await revokeGrants(conn, {
      grants: [
        { role: kim.role, items: [ORDERS], keepItems: [] },
        { role: lou.role, items: [ORDERS, write], keepItems: [ORDERS] },
        { role: 'lk_nobody_000000000000', items: [ORDERS], keepItems: [] },
        { role: mia.role, items: [ORDERS], keepItems: [] },
      ],
      keepItemsNow,
    });
    expect(results).toEqual([
      { loginDisabled: true, sessionsTerminated: 1 },
      { loginDisabled: false, sessionsTerminated: 1 },
      { loginDisabled: true, sessionsTerminated: 0 },
      { loginDisabled: false, sessionsTerminated: 0 },
    ]);
    // Every existing role's lock was held while the grants were read again.
    expect(locksHeld).toBe(4);
    expect(await inFlight).toMatch(/terminating connection due to administrator command/);
    expect(await sessions(kim.role)).toBe(0);
    expect(await canLogin(kim.role)).toBe(false);
    expect(await memberships(kim.role)).toEqual(['latchkey_managed']);
    await expect(lous.query('SELECT 1')).rejects.toThrow();
    const louAgain = await login(lou.role, lou.password);
    expect((await louAgain.query('SELECT item FROM app.orders')).rows).toEqual([{ item: 'tea' }]);
    await expect(louAgain.query(`INSERT INTO app.orders VALUES (2, 'x')`)).rejects.toMatchObject({ code: '42501' });
    expect((await mias.query('SELECT item FROM app.orders')).rows).toEqual([{ item: 'tea' }]);
    expect(await canLogin(mia.role)).toBe(true);
  });

  it('changes nothing when one of the roles cannot be revoked, and refuses a role twice', async () => {
    await cluster.query(`CREATE ROLE lk_not_ours_0000000000 LOGIN PASSWORD 'not-ours-password'`);
    const ned = await grantedPerson([ORDERS]);
    const session = await login(ned.role, ned.password);
    await expect(
      revokeGrants(conn, {
        grants: [
          { role: ned.role, items: [ORDERS], keepItems: [] },
          { role: 'lk_not_ours_0000000000', items: [ORDERS], keepItems: [] },
        ],
      }),
    ).rejects.toMatchObject({ code: 'not_managed' });
    expect(await canLogin(ned.role)).toBe(true);
    expect(await memberships(ned.role)).toEqual(['latchkey_managed', profileRoleName(ORDERS)].sort());
    expect((await session.query('SELECT item FROM app.orders')).rows).toEqual([{ item: 'tea' }]);
    expect(await canLogin('lk_not_ours_0000000000')).toBe(true);

    const twice = { role: ned.role, items: [ORDERS], keepItems: [] };
    await expect(revokeGrants(conn, { grants: [twice, twice] })).rejects.toThrow('revokeGrants takes each role once');
    await expect(revokeGrants(conn, { grants: [twice] })).resolves.toEqual([{ loginDisabled: true, sessionsTerminated: 1 }]);
  });
});

describe('credentials', () => {
  it('moves the expiry and replaces the password', async () => {
    const frank = await grantedPerson([ORDERS]);
    const until = new Date('2031-02-03T04:05:06.789Z');
    await setValidUntil(conn, frank.role, until);
    const [row] = await cluster.query<{ until: Date }>('SELECT rolvaliduntil AS until FROM pg_roles WHERE rolname = $1', [frank.role]);
    expect(row!.until.toISOString()).toBe(until.toISOString());

    const password = generatePassword();
    await setPassword(conn, frank.role, password, until);
    await expect(login(frank.role, frank.password)).rejects.toThrow(/password authentication failed/);
    await expect(login(frank.role, password)).resolves.toBeDefined();
    const [stored] = await cluster.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [frank.role]);
    expect(stored!.rolpassword).toMatch(new RegExp(`^SCRAM-SHA-256\\$${GENERATED_PASSWORD_ITERATIONS}:`));
    await expect(setValidUntil(conn, 'lk_nobody_000000000000', until)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses logins once VALID UNTIL has passed', async () => {
    const grace = await grantedPerson([ORDERS], { validUntil: new Date(Date.now() - 1000) });
    await expect(login(grace.role, grace.password)).rejects.toThrow(/password authentication failed/);
  });
});

describe('inspectManaged', () => {
  it('lists personal roles with their logins, expiries and memberships, and the profiles with their paths', async () => {
    const gina = await grantedPerson([ORDERS], { validUntil: new Date('2032-01-01T00:00:00.000Z') });
    const managed = await inspectManaged(conn);
    expect(managed.personalRoles).toContainEqual({
      name: gina.role,
      canLogin: true,
      validUntil: '2032-01-01T00:00:00.000Z',
      memberships: ['latchkey_managed', profileRoleName(ORDERS)].sort(),
    });
    expect(managed.profileRoles).toContainEqual({ name: profileRoleName(ORDERS), comment: { latchkey: 'profile', ...ORDERS } });
    expect(managed.personalRoles.map((r) => r.name)).not.toContain(profileRoleName(ORDERS));
  });
});

describe('dropPersonalRole', () => {
  it('reassigns what the role owns to latchkey_orphan_owner, drops its privileges and the role', async () => {
    const hank = await grantedPerson([APP_SCHEMA_ADMIN]);
    const client = await login(hank.role, hank.password);
    await client.query('CREATE TABLE app.hanks_table (x int)');
    await cluster.query(`GRANT SELECT ON app.orders TO ${quoteIdent(hank.role)}`, undefined, APP_DB);

    await expect(dropPersonalRole(conn, hank.role)).resolves.toEqual({ dropped: true });
    await expect(client.query('SELECT 1')).rejects.toThrow();
    expect(await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [hank.role])).toEqual([]);
    expect(await cluster.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'hanks_table'`, undefined, APP_DB)).toEqual([
      { tableowner: 'latchkey_orphan_owner' },
    ]);
    await expect(dropPersonalRole(conn, hank.role)).resolves.toEqual({ dropped: true });
  });

  it('leaves the role disabled with no memberships and says why when it cannot be dropped', async () => {
    const ivy = await grantedPerson([ORDERS]);
    // A table of hers in a database nobody can connect to: REASSIGN OWNED cannot reach it.
    await cluster.query('CREATE DATABASE sealed');
    await cluster.query(`CREATE TABLE kept (x int); ALTER TABLE kept OWNER TO ${quoteIdent(ivy.role)}`, undefined, 'sealed');
    await cluster.query('ALTER DATABASE sealed ALLOW_CONNECTIONS false');
    try {
      const result = await dropPersonalRole(conn, ivy.role);
      expect(result.dropped).toBe(false);
      expect(result.reason).toMatch(/cannot be dropped because some objects depend on it/);
    } finally {
      await cluster.query('DROP DATABASE sealed');
    }
    expect(await cluster.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [ivy.role])).toEqual([{ rolcanlogin: false }]);
    expect(await memberships(ivy.role)).toEqual(['latchkey_managed']);
    await expect(dropPersonalRole(conn, ivy.role)).resolves.toEqual({ dropped: true });
  });

  it('refuses a role Latchkey did not create', async () => {
    await cluster.query('CREATE ROLE not_ours LOGIN');
    await expect(dropPersonalRole(conn, 'not_ours')).resolves.toMatchObject({ dropped: false, reason: expect.stringContaining('latchkey_managed') });
    await expect(disableRole(conn, 'not_ours')).rejects.toMatchObject({ code: 'not_managed' });
    expect(await cluster.query(`SELECT rolcanlogin FROM pg_roles WHERE rolname = 'not_ours'`)).toEqual([{ rolcanlogin: true }]);
  });
});
