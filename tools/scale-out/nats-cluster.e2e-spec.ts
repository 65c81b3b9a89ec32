import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { ServiceName } from '@latchkey/contracts';
import { ApiAnswer, createUser, PgCluster, PrivateNatsCluster, startNatsCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

jest.setTimeout(420_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const PEOPLE = ['ann', 'ben', 'cat'];
/** Which node of the three each service is given as its only NATS_URL (it learns the others from the cluster). */
const NODE_OF: Record<ServiceName, number> = {
  'api-gateway': 0,
  'integration-catalog': 0,
  access: 1,
  provisioning: 1,
  notifications: 1,
  discovery: 2,
  rotation: 2,
};
const KILLED = 1;

/**
 * Latchkey on a three-node NATS cluster (local nats-server processes routed to each other), its
 * services spread over the nodes. The node that carries access, provisioning and notifications
 * is SIGKILLed while people hold grants, ask for more and are revoked, then started again: those
 * services reconnect to the other nodes, requests keep being answered (a caller retries one that
 * was on the dead node), and in the end every grant was made once and taken back.
 */
describe('a three-node NATS cluster losing a node', () => {
  let nats: PrivateNatsCluster;
  let pg: PgCluster;
  let t: TestStack;
  const resources: Record<string, string> = {};
  const people: Record<string, { id: string; token: string; username?: string }> = {};
  const sessions: Client[] = [];

  /** Like a client that retries what the gateway says to retry (503: try again shortly). */
  const call = async (method: string, path: string, options: Parameters<TestStack['api']>[2] = {}): Promise<ApiAnswer> =>
    waitUntil(`${method} ${path} answered`, async () => {
      const res = await t.api(method, path, options);
      return res.status !== 503 && res;
    }, 120_000, 250);
  const ask = async (who: string, table: string): Promise<string> => {
    const res = await call('POST', '/api/v1/access-requests', {
      token: people[who].token,
      body: { items: [{ resourceId: resources[`app/shop/${table}`], permission: 'READ_ONLY' }], durationMinutes: 10 },
    });
    expect(res.status).toBe(201);
    return res.body.requests[0].id;
  };
  const waitStatus = (id: string, status: string) =>
    waitUntil(`request ${id} ${status}`, async () => (await call('GET', `/api/v1/access-requests/${id}`)).body.status === status, 120_000);
  const useGrant = async (who: string, id: string) => {
    await waitStatus(id, 'GRANTED');
    const details = await call('GET', `/api/v1/access-requests/${id}/access-details`, { token: people[who].token });
    expect(details.status).toBe(200);
    people[who].username = details.body.username;
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: details.body.username, password: details.body.password, database: 'app' });
    client.on('error', () => undefined);
    await client.connect();
    sessions.push(client);
    return client;
  };

  beforeAll(async () => {
    nats = await startNatsCluster(3);
    t = await startTestStack({
      natsUrl: nats.url,
      replicaEnv: (service) => ({ NATS_URL: nats.nodes[NODE_OF[service]].url }),
      env: { ACCESS_SWEEP_INTERVAL_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1', NATS_REQUEST_TIMEOUT_MS: '5000' },
    });
  }, STARTUP_TIMEOUT_MS);

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} LOGIN CREATEROLE PASSWORD '${CONNECTOR_PASSWORD}'; GRANT pg_signal_backend TO ${CONNECTOR_USER};`);
    await pg.query(`CREATE DATABASE app OWNER ${CONNECTOR_USER}`);
    await pg.query(`SET ROLE ${CONNECTOR_USER}; CREATE SCHEMA shop; CREATE TABLE shop.stock (id int); CREATE TABLE shop.ledger (id int); CREATE TABLE shop.orders (id int);`, undefined, 'app');
    await t.api('POST', '/api/v1/groups', { body: { name: 'staff' } });
    for (const key of PEOPLE) {
      const { user, token } = await createUser(t, { name: key, groups: ['staff'] });
      people[key] = { id: user.id, token };
    }
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
    const integrationId = integration.body.id;
    await waitUntil('discovered tables', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table&pageSize=100`);
      for (const r of list.body.items ?? []) resources[r.path] = r.id;
      return ['stock', 'ledger', 'orders'].every((table) => resources[`app/shop/${table}`]);
    });
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'staff, automatic',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['staff'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['app/shop/*'] } }],
        approvers: null,
        maxDurationMinutes: 10,
        settings: { justificationRequired: false, maxExtensions: 0 },
      },
    });
    expect(flow.status).toBe(201);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    await t?.dispose();
    await nats?.stop();
    await pg?.stop();
  });

  it('keeps answering, grants once and revokes everything while a node dies and comes back', async () => {
    // 1. Everyone holds a grant, with a session open.
    const before: Record<string, string> = {};
    for (const who of PEOPLE) before[who] = await ask(who, 'stock');
    const held: Client[] = [];
    for (const who of PEOPLE) held.push(await useGrant(who, before[who]));

    // 2. The node of access, provisioning and notifications dies. People ask for more, and the
    //    admin takes the first grants back, meanwhile.
    await nats.nodes[KILLED].kill();
    const during: Record<string, string> = {};
    for (const who of PEOPLE) during[who] = await ask(who, 'ledger');
    for (const who of PEOPLE) expect((await call('POST', `/api/v1/access-requests/${before[who]}/revoke`, { body: { reason: 'node down' } })).status).toBe(200);
    for (const who of PEOPLE) await waitStatus(before[who], 'REVOKED');
    for (const session of held) await expect(session.query('SELECT 1')).rejects.toThrow();
    for (const who of PEOPLE) await useGrant(who, during[who]);

    // 3. The node comes back (routes again to the others); work goes on, then everything is taken back.
    await nats.nodes[KILLED].restart();
    const after: Record<string, string> = {};
    for (const who of PEOPLE) after[who] = await ask(who, 'orders');
    for (const who of PEOPLE) await useGrant(who, after[who]);
    for (const id of [...Object.values(during), ...Object.values(after)]) {
      expect((await call('POST', `/api/v1/access-requests/${id}/revoke`, { body: { reason: 'done' } })).status).toBe(200);
    }
    for (const id of [...Object.values(during), ...Object.values(after)]) await waitStatus(id, 'REVOKED');

    // 4. Every request in the control database (a retried POST included) granted once and revoked once.
    const all = await t.control<{ id: string; status: string }>('SELECT id, status FROM access.access_requests');
    expect(all.map((r) => r.status)).toEqual(all.map(() => 'REVOKED'));
    expect(all.length).toBeGreaterThanOrEqual(PEOPLE.length * 3);
    for (const { id } of all) {
      const grants = await t.control<{ status: string }>("SELECT status FROM provisioning.grants WHERE idempotency_key = 'access-request-' || $1", [id]);
      expect({ id, grants: grants.map((g) => g.status) }).toEqual({ id, grants: ['REVOKED'] });
      const audit = await t.control<{ action: string }>('SELECT action FROM access.audit_log WHERE target_id = $1', [id]);
      expect({ id, granted: audit.filter((e) => e.action === 'request.granted').length, revoked: audit.filter((e) => e.action === 'request.revoked').length }).toEqual({ id, granted: 1, revoked: 1 });
    }

    // 5. The target: no login left, no session.
    const usernames = PEOPLE.map((who) => people[who].username);
    expect(await pg.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1) AND rolcanlogin', [usernames])).toEqual([]);
    expect(await pg.query('SELECT usename FROM pg_stat_activity WHERE usename = ANY($1)', [usernames])).toEqual([]);
    expect((await call('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
  });
});
