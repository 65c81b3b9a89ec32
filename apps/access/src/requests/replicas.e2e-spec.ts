import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { RequestStates } from '@latchkey/contracts';
import type { AccessRequestStatus, ServiceName } from '@latchkey/contracts';
import {
  ALL_SERVICES,
  createUser,
  PgCluster,
  PrivateNatsCluster,
  replicaName,
  startNatsCluster,
  startPgCluster,
  startTestStack,
  STARTUP_TIMEOUT_MS,
  TestStack,
  waitUntil,
} from '@latchkey/testing';

jest.setTimeout(600_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const BURST = 10;

/**
 * Replica `index` (1-based) of the service at position `k` of ALL_SERVICES talks to node
 * (k + index - 1) mod 3: the two replicas of a service never share a node, and every node serves
 * some replicas of each kind.
 */
const nodeOf = (service: ServiceName, index: number) => (ALL_SERVICES.indexOf(service) + index - 1) % 3;
/** The replica SIGKILLed mid-run: the first of some services, the second of the others (the gateway keeps its first, `t.url`). */
const victimOf = (service: ServiceName) => (ALL_SERVICES.indexOf(service) % 2 === 1 ? 1 : 2);
/** The NATS node SIGKILLed mid-run: the surviving gateway, access and notifications replicas talk to it. */
const DEAD_NODE = 0;

interface Person {
  key: string;
  id: string;
  token: string;
  username?: string;
  session?: Client;
}

/**
 * Scale-out (issue 18): two replicas of every service, each replica on a different node of a
 * three-node NATS cluster, all on one Redis and one control database. The access-request story
 * runs through both gateways (automatic flow, approval flow, a burst of ten one-minute grants),
 * one replica of every service and one NATS node are SIGKILLed while the burst is being granted,
 * the survivors rotate the connector's credentials, refresh discovery and revoke at expiry, then
 * everything killed comes back. The target's catalog and the control database must say: each
 * request granted once, no login or session left to an ended grant, nothing stuck, the audit
 * chain whole, one rotation and one refresh for the one of each asked for.
 */
describe('two replicas of every service on a NATS cluster, one of each SIGKILLed mid-run', () => {
  let pg: PgCluster;
  let nats: PrivateNatsCluster;
  let t: TestStack;
  let integrationId: string;
  const resources: Record<string, string> = {};
  const people: Record<string, Person> = {};
  /** Every access request made, by a name saying whose and why. */
  const requests: Record<string, string> = {};
  let refreshMark = 0;

  const request = async (id: string) => (await t.api('GET', `/api/v1/access-requests/${id}`)).body;
  const waitStatus = (id: string, status: string, timeoutMs = 180_000) =>
    waitUntil(
      `request ${id} ${status}`,
      async () => {
        const r = await request(id);
        return r.status === status && r;
      },
      timeoutMs,
      500,
    );
  const ask = async (name: string, who: string, table: string, gateway: number) => {
    const res = await t.api('POST', '/api/v1/access-requests', {
      token: people[who].token,
      gateway,
      body: { items: [{ resourceId: resources[`app/shop/${table}`], permission: 'READ_ONLY' }], durationMinutes: 1 },
    });
    expect({ name, status: res.status }).toEqual({ name, status: 201 });
    requests[name] = res.body.requests[0].id;
    return res.body.requests[0] as { id: string; status: string };
  };
  /** The person reads the password once (through `gateway`) and logs in with it, reading the table. */
  const logIn = async (who: string, requestId: string, table: string, gateway: number) => {
    const person = people[who];
    const details = await t.api('GET', `/api/v1/access-requests/${requestId}/access-details`, { token: person.token, gateway });
    expect(details.status).toBe(200);
    person.username = details.body.username;
    const client = new Client({
      host: '127.0.0.1',
      port: pg.port,
      user: details.body.username,
      password: details.body.password,
      database: details.body.database,
    });
    client.on('error', () => undefined);
    await client.connect();
    person.session = client;
    expect((await client.query(`SELECT count(*)::int AS n FROM shop.${table}`)).rows).toEqual([{ n: 1 }]);
  };
  const canLogin = async (role: string) =>
    (await pg.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;
  const sessionsOf = async (role: string) => (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]))[0].n;
  const healthy = (gateway = 1) =>
    waitUntil(
      `every service answering through gateway ${gateway}`,
      async () => (await t.api('GET', '/health', { gateway, token: null }).catch(() => null))?.status === 200,
      180_000,
      500,
    );
  /** How many processes of each service answer the gateway's scatter-gather (`latchkey_service_replicas`). */
  const replicasAnswering = async () => {
    const res = await t.api('GET', '/metrics');
    return Object.fromEntries(
      ALL_SERVICES.map((s) => [s, Number(new RegExp(`^latchkey_service_replicas\\{service="${s}"\\} (\\d+)$`, 'm').exec(res.text)?.[1] ?? 0)]),
    );
  };
  const everyService = (times: number) =>
    waitUntil(`${times} replica(s) of every service answering`, async () => Object.values(await replicasAnswering()).every((n) => n === times), 180_000, 1000);
  /** Lines discovery processes logged, from `since` on, for a finished refresh of the integration. */
  const refreshesSince = (since: number) =>
    t.stack.lines.slice(since).filter((l) => l.service.startsWith('discovery') && l.line.includes('"msg":"refreshed"') && l.line.includes(integrationId))
      .length;
  const auditCount = async (action: string, targetId: string) =>
    (await t.control<{ n: number }>('SELECT count(*)::int AS n FROM access.audit_log WHERE action = $1 AND target_id = $2', [action, targetId]))[0].n;

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    await pg.query(
      `CREATE SCHEMA shop;
       CREATE TABLE shop.orders (id int); INSERT INTO shop.orders VALUES (1);
       CREATE TABLE shop.stock (id int); INSERT INTO shop.stock VALUES (2);
       CREATE TABLE shop.ledger (id int); INSERT INTO shop.ledger VALUES (3);`,
      undefined,
      'app',
    );
    nats = await startNatsCluster(3);
    t = await startTestStack({
      replicas: 2,
      natsUrl: nats.url,
      replicaEnv: (service, index) => ({ NATS_URL: nats.nodes[nodeOf(service, index)].url }),
      env: { ACCESS_SWEEP_INTERVAL_SECONDS: '2', SWEEP_INTERVAL_SECONDS: '2', REVOCATION_BACKOFF_MS: '500' },
    });
  }, STARTUP_TIMEOUT_MS);

  beforeAll(async () => {
    await t.startReplicas();
    await everyService(2);
  }, STARTUP_TIMEOUT_MS);

  beforeAll(async () => {
    for (const group of ['staff', 'approvers']) expect((await t.api('POST', '/api/v1/groups', { body: { name: group } })).status).toBe(201);
    const keys = ['ann', 'ben', 'cat', 'dana', ...Array.from({ length: BURST }, (_, i) => `burst${i}`)];
    for (const key of keys) {
      const { user, token } = await createUser(t, { name: key, groups: [key === 'dana' ? 'approvers' : 'staff'] });
      people[key] = { key, id: user.id, token };
    }
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
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
    const flow = (name: string, tables: string[], approvers: unknown) =>
      t.api('POST', '/api/v1/access-flows', {
        body: {
          name,
          requestors: { conditions: [{ type: 'group', match: 'is', values: ['staff'] }] },
          targets: [
            {
              integrationId,
              resourceType: 'postgresql-table',
              permissions: ['READ_ONLY'],
              resources: { mode: 'include', by: 'name', values: tables.map((table) => `app/shop/${table}`) },
            },
          ],
          approvers,
          maxDurationMinutes: 5,
          settings: { justificationRequired: false },
        },
      });
    expect((await flow('staff, automatic', ['orders', 'ledger'], null)).status).toBe(201);
    expect((await flow('stock, approved', ['stock'], { mode: 'ANY_OF', groups: [{ type: 'group', values: ['approvers'] }] })).status).toBe(201);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(Object.values(people).map((p) => p.session?.end().catch(() => undefined)));
    await t?.dispose();
    await nats?.stop();
    await pg?.stop();
  });

  it('keeps a token and a session made through one gateway replica working through the other', async () => {
    // An API token made through gateway 1 works through gateway 2, and back.
    const { user, token } = await createUser(t, { name: 'roaming' });
    expect((await t.api('GET', '/api/v1/me', { token, gateway: 2 })).body.id).toBe(user.id);
    const own = await t.api('POST', '/api/v1/tokens', { token, gateway: 2, body: { name: 'made through gateway 2' } });
    expect(own.status).toBe(201);
    expect((await t.api('GET', '/api/v1/me', { token: own.body.token, gateway: 1 })).body.id).toBe(user.id);

    // A browser session: password set through gateway 2, signed in through gateway 1, used (with its CSRF token) through gateway 2.
    const invite = await t.api('POST', `/api/v1/users/${user.id}/invite`, { gateway: 1 });
    expect(invite.status).toBe(201);
    const password = `password of ${user.email}`;
    const linkToken = decodeURIComponent(new URL(invite.body.url).hash.replace(/^#token=/, ''));
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, gateway: 2, body: { token: linkToken, password } })).status).toBe(204);
    const signIn = await t.api('POST', '/api/v1/auth/sign-in', { token: null, gateway: 1, body: { email: user.email, password } });
    expect(signIn.status).toBe(200);
    const sessionId = /^latchkey_session=([^;]*)/.exec(signIn.headers.getSetCookie().find((c) => c.startsWith('latchkey_session=')) ?? '')?.[1];
    expect(sessionId).toBeTruthy();
    const browser = (gateway: number) => ({
      token: null,
      gateway,
      headers: { cookie: `latchkey_session=${sessionId}`, 'x-csrf-token': signIn.body.csrfToken },
    });
    expect((await t.api('GET', '/api/v1/auth/session', browser(2))).body.user.id).toBe(user.id);
    expect((await t.api('POST', '/api/v1/tokens', { ...browser(2), body: { name: 'made with the session, through gateway 2' } })).status).toBe(201);

    // Revoked, or signed out, through gateway 2: refused there at once, and through gateway 1 once its cache (AUTH_CACHE_SECONDS) lapses.
    expect((await t.api('POST', `/api/v1/tokens/${own.body.id}/revoke`, { token, gateway: 2 })).status).toBe(200);
    expect((await t.api('GET', '/api/v1/me', { token: own.body.token, gateway: 2 })).status).toBe(401);
    await waitUntil(
      'the revoked token refused through gateway 1',
      async () => (await t.api('GET', '/api/v1/me', { token: own.body.token, gateway: 1 })).status === 401,
      60_000,
      500,
    );
    expect((await t.api('POST', '/api/v1/auth/sign-out', browser(2))).status).toBe(204);
    expect((await t.api('GET', '/api/v1/auth/session', browser(2))).status).toBe(401);
    await waitUntil(
      'the ended session refused through gateway 1',
      async () => (await t.api('GET', '/api/v1/auth/session', browser(1))).status === 401,
      60_000,
      500,
    );
  });

  it('grants each request once, revokes every one at expiry and gets stuck nowhere while a replica of each service and a NATS node die', async () => {
    expect(integrationId).toBeDefined();
    // 1. The automatic flow, asked through gateway 2, read through gateway 1: a real login.
    expect((await ask('ann', 'ann', 'orders', 2)).status).toBe('APPROVED');
    await waitStatus(requests.ann, 'GRANTED');
    await logIn('ann', requests.ann, 'orders', 1);

    // 2. The approval flow: asked through gateway 1, approved through gateway 2.
    expect((await ask('ben', 'ben', 'stock', 1)).status).toBe('PENDING');
    const approved = await t.api('POST', `/api/v1/access-requests/${requests.ben}/approve`, { token: people.dana.token, gateway: 2, body: {} });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('APPROVED');
    await waitStatus(requests.ben, 'GRANTED');
    await logIn('ben', requests.ben, 'stock', 2);

    // 3. A burst of one-minute grants, asked through both gateways at once; as soon as they are
    //    accepted (their grants made inline, or still being made), one replica of every service
    //    and one NATS node are SIGKILLed.
    const survivorsOnDeadNode = ALL_SERVICES.filter((s) => nodeOf(s, 3 - victimOf(s)) === DEAD_NODE);
    expect(survivorsOnDeadNode).toEqual(['api-gateway', 'access', 'notifications']);
    await Promise.all(Array.from({ length: BURST }, (_, i) => ask(`burst${i}`, `burst${i}`, 'orders', 1 + (i % 2))));
    await Promise.all([...ALL_SERVICES.map((s) => t.stack.kill(replicaName(s, victimOf(s)))), nats.nodes[DEAD_NODE].kill()]);
    for (const s of ALL_SERVICES) expect({ s, running: t.stack.isRunning(replicaName(s, victimOf(s))) }).toEqual({ s, running: false });
    // The survivors whose node died answer again, from the other nodes.
    await everyService(1);
    for (let i = 0; i < BURST; i++) await waitStatus(requests[`burst${i}`], 'GRANTED');
    for (let i = 0; i < BURST; i++) await logIn(`burst${i}`, requests[`burst${i}`], 'orders', 1);

    // 4. The survivors rotate the connector's password once; the connector keeps working with the new one.
    await healthy();
    const rotated = await t.api('POST', `/api/v1/integrations/${integrationId}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.result).toBe('rotated');
    const refused = new Client({ host: '127.0.0.1', port: pg.port, user: CONNECTOR_USER, password: CONNECTOR_PASSWORD, database: 'app' });
    refused.on('error', () => undefined);
    await expect(refused.connect()).rejects.toMatchObject({ code: '28P01' });
    expect((await ask('cat', 'cat', 'ledger', 1)).status).toBe('APPROVED');
    await waitStatus(requests.cat, 'GRANTED');
    await logIn('cat', requests.cat, 'ledger', 1);

    // 5. The survivors refresh discovery once, on request: a table made meanwhile is listed.
    await pg.query('CREATE TABLE shop.returns (id int)', undefined, 'app');
    refreshMark = t.stack.lines.length;
    const refresh = await t.api('POST', `/api/v1/integrations/${integrationId}/refresh`);
    expect(refresh.status).toBe(202);
    expect(refresh.body.queued).toBe(true);
    await waitUntil('the refresh done', async () => refreshesSince(refreshMark) > 0, 120_000, 500);
    const listed = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table&pageSize=100`);
    expect(listed.body.items.map((r: { path: string }) => r.path).sort()).toEqual(['app/shop/ledger', 'app/shop/orders', 'app/shop/returns', 'app/shop/stock']);

    // 6. Every grant expires, with the survivors alone: sessions cut, logins disabled.
    for (const id of Object.values(requests)) await waitStatus(id, 'EXPIRED');
    for (const person of Object.values(people).filter((p) => p.username)) {
      await expect(person.session!.query('SELECT 1')).rejects.toThrow();
    }

    // 7. Everything killed comes back: the NATS node, then each replica on its own node; the
    //    gateway that died serves the token made before it died.
    await nats.nodes[DEAD_NODE].restart();
    for (const s of ALL_SERVICES) t.stack.startReplica(s, victimOf(s));
    await Promise.all(ALL_SERVICES.map((s) => t.stack.waitStarted(replicaName(s, victimOf(s)))));
    await everyService(2);
    await healthy(2);
    expect((await t.api('GET', '/api/v1/me', { token: people.ann.token, gateway: 2 })).body.id).toBe(people.ann.id);

    // 8. The target's catalog: no login left enabled, no membership but the marker, no session.
    for (const person of Object.values(people).filter((p) => p.username)) {
      const who = person.key;
      expect({ who, canLogin: await canLogin(person.username!), sessions: await sessionsOf(person.username!) }).toEqual({ who, canLogin: false, sessions: 0 });
      const memberships = await pg.query<{ rolname: string }>(
        'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1',
        [person.username],
      );
      expect({ who, memberships: memberships.map((m) => m.rolname) }).toEqual({ who, memberships: ['latchkey_managed'] });
    }

    // 9. The control database: each request granted once (one grant, one `request.granted`), all
    //    ended, nothing stuck anywhere, the audit chain whole.
    for (const [name, id] of Object.entries(requests)) {
      const grants = await t.control<{ status: string }>("SELECT status FROM provisioning.grants WHERE idempotency_key = 'access-request-' || $1", [id]);
      expect({ name, grants: grants.map((g) => g.status) }).toEqual({ name, grants: ['EXPIRED'] });
      expect({ name, granted: await auditCount('request.granted', id), expired: await auditCount('request.expired', id) }).toEqual({
        name,
        granted: 1,
        expired: 1,
      });
    }
    const requestStates = await t.control<{ status: AccessRequestStatus }>('SELECT DISTINCT status FROM access.access_requests');
    expect(requestStates.map((r) => r.status).filter((s) => !RequestStates.ENDED.includes(s))).toEqual([]);
    const grantStates = await t.control<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM provisioning.grants GROUP BY status');
    expect(grantStates).toEqual([{ status: 'EXPIRED', n: Object.keys(requests).length }]);
    expect((await t.api('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });

    // 10. One rotation and one refresh, for the one of each asked for (the audit entries come through outboxes).
    await waitUntil('the rotation audited', async () => (await auditCount('rotation.rotated', integrationId)) > 0, 60_000, 500);
    await waitUntil('the refresh request audited', async () => (await auditCount('integration.refresh-requested', integrationId)) > 0, 60_000, 500);
    expect(await auditCount('rotation.rotated', integrationId)).toBe(1);
    expect(await auditCount('integration.refresh-requested', integrationId)).toBe(1);
    expect(refreshesSince(refreshMark)).toBe(1);
  });
});
