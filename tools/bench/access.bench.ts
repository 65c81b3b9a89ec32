import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { quoteIdent, quoteLiteral, scramVerifier } from '@latchkey/pg-access';
import { createUser, startPgCluster, startTestStack, waitUntil } from '@latchkey/testing';
import { ms, percentile, pool } from './stats';

const SAMPLES = Number(process.env.BENCH_REQUEST_SAMPLES ?? 200);
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_REQUEST_THROUGHPUT ?? 400);
const CONCURRENCY = 16;
const CONNECTOR = { user: 'latchkey_bench', password: randomBytes(12).toString('hex') };

/**
 * Request to usable credentials, as a person lives it: an access request through the gateway to
 * an auto-approving flow, waited on until GRANTED (polled every 2 ms), then the access details
 * with the password; beside the raw SQL that makes the same login.
 */
export async function benchAccess(): Promise<Array<[string, string]>> {
  const pg = await startPgCluster({ hba: 'scram' });
  const rows: Array<[string, string]> = [];
  let stack: Awaited<ReturnType<typeof startTestStack>> | undefined;
  try {
    await pg.query(`CREATE ROLE ${quoteIdent(CONNECTOR.user)} SUPERUSER LOGIN PASSWORD ${quoteLiteral(CONNECTOR.password)}`);
    await pg.query('CREATE DATABASE bench');
    await pg.query('CREATE SCHEMA app; CREATE TABLE app.orders (id int PRIMARY KEY, total numeric)', undefined, 'bench');
    stack = await startTestStack({ env: { LOG_LEVEL: 'warn', ACCESS_SWEEP_INTERVAL_SECONDS: '30', SWEEP_INTERVAL_SECONDS: '30' } });
    const t = stack;
    const created = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'bench',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'bench', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR.user, password: CONNECTOR.password },
      },
    });
    if (created.body.status !== 'ACTIVE') throw new Error(`bench integration is ${created.body.status}: ${created.body.statusReason}`);
    const integrationId: string = created.body.id;
    const resourceId = await waitUntil('the bench table discovered', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&q=app/orders`);
      return list.body.items?.[0]?.id as string | undefined;
    });
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'bench automatic',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['bench'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: null,
        maxDurationMinutes: 60,
        settings: { justificationRequired: false },
      },
    });
    if (flow.status !== 201) throw new Error(`bench flow: ${flow.text}`);
    const people = await pool(Array.from({ length: CONCURRENCY }, (_, i) => i), 4, (i) => createUser(t, { email: `bench${i}-${randomBytes(3).toString('hex')}@bench.test`, groups: ['bench'] }));

    /** One request, from POST to the password in hand. */
    const requestAccess = async (token: string) => {
      const answer = await t.api('POST', '/api/v1/access-requests', { token, body: { items: [{ resourceId, permission: 'READ_ONLY' }], durationMinutes: 60 } });
      if (answer.status !== 201) throw new Error(`request: ${answer.text}`);
      const id = answer.body.requests[0].id;
      for (;;) {
        const r = await t.api('GET', `/api/v1/access-requests/${id}`, { token });
        if (r.body.status === 'GRANTED') break;
        if (r.body.status !== 'APPROVED') throw new Error(`request ${id} is ${r.body.status}: ${r.body.statusReason}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const details = await t.api('GET', `/api/v1/access-requests/${id}/access-details`, { token });
      if (!details.body.password) throw new Error(`no password for ${id}`);
    };

    await requestAccess(people[0].token);
    const [{ profile }] = await pg.query<{ profile: string }>("SELECT rolname AS profile FROM pg_roles WHERE rolname LIKE 'lk\\_p\\_%' LIMIT 1");
    const raw = new Client({ host: '127.0.0.1', port: pg.port, user: CONNECTOR.user, password: CONNECTOR.password, database: 'bench' });
    await raw.connect();
    const rawGrant = async (client: Client, i: string) => {
      const verifier = scramVerifier(randomBytes(24).toString('base64url'));
      const until = new Date(Date.now() + 3_600_000).toISOString();
      await client.query(`CREATE ROLE ${quoteIdent(`raw_${i}`)} LOGIN PASSWORD ${quoteLiteral(verifier)} VALID UNTIL ${quoteLiteral(until)} CONNECTION LIMIT 10 IN ROLE ${quoteIdent('latchkey_managed')}, ${quoteIdent(profile)}`);
    };

    const latency: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const t0 = performance.now();
      await requestAccess(people[i % people.length].token);
      latency.push(performance.now() - t0);
    }
    const rawLatency: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const t0 = performance.now();
      await rawGrant(raw, `req${i}`);
      rawLatency.push(performance.now() - t0);
    }
    rows.push([`request to credentials p50 (n=${SAMPLES}, automatic flow)`, `${ms(percentile(latency, 50))}   raw SQL ${ms(percentile(rawLatency, 50))}   ratio ${(percentile(latency, 50) / percentile(rawLatency, 50)).toFixed(2)}x (target <= 1.5x)`]);
    rows.push(['request to credentials p99', `${ms(percentile(latency, 99))}   raw SQL ${ms(percentile(rawLatency, 99))}   ratio ${(percentile(latency, 99) / percentile(rawLatency, 99)).toFixed(2)}x (target <= 2x)`]);

    const t0 = performance.now();
    await pool(Array.from({ length: THROUGHPUT_REQUESTS }), CONCURRENCY, (_item, _i, worker) => requestAccess(people[worker].token));
    const rate = THROUGHPUT_REQUESTS / ((performance.now() - t0) / 1000);
    rows.push([`requests to credentials per second (${THROUGHPUT_REQUESTS}, ${CONCURRENCY} people at a time)`, `${rate.toFixed(0)}/s (target 400 grants/s)`]);
    await raw.end();
    return rows;
  } finally {
    await stack?.dispose();
    await pg.stop();
  }
}
