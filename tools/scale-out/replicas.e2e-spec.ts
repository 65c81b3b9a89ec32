import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ALL_SERVICES, createUser, PgCluster, replicaName, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

jest.setTimeout(420_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const REPLICAS = 2;
/** People who each ask for two tables at once and let both grants run out together. */
const BURST = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
const ENDED = ['EXPIRED', 'REVOKED', 'FAILED', 'REJECTED'];

interface Person {
  id: string;
  email: string;
  token: string;
  username?: string;
}

/**
 * Two replicas of every service at once (each in its service's NATS queue group, sharing the
 * BullMQ queues and the control database): the access-request story, a rotation, a discovery
 * refresh and a burst of expiries, with one replica of each service SIGKILLed while the burst's
 * grants are being made. Then the target's catalog and the control database must say: nothing
 * granted twice, no login left enabled, no session of an ended grant alive, nothing stuck, every
 * rotation and refresh ran once, and the audit log is one unbroken chain.
 */
describe('two replicas of every service', () => {
  let pg: PgCluster;
  let t: TestStack;
  let integrationId: string;
  let adminEmail: string;
  const resources: Record<string, string> = {};
  const people: Record<string, Person> = {};
  const sessions: Client[] = [];

  const request = async (id: string, gateway = 2) => (await t.api('GET', `/api/v1/access-requests/${id}`, { gateway })).body;
  const waitStatus = (id: string, statuses: string[], timeoutMs = 120_000) =>
    waitUntil(`request ${id} ${statuses.join(' or ')}`, async () => {
      const r = await request(id);
      return statuses.includes(r.status) && r;
    }, timeoutMs);
  const login = async (person: Person, password: string): Promise<Client> => {
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: person.username, password, database: 'app' });
    client.on('error', () => undefined);
    await client.connect();
    sessions.push(client);
    return client;
  };
  const refreshedLines = () => [0, 1].flatMap((i) => t.stack.output(replicaName('discovery', i + 1)).split('\n')).filter((l) => l.includes('"msg":"refreshed"') && l.includes(integrationId));

  beforeAll(async () => {
    t = await startTestStack({
      replicas: REPLICAS,
      env: { ACCESS_SWEEP_INTERVAL_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1', AUTH_CACHE_SECONDS: '2' },
    });
  }, STARTUP_TIMEOUT_MS);

  beforeAll(() => t.startReplicas(), STARTUP_TIMEOUT_MS);

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    // A connector that is no superuser: it may create roles, end sessions and change its own password.
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
    adminEmail = (await t.api('GET', '/api/v1/me')).body.email;
    await t.api('POST', '/api/v1/groups', { body: { name: 'staff' } });
    await Promise.all(
      ['ann', ...BURST].map(async (key) => {
        const { user, token } = await createUser(t, { name: key, groups: ['staff'] });
        people[key] = { id: user.id, email: user.email, token };
      }),
    );
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
    const flows = [
      {
        name: 'orders, approved by the admin',
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['app/shop/orders'] } }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'user', values: [adminEmail] }] },
      },
      {
        name: 'stock and ledger, automatic',
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['app/shop/stock', 'app/shop/ledger'] } }],
        approvers: null,
      },
    ];
    for (const flow of flows) {
      const res = await t.api('POST', '/api/v1/access-flows', {
        body: { ...flow, requestors: { conditions: [{ type: 'group', match: 'is', values: ['staff'] }] }, maxDurationMinutes: 10, settings: { justificationRequired: false, maxExtensions: 0 } },
      });
      expect(res.status).toBe(201);
    }
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    await t?.dispose();
    await pg?.stop();
  });

  it('keeps the gateway stateless: a token revoked through one replica is refused by the other within AUTH_CACHE_SECONDS', async () => {
    const { user } = await createUser(t, { name: 'temp' });
    const made = await t.api('POST', '/api/v1/tokens', { body: { userId: user.id, name: 'short-lived' } });
    expect(made.status).toBe(201);
    const me = (gateway: number) => t.api('GET', '/api/v1/me', { token: made.body.token, gateway });
    // Both replicas know the token (and the second now holds it in its cache).
    expect((await me(1)).status).toBe(200);
    expect((await me(2)).status).toBe(200);
    expect((await t.api('POST', `/api/v1/tokens/${made.body.id}/revoke`, { gateway: 1 })).status).toBe(200);
    expect((await me(1)).status).toBe(401);
    await waitUntil('the other gateway refusing the revoked token', async () => (await me(2)).status === 401, 30_000, 100);
  });

  it('grants once, revokes on time and runs every refresh and rotation once while one replica of each service is SIGKILLed', async () => {
    // 1. The story: Ann asks through one gateway, the admin approves through the other.
    const asked = await t.api('POST', '/api/v1/access-requests', {
      token: people.ann.token,
      gateway: 1,
      body: { items: [{ resourceId: resources['app/shop/orders'], permission: 'READ_ONLY' }], durationMinutes: 5 },
    });
    expect(asked.status).toBe(201);
    const annRequest = asked.body.requests[0].id;
    expect(asked.body.requests[0].status).toBe('PENDING');
    expect((await t.api('POST', `/api/v1/access-requests/${annRequest}/approve`, { gateway: 2, body: { reason: 'ok' } })).status).toBe(200);
    await waitStatus(annRequest, ['GRANTED']);
    const annDetails = await t.api('GET', `/api/v1/access-requests/${annRequest}/access-details`, { token: people.ann.token, gateway: 1 });
    expect(annDetails.status).toBe(200);
    people.ann.username = annDetails.body.username;
    const annSession = await login(people.ann, annDetails.body.password);
    expect((await annSession.query('SELECT id FROM shop.orders')).rows).toEqual([{ id: 1 }]);

    // 2. One rotation and one refresh, asked through either gateway while both replicas of each service run.
    const rotated = await t.api('POST', `/api/v1/integrations/${integrationId}/rotate`, { gateway: 2 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.result).toBe('rotated');
    await waitUntil('the first refresh finished', async () => {
      const [s] = await t.control<{ done: boolean }>('SELECT succeeded_at >= started_at AS done FROM discovery.refresh_state WHERE integration_id = $1', [integrationId]);
      return s?.done;
    });
    const refreshesBefore = refreshedLines().length;
    expect((await t.api('POST', `/api/v1/integrations/${integrationId}/refresh`, { gateway: 1 })).status).toBeLessThan(300);

    // 3. The burst: two one-minute grants per person, asked through both gateways at once; while
    //    they are being made, one replica of every service dies.
    const burst: Record<string, string> = {};
    await Promise.all(
      BURST.flatMap((key, i) =>
        ['stock', 'ledger'].map(async (table) => {
          const res = await t.api('POST', '/api/v1/access-requests', {
            token: people[key].token,
            gateway: 1 + (i % 2),
            body: { items: [{ resourceId: resources[`app/shop/${table}`], permission: 'READ_ONLY' }], durationMinutes: 1 },
          });
          expect(res.status).toBe(201);
          burst[`${key}-${table}`] = res.body.requests[0].id;
        }),
      ),
    );
    await Promise.all(ALL_SERVICES.map((s) => t.stack.kill(replicaName(s, 1))));
    for (const s of ALL_SERVICES) expect({ s, first: t.stack.isRunning(replicaName(s, 1)), second: t.stack.isRunning(replicaName(s, 2)) }).toEqual({ s, first: false, second: true });

    // 4. Everyone gets their credentials from the surviving gateway and logs in.
    for (const [name, id] of Object.entries(burst)) {
      await waitStatus(id, ['GRANTED'], 180_000);
      const person = people[name.split('-')[0]];
      const details = await t.api('GET', `/api/v1/access-requests/${id}/access-details`, { token: person.token, gateway: 2 });
      expect(details.status).toBe(200);
      person.username = details.body.username;
      if (details.body.password) await login(person, details.body.password);
    }
    expect(sessions.length).toBeGreaterThan(BURST.length);

    // 5. Ann revokes hers; then every burst grant runs out.
    expect((await t.api('POST', `/api/v1/access-requests/${annRequest}/revoke`, { token: people.ann.token, gateway: 2, body: { reason: 'done' } })).status).toBe(200);
    await waitStatus(annRequest, ['REVOKED']);
    for (const id of Object.values(burst)) await waitStatus(id, ENDED, 180_000);

    // 6. The target's catalog: no login enabled, no membership but the marker, no session left.
    for (const person of Object.values(people)) {
      const [role] = await pg.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [person.username]);
      expect({ who: person.username, canLogin: role?.rolcanlogin }).toEqual({ who: person.username, canLogin: false });
      const memberships = await pg.query<{ rolname: string }>(
        'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1',
        [person.username],
      );
      expect(memberships.map((m) => m.rolname)).toEqual(['latchkey_managed']);
    }
    const alive = await pg.query<{ usename: string }>('SELECT usename FROM pg_stat_activity WHERE usename = ANY($1)', [Object.values(people).map((p) => p.username)]);
    expect(alive).toEqual([]);

    // 7. Each request granted once and ended once, as it should have; one grant each; nothing stuck.
    const expected: Record<string, string> = { [annRequest]: 'REVOKED', ...Object.fromEntries(Object.values(burst).map((id) => [id, 'EXPIRED'])) };
    for (const [id, status] of Object.entries(expected)) {
      expect({ id, status: (await request(id)).status }).toEqual({ id, status });
      const grants = await t.control<{ status: string }>("SELECT status FROM provisioning.grants WHERE idempotency_key = 'access-request-' || $1", [id]);
      expect({ id, grants: grants.map((g) => g.status) }).toEqual({ id, grants: [status] });
      const audit = await t.control<{ action: string }>('SELECT action FROM access.audit_log WHERE target_id = $1', [id]);
      const count = (action: string) => audit.filter((e) => e.action === action).length;
      expect({ id, granted: count('request.granted'), ended: count('request.expired') + count('request.revoked') + count('request.failed') }).toEqual({ id, granted: 1, ended: 1 });
    }
    expect(await t.control("SELECT id, status FROM provisioning.grants WHERE status NOT IN ('EXPIRED', 'REVOKED', 'FAILED')")).toEqual([]);
    expect(await t.control("SELECT id, status FROM access.access_requests WHERE status NOT IN ('EXPIRED', 'REVOKED', 'FAILED', 'REJECTED')")).toEqual([]);

    // 8. The rotation and the refresh ran once each.
    const rotations = await t.control<{ action: string }>("SELECT action FROM access.audit_log WHERE target_id = $1 AND action LIKE 'rotation.%'", [integrationId]);
    expect(rotations.map((r) => r.action)).toEqual(['rotation.rotated']);
    expect(refreshedLines().length - refreshesBefore).toBe(1);

    // 9. The audit log is one chain: verified, every seq once, each entry linked to the one before.
    expect((await t.api('GET', '/api/v1/audit/verify', { gateway: 2 })).body).toMatchObject({ ok: true });
    const [chain] = await t.control<{ entries: number; seqs: number; span: number; unlinked: number }>(
      `SELECT count(*)::int AS entries, count(DISTINCT seq)::int AS seqs, (max(seq) - min(seq) + 1)::int AS span,
              count(*) FILTER (WHERE seq > (SELECT min(seq) FROM access.audit_log) AND prev_hash IS DISTINCT FROM previous)::int AS unlinked
         FROM (SELECT seq, prev_hash, lag(hash) OVER (ORDER BY seq) AS previous FROM access.audit_log) l`,
    );
    expect(chain).toEqual({ entries: chain.span, seqs: chain.span, span: chain.span, unlinked: 0 });
  });
});
