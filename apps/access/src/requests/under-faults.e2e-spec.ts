import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createUser, PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

jest.setTimeout(420_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
// Revocation retries: 4 attempts, exponential backoff from 2 s with BullMQ's jitter of 0.5, so the
// last attempt comes at least 1 + 2 + 4 s after the first: no grant may be STUCK before that.
const REVOCATION_ATTEMPTS = 4;
const REVOCATION_BACKOFF_MS = 2000;
const MIN_MS_BEFORE_STUCK = [1, 2, 4].reduce((sum, n) => sum + n * REVOCATION_BACKOFF_MS * 0.5, 0);
const END_ACTIONS = ['request.expired', 'request.revoked', 'request.failed'];

interface Person {
  key: string;
  id: string;
  email: string;
  token: string;
  passwords: string[];
  username?: string;
}

interface StuckSighting {
  attempts: number;
  expiresAt: Date;
  stuckAt: Date;
}

/**
 * A bounded chaos run through every real service: short access requests, some people holding
 * open sessions, while grants meet a target that refuses connections, the access and provisioning
 * services are SIGKILLed, Redis loses its data, and the target goes down across the expiry. At the
 * end the target's own catalog and the audit log must say: no login left enabled, no session
 * alive, nothing granted twice, and how each grant ended (EXPIRED, or REVOKED by whom), once.
 */
describe('access requests under faults', () => {
  let pg: PgCluster;
  let t: TestStack;
  let integrationId: string;
  let flowId: string;
  let adminId: string;
  const resources: Record<string, string> = {};
  const people: Record<string, Person> = {};
  const requests: Record<string, string> = {};
  const sessions: Client[] = [];

  const request = async (id: string) => (await t.api('GET', `/api/v1/access-requests/${id}`)).body;
  const waitStatus = (id: string, status: string, timeoutMs = 60_000) =>
    waitUntil(
      `request ${id} ${status}`,
      async () => {
        const r = await request(id);
        return r.status === status && r;
      },
      timeoutMs,
    );
  const grantOf = async (requestId: string) =>
    await t.control<{ id: string; status: string; end_reason: string | null; revoked_by: { id: string } | null; attempts: number; last_error: string | null }>(
      "SELECT id, status, end_reason, revoked_by, attempts, last_error FROM provisioning.grants WHERE idempotency_key = 'access-request-' || $1",
      [requestId],
    );
  const canLogin = async (role: string) =>
    (await pg.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;
  const sessionsOf = async (role: string) => (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]))[0].n;

  /** A session of the person with whichever of their passwords is current (each grant sets a new one). */
  const openSession = async (person: Person): Promise<Client> => {
    for (const password of [...person.passwords].reverse()) {
      const client = new Client({ host: '127.0.0.1', port: pg.port, user: person.username, password, database: 'app' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        sessions.push(client);
        return client;
      } catch {
        await client.end().catch(() => undefined);
      }
    }
    throw new Error(`no password of ${person.key} opens a session`);
  };

  const ask = async (who: string, table: string, permission: string) => {
    const res = await t.api('POST', '/api/v1/access-requests', {
      token: people[who].token,
      body: { items: [{ resourceId: resources[`app/shop/${table}`], permission }], durationMinutes: 1 },
    });
    expect(res.status).toBe(201);
    requests[`${who}-${table}`] = res.body.requests[0].id;
  };

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    // A connector that is no superuser, as on a managed service: the database's limits apply to it.
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} LOGIN CREATEROLE PASSWORD '${CONNECTOR_PASSWORD}'; GRANT pg_signal_backend TO ${CONNECTOR_USER};`);
    await pg.query(`CREATE DATABASE app OWNER ${CONNECTOR_USER}`);
    await pg.query(
      `SET ROLE ${CONNECTOR_USER};
       CREATE SCHEMA shop;
       CREATE TABLE shop.orders (id int); INSERT INTO shop.orders VALUES (1);
       CREATE TABLE shop.stock (id int); INSERT INTO shop.stock VALUES (2);
       CREATE TABLE shop.ledger (id int); INSERT INTO shop.ledger VALUES (3);`,
      undefined,
      'app',
    );
    t = await startTestStack({
      env: {
        ACCESS_SWEEP_INTERVAL_SECONDS: '1',
        SWEEP_INTERVAL_SECONDS: '1',
        REVOCATION_ATTEMPTS: String(REVOCATION_ATTEMPTS),
        REVOCATION_BACKOFF_MS: String(REVOCATION_BACKOFF_MS),
      },
    });
    adminId = (await t.api('GET', '/api/v1/me')).body.id;
    await t.api('POST', '/api/v1/groups', { body: { name: 'staff' } });
    for (const key of ['ann', 'ben', 'cat']) {
      const { user, token } = await createUser(t, { name: key, groups: ['staff'] });
      people[key] = { key, id: user.id, email: user.email, token, passwords: [] };
    }
    // The integration's own database is `postgres`; the tables people ask for are in `app`.
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'postgres', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(integration.body.status).toBe('ACTIVE');
    integrationId = integration.body.id;
    await waitUntil('discovered tables', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table&pageSize=100`);
      for (const r of list.body.items ?? []) resources[r.path] = r.id;
      return ['orders', 'stock', 'ledger'].every((table) => resources[`app/shop/${table}`]);
    });
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'staff, automatic',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['staff'] }] },
        targets: [
          {
            integrationId,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY', 'READ_WRITE'],
            resources: { mode: 'include', by: 'name', values: ['app/shop/*'] },
          },
        ],
        approvers: null,
        maxDurationMinutes: 5,
        settings: { justificationRequired: false, maxExtensions: 0 },
      },
    });
    expect(flow.status).toBe(201);
    flowId = flow.body.id;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    await t?.dispose();
    await pg?.stop();
  });

  it('keeps every promise, and records how every grant ended, once', async () => {
    expect(flowId).toBeDefined();
    // 1. The target refuses new connections to `app` (too many connections, SQLSTATE 53300): a
    //    transient refusal, so the grants wait instead of failing, even across a SIGKILL of the
    //    access service and Redis losing its data.
    await pg.query(`ALTER DATABASE app CONNECTION LIMIT 0`);
    await pg.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()`);
    await ask('ann', 'orders', 'READ_ONLY');
    await ask('ann', 'ledger', 'READ_WRITE');
    await ask('ben', 'orders', 'READ_ONLY');
    await ask('ben', 'stock', 'READ_ONLY');
    await ask('cat', 'ledger', 'READ_ONLY');
    await t.stack.kill('access');
    await t.redis.flushAll();
    t.stack.startProcess('access', 'access');
    for (const id of Object.values(requests)) {
      const waiting = await waitUntil(
        `request ${id} waiting on the target`,
        async () => {
          const r = await request(id).catch(() => null);
          return r && /too many connections/.test(r.statusReason ?? '') && r;
        },
        90_000,
      );
      expect(waiting.status).toBe('APPROVED');
    }
    for (const id of Object.values(requests)) expect((await grantOf(id)).map((g) => g.status)).toEqual(['GRANTING']);
    await pg.query(`ALTER DATABASE app CONNECTION LIMIT -1`);
    for (const id of Object.values(requests)) await waitStatus(id, 'GRANTED', 90_000);

    // 2. Everyone reads their passwords and opens sessions.
    for (const [name, id] of Object.entries(requests)) {
      const person = people[name.split('-')[0]];
      const details = await t.api('GET', `/api/v1/access-requests/${id}/access-details`, { token: person.token });
      expect(details.status).toBe(200);
      person.username = details.body.username;
      person.passwords.push(details.body.password);
    }
    const annSession = await openSession(people.ann);
    expect((await annSession.query('SELECT id FROM shop.ledger')).rows).toEqual([{ id: 3 }]);
    const benSession = await openSession(people.ben);
    expect((await benSession.query('SELECT id FROM shop.stock')).rows).toEqual([{ id: 2 }]);
    await openSession(people.cat);

    // 3. Ann revokes her ledger grant: every session of her login ends (PostgreSQL cannot tell which
    //    grant a session uses), her login stays for the orders grant.
    expect(
      (await t.api('POST', `/api/v1/access-requests/${requests['ann-ledger']}/revoke`, { token: people.ann.token, body: { reason: 'done' } })).status,
    ).toBe(200);
    await waitStatus(requests['ann-ledger'], 'REVOKED');
    await expect(annSession.query('SELECT 1')).rejects.toThrow();
    expect(await sessionsOf(people.ann.username!)).toBe(0);
    expect(await canLogin(people.ann.username!)).toBe(true);
    const annAgain = await openSession(people.ann);
    expect((await annAgain.query('SELECT id FROM shop.orders')).rows).toEqual([{ id: 1 }]);
    await expect(annAgain.query('SELECT id FROM shop.ledger')).rejects.toMatchObject({ code: '42501' });

    // 4. Provisioning is SIGKILLed, an admin revokes Ben's stock grant meanwhile, Redis loses every
    //    delayed revocation; provisioning comes back and finishes the revocation, by the admin.
    await t.stack.kill('provisioning');
    expect((await t.api('POST', `/api/v1/access-requests/${requests['ben-stock']}/revoke`)).body.status).toBe('REVOKING');
    await t.redis.flushAll();
    t.stack.startProcess('provisioning', 'provisioning');
    await waitStatus(requests['ben-stock'], 'REVOKED', 90_000);
    await expect(benSession.query('SELECT 1')).rejects.toThrow();
    expect(await canLogin(people.ben.username!)).toBe(true);
    await openSession(people.ben);

    // 5. The target goes down just before the other grants expire, and stays down until every one
    //    of them has run out of retries (STUCK): backoff is kept, no grant is STUCK before its
    //    schedule allows. Then it comes back and the sweeper finishes them, as EXPIRED.
    const open = ['ann-orders', 'ben-orders', 'cat-ledger'].map((k) => requests[k]);
    const firstExpiry = Math.min(...(await Promise.all(open.map(async (id) => Date.parse((await request(id)).expiresAt)))));
    await waitUntil('3 s before the first expiry', async () => Date.now() >= firstExpiry - 3000, 120_000);
    const stuck = new Map<string, StuckSighting>();
    await pg.halt();
    try {
      await waitUntil(
        'every expired grant STUCK while the target is down',
        async () => {
          const rows = await t.control<{ id: string; status: string; attempts: number; expires_at: Date; updated_at: Date }>(
            "SELECT id, status, attempts, expires_at, updated_at FROM provisioning.grants WHERE status NOT IN ('REVOKED', 'EXPIRED', 'FAILED')",
          );
          for (const g of rows)
            if (g.status === 'STUCK' && !stuck.has(g.id)) stuck.set(g.id, { attempts: g.attempts, expiresAt: g.expires_at, stuckAt: g.updated_at });
          return rows.length === open.length && rows.every((g) => g.status === 'STUCK');
        },
        120_000,
        100,
      );
      // Access learns of each STUCK from provisioning's event, a moment after the row turns STUCK.
      await waitUntil(
        'every request told its revocation is stuck',
        async () => (await Promise.all(open.map(async (id) => (await request(id)).statusReason))).every((reason) => /revocation stuck/.test(reason ?? '')),
        10_000,
        100,
      );
      for (const id of open) expect((await request(id)).statusReason).toMatch(/revocation stuck after \d+ attempts/);
    } finally {
      await pg.resume();
    }
    for (const sighting of stuck.values()) {
      expect(sighting.attempts).toBeGreaterThanOrEqual(REVOCATION_ATTEMPTS);
      expect(sighting.stuckAt.getTime() - sighting.expiresAt.getTime()).toBeGreaterThanOrEqual(MIN_MS_BEFORE_STUCK - 10);
    }
    // Any end: step 7 says whether it is the right one.
    for (const id of open) await waitUntil(`request ${id} ended`, async () => ['EXPIRED', 'REVOKED', 'FAILED'].includes((await request(id)).status), 90_000);

    // 6. What the target's catalog says: no login enabled, no membership but the marker, no session.
    for (const person of Object.values(people)) {
      expect(await canLogin(person.username!)).toBe(false);
      const memberships = await pg.query<{ rolname: string }>(
        'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1',
        [person.username],
      );
      expect(memberships.map((m) => m.rolname)).toEqual(['latchkey_managed']);
      expect(await sessionsOf(person.username!)).toBe(0);
    }

    // 7. How each grant and request ended, and its audit trail: granted once, ended once, truthfully.
    const expected: Record<string, { status: string; by: string | null }> = {
      'ann-orders': { status: 'EXPIRED', by: null },
      'ann-ledger': { status: 'REVOKED', by: people.ann.id },
      'ben-orders': { status: 'EXPIRED', by: null },
      'ben-stock': { status: 'REVOKED', by: adminId },
      'cat-ledger': { status: 'EXPIRED', by: null },
    };
    for (const [name, id] of Object.entries(requests)) {
      const want = expected[name];
      const r = await request(id);
      expect({ name, status: r.status, by: r.revokedBy?.id ?? null }).toEqual({ name, ...want });
      const grants = await grantOf(id);
      expect(grants.map((g) => ({ name, status: g.status, endReason: g.end_reason, by: g.revoked_by?.id ?? null }))).toEqual([
        { name, status: want.status, endReason: want.status, by: want.by },
      ]);
      const audit = await t.control<{ action: string; actor: { type: string; id: string } }>(
        'SELECT action, actor FROM access.audit_log WHERE target_id = $1 ORDER BY queued',
        [id],
      );
      expect({ name, granted: audit.filter((e) => e.action === 'request.granted').length }).toEqual({ name, granted: 1 });
      const ends = audit.filter((e) => END_ACTIONS.includes(e.action));
      expect({ name, ends: ends.map((e) => ({ action: e.action, actor: e.actor.type === 'system' ? null : e.actor.id })) }).toEqual({
        name,
        ends: [{ action: want.status === 'EXPIRED' ? 'request.expired' : 'request.revoked', actor: want.by }],
      });
      if (want.by) expect(audit.filter((e) => e.action === 'request.revocation-requested').map((e) => e.actor.id)).toEqual([want.by]);
    }
    expect((await t.api('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
  });
});
