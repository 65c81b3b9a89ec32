import { randomBytes } from 'node:crypto';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { Contracts } from '@latchkey/contracts';
import { PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const HOSTILE_SCHEMA = 'ünï code "s"';
const HOSTILE_TABLE = 'we"ird; DROP ROLE victim; --';

const person = (name: string) => ({ id: `id-${name}-${randomBytes(3).toString('hex')}`, email: `${name}@example.com` });
const ordersRead = { resourceType: 'postgresql-table', database: 'shop', schema: 'sales', table: 'orders', permission: 'READ_ONLY' };
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

describe('provisioning: time-boxed grants on a scram-only PostgreSQL', () => {
  let pg: PgCluster;
  let t: TestStack;
  let integrationId: string;
  let aliceRole: string;

  const login = async (credentials: { username: string; password: string }, database = 'shop') => {
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: credentials.username, password: credentials.password, database });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const grant = async (body: Record<string, unknown>) => {
    const res = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, { body });
    expect(res.status).toBe(201);
    return res.body as {
      grant: { id: string; status: string; roleName: string };
      credentials: { username: string; password: string; host: string; port: number; database: string };
    };
  };
  const grantStatus = async (id: string) => (await t.api('GET', `/api/v1/integrations/${integrationId}/grants/${id}`)).body;
  const canLogin = async (role: string) =>
    (await pg.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;
  const sessionsOf = async (role: string) =>
    Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1', [role]))[0].n);

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE ROLE victim NOLOGIN');
    await pg.query('CREATE DATABASE shop');
    await pg.query('CREATE DATABASE other');
    await pg.query('REVOKE CONNECT ON DATABASE other FROM PUBLIC');
    await pg.query(
      `CREATE SCHEMA sales; CREATE SCHEMA hr;
       CREATE TABLE sales.orders (id int PRIMARY KEY, total numeric); INSERT INTO sales.orders VALUES (1, 10), (2, 20);
       CREATE TABLE hr.salaries (id int, amount numeric); INSERT INTO hr.salaries VALUES (1, 1000);
       CREATE SCHEMA "ünï code ""s"""; CREATE TABLE "ünï code ""s"""."we""ird; DROP ROLE victim; --" (v text); INSERT INTO "ünï code ""s"""."we""ird; DROP ROLE victim; --" VALUES ('hostile ok');`,
      undefined,
      'shop',
    );
    t = await startTestStack({
      env: {
        SWEEP_INTERVAL_SECONDS: '1',
        REVOCATION_ATTEMPTS: '3',
        REVOCATION_BACKOFF_MS: '200',
        GRANTING_TIMEOUT_SECONDS: '5',
        REVOCATION_GRACE_SECONDS: '60',
        ROLE_CLEANUP_AFTER_SECONDS: '15',
        REVOCATION_OVERDUE_SECONDS: '5',
        // Not the default (64): the verifiers below show the setting reaches the target.
        GRANT_SCRAM_ITERATIONS: '1000',
      },
    });
    const res = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table', 'postgresql-schema', 'postgresql-database'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(res.body.status).toBe('ACTIVE');
    integrationId = res.body.id;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('hands out a personal login that reads what READ_ONLY allows and nothing more, and cuts it off at expiry', async () => {
    const alice = await grant({ identity: person('alice'), items: [ordersRead], expiresAt: inSeconds(5) });
    const bob = await grant({ identity: person('bob'), items: [ordersRead], durationMinutes: 10 });
    expect(alice.grant.status).toBe('ACTIVE');
    aliceRole = alice.grant.roleName;
    expect(alice.credentials).toMatchObject({ host: '127.0.0.1', port: pg.port, database: 'shop', username: alice.grant.roleName });

    const session = await login(alice.credentials);
    expect((await session.query('SELECT count(*)::int AS n FROM sales.orders')).rows[0].n).toBe(2);
    await expect(session.query('INSERT INTO sales.orders VALUES (3, 30)')).rejects.toMatchObject({ code: '42501' });
    await expect(session.query('SELECT * FROM hr.salaries')).rejects.toMatchObject({ code: '42501' });
    await expect(login(alice.credentials, 'other')).rejects.toMatchObject({ code: '42501' });
    await expect(login({ ...alice.credentials, password: 'wrong' })).rejects.toMatchObject({ code: '28P01' });
    const roles = await pg.query<{ member: string }>(
      "SELECT m.rolname AS member FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = 'latchkey_managed'",
    );
    expect(roles.map((r) => r.member)).toEqual(expect.arrayContaining([alice.grant.roleName, bob.grant.roleName]));
    const bobSession = await login(bob.credentials);

    const ended = await waitUntil('alice expired', async () => {
      const g = await grantStatus(alice.grant.id);
      return g.status === 'EXPIRED' && g;
    });
    expect(Date.parse(ended.endedAt)).toBeGreaterThanOrEqual(Date.parse(ended.expiresAt));
    await expect(session.query('SELECT 1')).rejects.toThrow();
    expect(await sessionsOf(alice.grant.roleName)).toBe(0);
    expect(await canLogin(alice.grant.roleName)).toBe(false);
    await expect(login(alice.credentials)).rejects.toMatchObject({ code: '28000' });
    // Bob's grant on the same table, and his open session, are untouched.
    expect((await bobSession.query('SELECT count(*)::int AS n FROM sales.orders')).rows[0].n).toBe(2);
    await bobSession.end();
    await session.end().catch(() => undefined);
  });

  it('makes one grant per idempotency key', async () => {
    const body = { idempotencyKey: `key-${randomBytes(4).toString('hex')}`, identity: person('carol'), items: [ordersRead], durationMinutes: 5 };
    const first = await grant(body);
    const second = await grant(body);
    expect(second.grant.id).toBe(first.grant.id);
    expect(second.credentials.password).toBe(first.credentials.password);
    const list = await t.api('GET', `/api/v1/integrations/${integrationId}/grants?pageSize=500`);
    expect(list.body.items.filter((g: { idempotencyKey: string }) => g.idempotencyKey === body.idempotencyKey)).toHaveLength(1);
  });

  it('revokes early, extends, and resets credentials', async () => {
    const dave = await grant({ identity: person('dave'), items: [ordersRead], durationMinutes: 5 });
    const daveSession = await login(dave.credentials);
    const revoked = await t.api('POST', `/api/v1/integrations/${integrationId}/grants/${dave.grant.id}/revoke`);
    expect(revoked.body.status).toBe('REVOKED');
    await expect(daveSession.query('SELECT 1')).rejects.toThrow();
    expect(await canLogin(dave.grant.roleName)).toBe(false);

    const erin = await grant({ identity: person('erin'), items: [ordersRead], expiresAt: inSeconds(3) });
    const later = inSeconds(8);
    const extended = await t.api('POST', `/api/v1/integrations/${integrationId}/grants/${erin.grant.id}/extend`, { body: { expiresAt: later } });
    expect(extended.status).toBe(200);
    expect(extended.body.expiresAt).toBe(new Date(later).toISOString());
    await new Promise((r) => setTimeout(r, 4000));
    expect((await grantStatus(erin.grant.id)).status).toBe('ACTIVE');
    const validUntil = (await pg.query<{ v: Date }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [erin.grant.roleName]))[0].v;
    expect(validUntil.getTime()).toBeGreaterThan(Date.parse(later));

    const verifier = async () =>
      (await pg.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [erin.grant.roleName]))[0].rolpassword;
    const granted = await verifier();
    expect(granted.startsWith('SCRAM-SHA-256$1000:')).toBe(true);
    const reset = await t.api('POST', `/api/v1/integrations/${integrationId}/grants/${erin.grant.id}/reset-credentials`);
    expect(reset.body.credentials.password).not.toBe(erin.credentials.password);
    const resetVerifier = await verifier();
    expect(resetVerifier).not.toBe(granted);
    expect(resetVerifier.startsWith('SCRAM-SHA-256$1000:')).toBe(true);
    await expect(login(erin.credentials)).rejects.toMatchObject({ code: '28P01' });
    const fresh = await login(reset.body.credentials);
    await fresh.end();
    await waitUntil('erin expired', async () => (await grantStatus(erin.grant.id)).status === 'EXPIRED');
    await daveSession.end().catch(() => undefined);
  });

  it('refuses bad grant requests with the field and the rule', async () => {
    const res = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
      body: {
        identity: { id: 'x', email: 'not-an-email' },
        items: [{ resourceType: 'postgresql-table', database: 'shop', permission: 'MEMBER' }],
        durationMinutes: 0,
      },
    });
    expect(res.status).toBe(400);
    const fields = res.body.details.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['identity.email', 'items.0.schema', 'items.0.table', 'items.0.permission', 'durationMinutes']));
    const past = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
      body: { identity: person('x'), items: [ordersRead], expiresAt: new Date(Date.now() - 1000).toISOString() },
    });
    expect(past.status).toBe(400);
    expect(past.body.details.issues).toEqual([{ field: 'expiresAt', rule: 'must be in the future' }]);
  });

  it('grants and revokes hostile names without letting anything through', async () => {
    const frank = await grant({
      identity: { id: `id-"; DROP ROLE victim; --ünï${randomBytes(2).toString('hex')}`, email: "o'brien+x@example.com" },
      items: [{ resourceType: 'postgresql-table', database: 'shop', schema: HOSTILE_SCHEMA, table: HOSTILE_TABLE, permission: 'READ_ONLY' }],
      durationMinutes: 5,
    });
    const session = await login(frank.credentials);
    const { rows } = await session.query(`SELECT v FROM "ünï code ""s"""."we""ird; DROP ROLE victim; --"`);
    expect(rows).toEqual([{ v: 'hostile ok' }]);
    await session.end();
    expect(await pg.query('SELECT 1 FROM pg_roles WHERE rolname = $1', ['victim'])).toHaveLength(1);
    const revoked = await t.api('POST', `/api/v1/integrations/${integrationId}/grants/${frank.grant.id}/revoke`);
    expect(revoked.body.status).toBe('REVOKED');
  });

  it('serves 16 concurrent grants on the same table without an error', async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        t.api('POST', `/api/v1/integrations/${integrationId}/grants`, { body: { identity: person(`crowd${i}`), items: [ordersRead], durationMinutes: 5 } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(201));
  });

  it('still revokes on time when Redis loses its data (the sweeper re-derives the work)', async () => {
    const gina = await grant({ identity: person('gina'), items: [ordersRead], expiresAt: inSeconds(3) });
    await t.redis.flushAll();
    await waitUntil('gina expired', async () => (await grantStatus(gina.grant.id)).status === 'EXPIRED');
    expect(await canLogin(gina.grant.roleName)).toBe(false);
  });

  it('still revokes when provisioning is killed before the expiry', async () => {
    const hank = await grant({ identity: person('hank'), items: [ordersRead], expiresAt: inSeconds(4) });
    await t.stack.kill('provisioning');
    await new Promise((r) => setTimeout(r, 5000));
    expect(await canLogin(hank.grant.roleName)).toBe(true);
    t.stack.startProcess('provisioning', 'provisioning');
    await waitUntil('hank expired', async () => (await grantStatus(hank.grant.id).catch(() => ({ status: 'unknown' }))).status === 'EXPIRED');
    expect(await canLogin(hank.grant.roleName)).toBe(false);
  });

  it('reports drift and repairs it', async () => {
    const ivy = await grant({ identity: person('ivy'), items: [ordersRead], durationMinutes: 5 });
    await pg.query('CREATE ROLE lk_stray LOGIN IN ROLE latchkey_managed');
    const [{ profile }] = await pg.query<{ profile: string }>(
      'SELECT r.rolname AS profile FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = $1 AND r.rolname <> $2',
      [ivy.grant.roleName, 'latchkey_managed'],
    );
    await pg.query(`REVOKE "${profile}" FROM "${ivy.grant.roleName}"`);

    const report = await t.api('GET', `/api/v1/integrations/${integrationId}/drift`);
    expect(report.body.orphanRoles).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'lk_stray', canLogin: true })]));
    expect(report.body.missingGrants).toEqual([{ grantId: ivy.grant.id, role: ivy.grant.roleName, missing: [`membership:${profile}`] }]);

    const repaired = await t.api('POST', `/api/v1/integrations/${integrationId}/drift/repair`);
    expect(repaired.body.repaired).toBe(true);
    expect(await canLogin('lk_stray')).toBe(false);
    const session = await login(ivy.credentials);
    expect((await session.query('SELECT count(*)::int AS n FROM sales.orders')).rows[0].n).toBe(2);
    await session.end();
    const after = await t.api('GET', `/api/v1/integrations/${integrationId}/drift`);
    expect(after.body.orphanRoles.find((o: { role: string }) => o.role === 'lk_stray')).toBeUndefined();
    expect(after.body.missingGrants).toEqual([]);
  });

  it('marks a revocation the target keeps refusing STUCK with an alert, and finishes it once the target is back', async () => {
    const nc = await natsConnect({ servers: t.natsUrl });
    const alerts: string[] = [];
    const sub = nc.subscribe(Contracts.provisioningGrantStuck.subject);
    void (async () => {
      for await (const m of sub) alerts.push(new TextDecoder().decode(m.data));
    })();
    const jill = await grant({ identity: person('jill'), items: [ordersRead], expiresAt: inSeconds(2) });
    // Refuse the connector: no new login, and its open (pooled) sessions end.
    await pg.query(`ALTER ROLE ${CONNECTOR_USER} NOLOGIN`);
    await pg.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [CONNECTOR_USER]);
    try {
      const stuck = await waitUntil('jill stuck', async () => {
        const g = await grantStatus(jill.grant.id);
        return g.status === 'STUCK' && g;
      });
      expect(stuck.attempts).toBeGreaterThanOrEqual(3);
      expect(stuck.lastError).toMatch(/not permitted to log in|connect/i);
      await waitUntil('the alert', async () => alerts.some((a) => a.includes(jill.grant.id)));
    } finally {
      await pg.query(`ALTER ROLE ${CONNECTOR_USER} LOGIN`);
    }
    await waitUntil('jill expired after recovery', async () => (await grantStatus(jill.grant.id)).status === 'EXPIRED');
    expect(await canLogin(jill.grant.roleName)).toBe(false);
    await nc.close();
  });

  it('drops a personal role unused for the cleanup period', async () => {
    await waitUntil("alice's role dropped", async () => (await pg.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [aliceRole])).length === 0, 40_000);
    const [row] = await t.control<{ state: string }>('SELECT state FROM provisioning.personal_roles WHERE role_name = $1', [aliceRole]);
    expect(row.state).toBe('DROPPED');
  });

  it('revokes a grant whose job does not run (its workers stalled) once it is REVOCATION_OVERDUE_SECONDS late', async () => {
    // Pausing the queue stops every worker taking jobs: the revocation job sits there, due.
    const queue = new Queue('revocations-local', { connection: { url: t.redis.url } });
    await queue.pause();
    try {
      const lee = await grant({ identity: person('lee'), items: [ordersRead], expiresAt: inSeconds(2) });
      const ended = await waitUntil(
        'lee expired with the queue paused',
        async () => {
          const g = await grantStatus(lee.grant.id);
          return g.status === 'EXPIRED' && g;
        },
        60_000,
      );
      expect(Date.parse(ended.endedAt) - Date.parse(ended.expiresAt)).toBeGreaterThanOrEqual(5000);
      expect(await canLogin(lee.grant.roleName)).toBe(false);
      expect(t.stack.output('provisioning')).toContain('grants still active past their expiry with no job run: revoked by the sweeper itself');
    } finally {
      await queue.resume();
      await queue.close();
    }
  });

  it('still revokes on time while Redis is gone entirely (the sweeper revokes from the control database)', async () => {
    const kim = await grant({ identity: person('kim'), items: [ordersRead], expiresAt: inSeconds(4) });
    const session = await login(kim.credentials);
    // Gone, not emptied: every service's connection to it fails from now on (last test but one: nothing after needs it).
    await t.redis.stop();
    const ended = await waitUntil(
      'kim expired without Redis',
      async () => {
        const g = await grantStatus(kim.grant.id);
        return g.status === 'EXPIRED' && g;
      },
      60_000,
    );
    expect(Date.parse(ended.endedAt)).toBeGreaterThanOrEqual(Date.parse(ended.expiresAt));
    await expect(session.query('SELECT 1')).rejects.toThrow();
    expect(await sessionsOf(kim.grant.roleName)).toBe(0);
    expect(await canLogin(kim.grant.roleName)).toBe(false);
    expect(t.stack.output('provisioning')).toContain('Redis unavailable: due revocations run by the sweeper itself');
  });

  it('never logs or returns the connector password, and returns a grant password only to its caller', () => {
    expect(t.stack.output()).not.toContain(CONNECTOR_PASSWORD);
    expect(t.responses.join('\n')).not.toContain(CONNECTOR_PASSWORD);
    expect(t.stack.output()).not.toMatch(/"password":"(?!\[REDACTED\])/);
  });
});
