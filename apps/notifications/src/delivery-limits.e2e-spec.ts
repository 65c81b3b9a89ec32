import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGroupFlow, PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

jest.setTimeout(300_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
/** The secret part of each person's Slack incoming webhook: Sam's never answers, Fay's answers at once. */
const SAM_SLACK_SECRET = `sam${randomBytes(12).toString('hex')}`;
const FAY_SLACK_SECRET = `fay${randomBytes(12).toString('hex')}`;
const TIMEOUT_SECONDS = 20;
const TABLES = ['t1', 't2', 't3'];

interface Hit {
  path: string;
  webhookId: string | undefined;
  body: any;
  at: number;
}

/**
 * A receiver on loopback for one webhook endpoint (/hook, 200 after 100 ms) and two people's
 * Slack webhooks (/services/T/B/<secret>: Sam's hangs, Fay's answers 200 "ok" after 100 ms). It
 * counts the requests in flight per path, so the limit is measured where it matters.
 */
class Receiver {
  readonly hits: Hit[] = [];
  readonly maxInFlight = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  private server!: Server;
  port = 0;

  async start() {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = req.url ?? '/';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const now = (this.inFlight.get(path) ?? 0) + 1;
    this.inFlight.set(path, now);
    this.maxInFlight.set(path, Math.max(now, this.maxInFlight.get(path) ?? 0));
    this.hits.push({
      path,
      webhookId: req.headers['webhook-id'] as string | undefined,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      at: Date.now(),
    });
    if (path.endsWith(SAM_SLACK_SECRET)) return; // never answers: the attempt ends at WEBHOOK_TIMEOUT_SECONDS
    setTimeout(() => {
      this.inFlight.set(path, (this.inFlight.get(path) ?? 1) - 1);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }, 100);
  }

  /** What reached a path ending so, mentioning `text` (a request id) when given. */
  at(pathEnd: string, text?: string) {
    return this.hits.filter((h) => h.path.endsWith(pathEnd) && (!text || JSON.stringify(h.body).includes(text)));
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * Per-endpoint (and per-person Slack) concurrency without leaning on the sweeper (issue 14): the
 * stack runs with WEBHOOK_ENDPOINT_CONCURRENCY=1 and a sweep every 10 minutes, so a delivery
 * refused at its limit that waited for the sweeper would not arrive within these tests.
 */
describe('notifications: deliveries waiting at a limit go out when a slot frees; a hanging Slack delays nothing else', () => {
  let pg: PgCluster;
  let t: TestStack;
  const receiver = new Receiver();
  const people: Record<string, { id: string; email: string; token: string }> = {};
  let resources: Record<string, string> = {};
  let hookId = '';
  const requestIds: string[] = [];

  const addPerson = async (key: string, groups: string[]) => {
    const email = `${key}-${randomBytes(3).toString('hex')}@example.com`;
    const user = await t.api('POST', '/api/v1/users', { body: { email, name: key, groups } });
    expect(user.status).toBe(201);
    const token = await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: `${key} e2e` } });
    people[key] = { id: user.body.id, email, token: token.body.token };
  };
  const slackUrl = (secret: string) => receiver.url(`/services/T000/B000/${secret}`);

  beforeAll(async () => {
    await receiver.start();
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    await pg.query(`CREATE SCHEMA billing; ${TABLES.map((n) => `CREATE TABLE billing.${n} (id int PRIMARY KEY);`).join(' ')}`, undefined, 'app');
    t = await startTestStack({
      env: {
        ACCESS_SWEEP_INTERVAL_SECONDS: '1',
        SWEEP_INTERVAL_SECONDS: '1',
        NOTIFICATIONS_SWEEP_INTERVAL_SECONDS: '600',
        WEBHOOK_RETRY_SCHEDULE: '0,1,1,1',
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        WEBHOOK_CONCURRENCY: '8',
        WEBHOOK_ENDPOINT_CONCURRENCY: '1',
        WEBHOOK_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
        LATCHKEY_PUBLIC_URL: 'https://latchkey.example.com',
      },
    });
    for (const name of ['analysts', 'data-team']) await t.api('POST', '/api/v1/groups', { body: { name } });
    await addPerson('rita', ['analysts']);
    await addPerson('sam', ['data-team']);
    await addPerson('fay', ['data-team']);
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'app',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    const integrationId = integration.body.id;
    await createGroupFlow(t, { name: 'analysts read billing', integrationId, requestors: 'analysts', approvers: 'data-team', maxDurationMinutes: 5 });
    resources = await waitUntil('the discovered tables', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table`);
      const found: Record<string, string> = Object.fromEntries((list.body.items ?? []).map((r: any) => [r.path, r.id]));
      return TABLES.every((n) => found[`app/billing/${n}`]) ? found : undefined;
    });
    const hook = await t.api('POST', '/api/v1/webhooks', { body: { name: 'one endpoint', url: receiver.url('/hook'), events: ['access_request.created'] } });
    expect(hook.status).toBe(201);
    hookId = hook.body.id;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
    await receiver.stop();
  });

  it('twenty events to one endpoint limited to one attempt at a time all arrive promptly, each once', async () => {
    const started = Date.now();
    const tests = await Promise.all(Array.from({ length: 20 }, () => t.api('POST', `/api/v1/webhooks/${hookId}/test`)));
    expect(tests.map((r) => r.status)).toEqual(Array(20).fill(202));
    const ids = new Set(tests.map((r) => r.body.messageId as string));
    expect(ids.size).toBe(20);
    // Well under the 600 s sweep: each one went out when the one before it settled.
    await waitUntil('all twenty at the receiver', async () => [...ids].every((id) => receiver.hits.some((h) => h.webhookId === id)), 60_000);
    expect(Date.now() - started).toBeLessThan(60_000);
    await new Promise((r) => setTimeout(r, 2_000));
    for (const id of ids) expect(receiver.hits.filter((h) => h.webhookId === id)).toHaveLength(1);
    expect(receiver.maxInFlight.get('/hook')).toBe(1);
    const log = (await t.api('GET', `/api/v1/webhooks/${hookId}/deliveries?pageSize=100`)).body.items as any[];
    const tested = log.filter((d) => ids.has(d.messageId));
    expect(tested).toHaveLength(20);
    expect(tested.every((d) => d.status === 'DELIVERED' && d.attempts === 1)).toBe(true);
  });

  it("a person's Slack that hangs holds one slot and delays neither another person's Slack nor the webhook", async () => {
    for (const [who, secret] of [
      ['sam', SAM_SLACK_SECRET],
      ['fay', FAY_SLACK_SECRET],
    ] as const) {
      const set = await t.api('PUT', '/api/v1/me/notification-preferences', {
        token: people[who].token,
        body: { channels: ['slack'], slackWebhookUrl: slackUrl(secret) },
      });
      expect(set.status).toBe(200);
    }
    const started = Date.now();
    for (const n of TABLES) {
      const res = await t.api('POST', '/api/v1/access-requests', {
        token: people.rita.token,
        body: { items: [{ resourceId: resources[`app/billing/${n}`], permission: 'READ_ONLY' }], justification: 'ticket 7', durationMinutes: 5 },
      });
      expect(res.status).toBe(201);
      requestIds.push(res.body.requests[0].id);
    }
    const told = (pathEnd: string) => requestIds.every((id) => receiver.at(pathEnd, id).length > 0);
    await waitUntil("every request on Fay's Slack and at the webhook", async () => told(FAY_SLACK_SECRET) && told('/hook'), 60_000);
    // Before Sam's first attempt gives up: his Slack holds its one slot, the others wait for it.
    expect(Date.now() - started).toBeLessThan(TIMEOUT_SECONDS * 1000);
    expect(receiver.at(SAM_SLACK_SECRET)).toHaveLength(1);
    expect(receiver.maxInFlight.get(`/services/T000/B000/${FAY_SLACK_SECRET}`)).toBe(1);
    expect(receiver.maxInFlight.get('/hook')).toBe(1);
    for (const id of requestIds) {
      expect(receiver.at(FAY_SLACK_SECRET, id)).toHaveLength(1);
      expect(receiver.at('/hook', id).filter((h) => h.body.type === 'access_request.created')).toHaveLength(1);
    }
  });

  it('each person sees the deliveries to their own Slack, with attempts and errors, never the URL; an admin sees them too', async () => {
    // The receiver has every message; each attempt is recorded as it settles, a moment later under load.
    const fay = await waitUntil(
      "Fay's deliveries all settled",
      async () => {
        const res = await t.api('GET', '/api/v1/me/notification-deliveries?channel=slack', { token: people.fay.token });
        return (res.status !== 200 || res.body.items.every((d: any) => d.status !== 'PENDING')) && res;
      },
      60_000,
    );
    expect(fay.status).toBe(200);
    expect(fay.text).not.toContain(FAY_SLACK_SECRET);
    expect(fay.body.items.map((d: any) => d.requestId).sort()).toEqual([...requestIds].sort());
    for (const d of fay.body.items) {
      expect(d).toMatchObject({ channel: 'slack', eventType: 'access_request.created', status: 'DELIVERED', attempts: 1, lastError: null });
      expect(d.attemptLog).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, responseExcerpt: 'ok', error: null })]);
    }
    // Sam's first attempt ends at the timeout: his log says so, and his next message follows at once.
    const sam = await waitUntil(
      "Sam's timed-out attempt in his log",
      async () => {
        const res = await t.api('GET', '/api/v1/me/notification-deliveries', { token: people.sam.token });
        return res.body.items.some((d: any) => d.attemptLog.some((a: any) => a.error === `no answer within ${TIMEOUT_SECONDS * 1000} ms`)) && res;
      },
      90_000,
    );
    expect(sam.text).not.toContain(SAM_SLACK_SECRET);
    const failed = sam.body.items.find((d: any) => d.attemptLog.length > 0 && d.attemptLog[0].error);
    expect(failed).toMatchObject({ channel: 'slack', status: 'PENDING', attempts: 1, lastError: `no answer within ${TIMEOUT_SECONDS * 1000} ms` });
    expect(failed.attemptLog[0]).toMatchObject({ statusCode: null, responseExcerpt: null });
    await waitUntil("Sam's next message sent when the slot freed", async () => receiver.at(SAM_SLACK_SECRET).length >= 2, 30_000);

    const byAdmin = await t.api('GET', `/api/v1/users/${people.sam.id}/notification-deliveries?channel=slack`);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.text).not.toContain(SAM_SLACK_SECRET);
    expect(byAdmin.body.items.map((d: any) => d.id).sort()).toEqual(sam.body.items.map((d: any) => d.id).sort());
    expect((await t.api('GET', `/api/v1/users/${people.sam.id}/notification-deliveries`, { token: people.fay.token })).status).toBe(403);
    const bad = await t.api('GET', '/api/v1/me/notification-deliveries?channel=pager', { token: people.fay.token });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('channel');
  });
});
