import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createUser, waitUntil } from '@latchkey/testing';
import { startBenchTarget } from './bench-target';
import { ms, percentile, pool } from './stats';

const REQUESTS = Number(process.env.BENCH_NOTIFICATION_REQUESTS ?? 1000);
const CONCURRENCY = 16;

/**
 * Event to delivery: access requests that wait for an approver, each one an
 * `access_request.created` event, until its signed webhook reaches a receiver on loopback that
 * verifies it; beside the raw floor, the same signed body POSTed straight to the same receiver.
 */
export async function benchNotifications(): Promise<Array<[string, string]>> {
  const rows: Array<[string, string]> = [];
  const arrived = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  let secret = '';
  let unverified = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        new StandardWebhook(secret).verify(raw, {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        });
      } catch {
        unverified += 1;
      }
      const key = (JSON.parse(raw) as { data?: { requestId?: string } }).data?.requestId ?? String(req.headers['webhook-id']);
      arrived.set(key, at);
      waiters.get(key)?.();
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  const delivered = (key: string) => (arrived.has(key) ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(key, resolve)));

  const target = await startBenchTarget({
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    NOTIFICATIONS_SWEEP_INTERVAL_SECONDS: '30',
    ACCESS_SWEEP_INTERVAL_SECONDS: '30',
    SWEEP_INTERVAL_SECONDS: '30',
  });
  try {
    const { stack: t, integrationId } = target;
    const resourceId = await waitUntil('the bench table discovered', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&q=app/orders`);
      return list.body.items?.[0]?.id as string | undefined;
    });
    await t.api('POST', '/api/v1/groups', { body: { name: 'approvers' } });
    await createUser(t, { email: `approver-${randomBytes(3).toString('hex')}@bench.test`, groups: ['approvers'] });
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'bench approved by a person',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['bench'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['approvers'] }] },
        maxDurationMinutes: 60,
        settings: { justificationRequired: false },
      },
    });
    if (flow.status !== 201) throw new Error(`bench flow: ${flow.text}`);
    const hook = await t.api('POST', '/api/v1/webhooks', {
      body: { name: 'bench receiver', url: `http://127.0.0.1:${port}/hook`, events: ['access_request.created'] },
    });
    if (hook.status !== 201) throw new Error(`bench webhook: ${hook.text}`);
    secret = hook.body.secret;
    const people = await pool(
      Array.from({ length: CONCURRENCY }, (_, i) => i),
      4,
      (i) => createUser(t, { email: `bench${i}-${randomBytes(3).toString('hex')}@bench.test`, groups: ['bench'] }),
    );

    /** From the POST that makes the request (and its event) to the verified webhook in the receiver's hands. */
    const latency: number[] = [];
    const afterAnswer: number[] = [];
    const one = async (token: string) => {
      const start = performance.now();
      const answer = await t.api('POST', '/api/v1/access-requests', { token, body: { items: [{ resourceId, permission: 'READ_ONLY' }], durationMinutes: 60 } });
      if (answer.status !== 201) throw new Error(`request: ${answer.text}`);
      const answeredAt = performance.now();
      const id = answer.body.requests[0].id as string;
      await delivered(id);
      waiters.delete(id);
      latency.push(arrived.get(id)! - start);
      afterAnswer.push(Math.max(0, arrived.get(id)! - answeredAt));
    };
    await one(people[0].token);
    latency.length = 0;
    afterAnswer.length = 0;
    const t0 = performance.now();
    await pool(Array.from({ length: REQUESTS }), CONCURRENCY, (_item, _i, worker) => one(people[worker].token));
    const seconds = (performance.now() - t0) / 1000;

    // The floor: a signed Standard Webhooks POST of the same size, straight to the receiver.
    const signer = new StandardWebhook(secret);
    const body = JSON.stringify({
      type: 'access_request.created',
      timestamp: new Date().toISOString(),
      data: { requestId: 'x'.repeat(36), pad: 'x'.repeat(1500) },
    });
    const raw: number[] = [];
    await pool(
      Array.from({ length: REQUESTS }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const id = `msg_raw_${i}`;
        const payload = body.replace('x'.repeat(36), `raw-${String(i).padStart(32, '0')}`);
        const start = performance.now();
        const now = new Date();
        const headers = {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signer.sign(id, now, payload),
        };
        await new Promise<void>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/hook', method: 'POST', headers }, (res) => res.resume().on('end', () => resolve()));
          req.on('error', reject);
          req.end(payload);
        });
        raw.push(arrived.get(`raw-${String(i).padStart(32, '0')}`)! - start);
      },
    );

    rows.push([
      `event to delivery p50 (n=${REQUESTS}, ${CONCURRENCY} at a time; POST of the request -> verified webhook)`,
      `${ms(percentile(latency, 50))}   raw signed POST ${ms(percentile(raw, 50))}`,
    ]);
    rows.push(['event to delivery p99', `${ms(percentile(latency, 99))}   raw signed POST ${ms(percentile(raw, 99))}`]);
    rows.push(['  after the POST answered (p50 / p99)', `${ms(percentile(afterAnswer, 50))} / ${ms(percentile(afterAnswer, 99))}`]);
    rows.push(['requests with their webhook delivered per second', `${(REQUESTS / seconds).toFixed(0)}/s; unverified messages: ${unverified}`]);
    return rows;
  } finally {
    await target.dispose();
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  }
}
