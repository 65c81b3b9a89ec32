import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  createPgIntegration,
  PgCluster,
  startPgCluster,
  startRedisCluster,
  startRedisSentinel,
  startTestStack,
  STARTUP_TIMEOUT_MS,
  waitUntil,
} from '@latchkey/testing';
import type { ApiAnswer, PrivateRedisCluster, PrivateRedisSentinel, TestStack } from '@latchkey/testing';

jest.setTimeout(420_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const ordersRead = { resourceType: 'postgresql-table', database: 'shop', schema: 'sales', table: 'orders', permission: 'READ_ONLY' };
const person = (name: string) => ({ id: `id-${name}-${randomBytes(3).toString('hex')}`, email: `${name}@example.com` });
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
/** Long enough that no revocation on the cluster can come from the sweeper: each one is BullMQ's delayed job, run on the engine under test. */
const SWEEP_INTERVAL_SECONDS = '3600';

type Granted = { grant: { id: string; roleName: string }; credentials: { username: string; password: string } };

/** The last `lines` lines a service of the stack logged, NATS's connection chatter left out. */
const logTail = (t: TestStack, service: string, lines: number) =>
  t.stack
    .output(service)
    .split('\n')
    .filter((l) => !l.includes('"msg":"nats'))
    .slice(-lines)
    .join('\n');

/**
 * The whole stack on the Redis engines an organisation runs when one server is not enough: a Redis
 * Cluster of three masters (BullMQ's keys under one hash tag per queue) and a primary with a replica
 * under Sentinel, failed over mid-run. Each is checked on the revocation path in the target's own
 * catalog: the login is gone at expiry and so is the open session.
 */
describe('revocation on Redis Cluster and on Redis with Sentinel failover', () => {
  let pg: PgCluster;

  const login = async (credentials: { username: string; password: string }) => {
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: credentials.username, password: credentials.password, database: 'shop' });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const canLogin = async (role: string) =>
    (await pg.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;
  const sessionsOf = async (role: string) => (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]))[0].n;

  /** A stack on `redisUrl` with the shop integration; answers its grant helpers. */
  async function stackOn(
    redisUrl: string,
    sweeper: Record<string, string> = { SWEEP_INTERVAL_SECONDS, ACCESS_SWEEP_INTERVAL_SECONDS: SWEEP_INTERVAL_SECONDS },
  ) {
    const t = await startTestStack({ env: { REDIS_URL: redisUrl, REVOCATION_BACKOFF_MS: '200', ...sweeper } });
    const integrationId = await createPgIntegration(t, { port: pg.port, username: CONNECTOR_USER, password: CONNECTOR_PASSWORD, dbname: 'shop' });
    const grant = async (name: string, seconds: number): Promise<Granted> => {
      const created = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
        body: { identity: person(name), items: [ordersRead], expiresAt: inSeconds(seconds) },
      });
      expect(created.status).toBe(201);
      return created.body;
    };
    const expired = (g: Granted) =>
      waitUntil(
        `${g.grant.roleName} expired`,
        async () => {
          const res = await t.api('GET', `/api/v1/integrations/${integrationId}/grants/${g.grant.id}`);
          return res.body.status === 'EXPIRED' && res.body;
        },
        150_000,
      ).catch((err: Error) => {
        // What provisioning said meanwhile: the queue's and the worker's view of Redis.
        throw new Error(`${err.message}\n${logTail(t, 'provisioning', 60)}`);
      });
    return { t, grant, expired };
  }

  /** The person's login works and holds a session until the expiry; then neither is left. */
  async function expectCutOff(g: Granted, session: Client, expired: (g: Granted) => Promise<{ endedAt: string; expiresAt: string }>) {
    const ended = await expired(g);
    expect(Date.parse(ended.endedAt)).toBeGreaterThanOrEqual(Date.parse(ended.expiresAt));
    await expect(session.query('SELECT 1')).rejects.toThrow();
    expect(await sessionsOf(g.grant.roleName)).toBe(0);
    expect(await canLogin(g.grant.roleName)).toBe(false);
    await expect(login(g.credentials)).rejects.toMatchObject({ code: '28000' });
  }

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE shop');
    await pg.query('CREATE SCHEMA sales; CREATE TABLE sales.orders (id int PRIMARY KEY); INSERT INTO sales.orders VALUES (1), (2);', undefined, 'shop');
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await pg?.stop();
  });

  describe('on a Redis Cluster of three masters', () => {
    let cluster: PrivateRedisCluster;
    let stack: Awaited<ReturnType<typeof stackOn>>;

    beforeAll(async () => {
      cluster = await startRedisCluster();
      stack = await stackOn(cluster.url);
    }, STARTUP_TIMEOUT_MS);

    afterAll(async () => {
      await stack?.t.dispose();
      await cluster?.stop();
    });

    it('keeps each queue under its own hash tag and revokes on time from there', async () => {
      const ana = await stack.grant('ana', 6);
      const session = await login(ana.credentials);
      expect((await session.query('SELECT count(*)::int AS n FROM sales.orders')).rows[0].n).toBe(2);
      // The delayed revocation job sits in the cluster, every key of the queue under one hash tag.
      const keys = await cluster.keys('*revocations-local*');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.startsWith('{bull:revocations-local}:'))).toBe(true);
      await expectCutOff(ana, session, stack.expired);
    });
  });

  describe('on a primary and a replica under Sentinel', () => {
    let sentinel: PrivateRedisSentinel;
    let stack: Awaited<ReturnType<typeof stackOn>>;

    beforeAll(async () => {
      sentinel = await startRedisSentinel();
      // A worker may come back from the failover later than its jobs are due: then the sweeper's
      // backstop (a grant still ACTIVE REVOCATION_OVERDUE_SECONDS past its expiry) revokes it.
      stack = await stackOn(sentinel.url, { SWEEP_INTERVAL_SECONDS: '2', REVOCATION_OVERDUE_SECONDS: '5' });
    }, STARTUP_TIMEOUT_MS);

    afterAll(async () => {
      await stack?.t.dispose();
      await sentinel?.stop();
    });

    it('revokes on time across a failover: a grant made before it and one made after', async () => {
      const before = await stack.grant('bea', 25);
      const beforeSession = await login(before.credentials);
      const first = await sentinel.primaryPort();
      const promoted = await sentinel.failOver();
      expect(promoted).not.toBe(first);
      // Made once the services found the new primary (a write waits for the reconnection, it is not
      // lost; on a loaded machine the wait could outlast the gateway's answer): every service ready
      // again, its Redis check included.
      let health: ApiAnswer<{ notReady?: string[] }> | undefined;
      await waitUntil('every service ready on the new primary', async () => {
        health = await stack.t.api('GET', '/health', { token: null });
        return health.status === 200 && !health.body.notReady?.length;
      }).catch((err: Error) => {
        const logs = (health?.body.notReady ?? []).map((s) => `${s}:\n${logTail(stack.t, s, 40)}`);
        throw new Error(`${err.message}; the last /health: ${health?.status} ${JSON.stringify(health?.body)}\n${logs.join('\n')}`);
      });
      const after = await stack.grant('cal', 8);
      const afterSession = await login(after.credentials);
      await expectCutOff(after, afterSession, stack.expired);
      await expectCutOff(before, beforeSession, stack.expired);
    });
  });
});
