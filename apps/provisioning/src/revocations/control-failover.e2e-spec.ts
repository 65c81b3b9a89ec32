import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPgIntegration, PgCluster, PgReplica, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

jest.setTimeout(420_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const ordersRead = { resourceType: 'postgresql-table', database: 'shop', schema: 'sales', table: 'orders', permission: 'READ_ONLY' };
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

type Granted = { grant: { id: string; roleName: string }; credentials: { username: string; password: string } };

/**
 * The control database fails over under the whole stack: its primary stops, a streaming replica is
 * promoted and takes the primary's address (as a virtual IP or a DNS name would move). The pooled
 * connections of every service recover by themselves, a grant made before the failover is still
 * revoked at its expiry, one made after works and is revoked too, and nothing is done twice.
 */
describe('the control database failing over to a promoted replica', () => {
  let control: PgCluster;
  let replica: PgReplica;
  let target: PgCluster;
  let t: TestStack;
  let integrationId: string;

  const login = async (credentials: { username: string; password: string }) => {
    const client = new Client({ host: '127.0.0.1', port: target.port, user: credentials.username, password: credentials.password, database: 'shop' });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const grant = async (name: string, seconds: number): Promise<Granted> => {
    const res = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
      body: {
        identity: { id: `id-${name}`, email: `${name}@example.com` },
        items: [ordersRead],
        expiresAt: inSeconds(seconds),
        idempotencyKey: `failover-${name}`,
      },
    });
    expect(res.status).toBe(201);
    return res.body;
  };
  const expired = (g: Granted) =>
    waitUntil(
      `${g.grant.roleName} expired`,
      async () => {
        const res = await t.api('GET', `/api/v1/integrations/${integrationId}/grants/${g.grant.id}`);
        return res.body.status === 'EXPIRED' && res.body;
      },
      120_000,
    );
  const canLogin = async (role: string) =>
    (await target.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;
  const sessionsOf = async (role: string) =>
    (await target.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]))[0].n;

  beforeAll(async () => {
    control = await startPgCluster({ hba: 'trust' });
    target = await startPgCluster({ hba: 'scram' });
    await target.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await target.query('CREATE DATABASE shop');
    await target.query('CREATE SCHEMA sales; CREATE TABLE sales.orders (id int PRIMARY KEY); INSERT INTO sales.orders VALUES (1);', undefined, 'shop');
    t = await startTestStack({
      controlServerUrl: `postgres://${control.superuser}@127.0.0.1:${control.port}/postgres`,
      env: { SWEEP_INTERVAL_SECONDS: '5', REVOCATION_BACKOFF_MS: '500' },
    });
    integrationId = await createPgIntegration(t, { port: target.port, username: CONNECTOR_USER, password: CONNECTOR_PASSWORD, dbname: 'shop' });
    // Taken now: everything above (the schemas, the integration) is in it.
    replica = await control.startReplica();
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await replica?.stop();
    await control?.stop();
    await target?.stop();
  });

  it('recovers every service on the promoted replica, revokes what was granted before and after, and does nothing twice', async () => {
    const before = await grant('before', 30);
    const beforeSession = await login(before.credentials);
    // The replica has the grant (streamed), then the primary goes and the replica takes its address.
    const database = new URL(t.databaseUrl).pathname.slice(1);
    await waitUntil(
      'the grant streamed to the replica',
      async () =>
        (
          await replica.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM provisioning.grants WHERE idempotency_key = 'failover-before'",
            undefined,
            database,
          )
        )[0].n === 1,
      60_000,
    );
    await control.halt();
    await replica.takeOver(control.port);

    await waitUntil('the catalog serves again', async () => (await t.api('GET', `/api/v1/integrations/${integrationId}`)).status === 200, 120_000);
    const after = await waitUntil(
      'a grant made after the failover',
      async () => {
        const res = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
          body: { identity: { id: 'id-after', email: 'after@example.com' }, items: [ordersRead], expiresAt: inSeconds(10), idempotencyKey: 'failover-after' },
        });
        return res.status === 201 && (res.body as Granted);
      },
      120_000,
    );
    const afterSession = await login(after.credentials);

    for (const [g, session] of [
      [after, afterSession],
      [before, beforeSession],
    ] as const) {
      await expired(g);
      await expect(session.query('SELECT 1')).rejects.toThrow();
      expect(await sessionsOf(g.grant.roleName)).toBe(0);
      expect(await canLogin(g.grant.roleName)).toBe(false);
    }

    // Nothing twice: one grant per idempotency key, one grant.created entry each, an audit chain that verifies.
    // The suite's control session reaches the promoted replica at the primary's old address.
    const rows = await t.control<{ idempotency_key: string; status: string }>(
      'SELECT idempotency_key, status FROM provisioning.grants ORDER BY idempotency_key',
    );
    expect(rows).toEqual([
      { idempotency_key: 'failover-after', status: 'EXPIRED' },
      { idempotency_key: 'failover-before', status: 'EXPIRED' },
    ]);
    const created = await t.control<{ target_id: string; n: number }>(
      "SELECT target_id, count(*)::int AS n FROM access.audit_log WHERE action = 'grant.created' GROUP BY target_id ORDER BY target_id",
    );
    expect(created.map((r) => r.n)).toEqual([1, 1]);
    const verified = await t.api('GET', '/api/v1/audit/verify');
    expect(verified.body).toMatchObject({ ok: true, firstBroken: null });
    for (const service of ['api-gateway', 'integration-catalog', 'provisioning', 'access', 'discovery', 'notifications', 'rotation'])
      expect(t.stack.isRunning(service)).toBe(true);
  });
});
