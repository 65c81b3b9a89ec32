import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Contracts } from '@latchkey/contracts';
import type { Resource } from '@latchkey/contracts';
import { quoteIdent, quoteLiteral } from '@latchkey/pg-access';
import { createUser, type PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, type TestStack, waitUntil } from '@latchkey/testing';

const CONNECTOR = 'latchkey connector';
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const HOSTILE_DB = 'shop "eu"; DROP DATABASE shop; -- 🛒';
const HOSTILE_SCHEMA = 'ré "gion" ;';
// 63 bytes in UTF-8: the longest name PostgreSQL keeps.
const LONG_TABLE = `${'l'.repeat(57)}ü🔑`;
const HOSTILE_ROLE = 'analyst "quoted"; --';

type Event = { subject: string; data: Record<string, unknown> & { integrationId: string } };

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('discovery through the gateway', () => {
  let cluster: PgCluster;
  let t: TestStack;
  let nats: NatsConnection;
  let integrationId: string;
  let userToken: string;
  const events: Event[] = [];

  const shop = (sql: string) => cluster.query(sql, undefined, 'shop');
  const eventsOf = (contract: { subject: string }) => events.filter((e) => e.subject === contract.subject && e.data.integrationId === integrationId);
  const nextEvent = (contract: { subject: string }, after: number, match: (e: Event) => boolean = () => true) =>
    until(`${contract.subject}`, async () => eventsOf(contract).slice(after).find(match));

  async function inventory(query = ''): Promise<Resource[]> {
    const items: Resource[] = [];
    let pageToken: string | undefined;
    do {
      const res = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&pageSize=500${query}${pageToken ? `&pageToken=${pageToken}` : ''}`);
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      pageToken = res.body.nextPageToken;
    } while (pageToken);
    return items;
  }
  const summary = (items: Resource[]) => items.map((r) => `${r.type} ${r.kind} ${r.path}`).sort();
  const byPath = (items: Resource[]) => new Map(items.map((r) => [`${r.kind} ${r.path}`, r]));
  const integration = async () => (await t.api('GET', `/api/v1/integrations/${integrationId}`)).body;

  beforeAll(async () => {
    cluster = await startPgCluster({ hba: 'scram' });
    await cluster.query(
      [
        `CREATE ROLE ${quoteIdent(CONNECTOR)} SUPERUSER LOGIN PASSWORD ${quoteLiteral(PASSWORD)}`,
        `CREATE ROLE ${quoteIdent(HOSTILE_ROLE)} LOGIN`,
        `COMMENT ON ROLE ${quoteIdent(HOSTILE_ROLE)} IS 'latchkey:team=analytics'`,
        'CREATE ROLE latchkey_managed NOLOGIN',
        'CREATE ROLE lk_bob_5f4dcc3b5aa7 LOGIN IN ROLE latchkey_managed',
      ].join(';\n'),
    );
    for (const db of ['shop', HOSTILE_DB]) await cluster.query(`CREATE DATABASE ${quoteIdent(db)}`);
    await shop(
      [
        'CREATE SCHEMA sales',
        `COMMENT ON SCHEMA sales IS 'latchkey:owner=sales-team'`,
        'CREATE TABLE sales.orders (id bigint PRIMARY KEY, total numeric)',
        `COMMENT ON TABLE sales.orders IS 'Every order.\nlatchkey:owner=sales-team\nlatchkey:tier=gold'`,
        'CREATE TABLE sales.customers (id bigint)',
        'CREATE TABLE sales.legacy (id bigint)',
        'CREATE VIEW sales.big_orders AS SELECT id FROM sales.orders WHERE total > 1000',
        'CREATE MATERIALIZED VIEW sales.daily AS SELECT count(*) AS n FROM sales.orders',
        'CREATE SEQUENCE sales.invoice_no',
        `CREATE SCHEMA ${quoteIdent(HOSTILE_SCHEMA)}`,
        `CREATE TABLE ${quoteIdent(HOSTILE_SCHEMA)}.${quoteIdent(LONG_TABLE)} (id int)`,
      ].join(';\n'),
    );
    await cluster.query('CREATE TABLE public."Stock Levels" (sku text)', undefined, HOSTILE_DB);

    t = await startTestStack();
    nats = await connect({ servers: t.natsUrl });
    for (const contract of [Contracts.discoveryRefreshStarted, Contracts.discoveryRefreshFailed, Contracts.discoveryResourcesChanged]) {
      nats.subscribe(contract.subject, {
        callback: (_err, msg) => {
          events.push({ subject: contract.subject, data: (msg.json() as { data: Event['data'] }).data });
        },
      });
    }
    userToken = (await createUser(t)).token;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await nats?.close();
    await t?.dispose();
    await cluster?.stop();
  });

  const EXPECTED = [
    'postgresql-database database postgres',
    'postgresql-database database shop',
    `postgresql-database database ${HOSTILE_DB}`,
    'postgresql-role role postgres',
    `postgresql-role role ${CONNECTOR}`,
    `postgresql-role role ${HOSTILE_ROLE}`,
    'postgresql-role role latchkey_managed',
    'postgresql-role role lk_bob_5f4dcc3b5aa7',
    'postgresql-schema schema postgres/public',
    'postgresql-schema schema shop/public',
    `postgresql-schema schema ${HOSTILE_DB}/public`,
    'postgresql-schema schema shop/sales',
    `postgresql-schema schema shop/${HOSTILE_SCHEMA}`,
    'postgresql-table table shop/sales/orders',
    'postgresql-table table shop/sales/customers',
    'postgresql-table table shop/sales/legacy',
    'postgresql-table view shop/sales/big_orders',
    'postgresql-table materialized_view shop/sales/daily',
    'postgresql-table sequence shop/sales/invoice_no',
    `postgresql-table table shop/${HOSTILE_SCHEMA}/${LONG_TABLE}`,
    `postgresql-table table ${HOSTILE_DB}/public/Stock Levels`,
  ];

  it("discovers the new integration's instance exactly, hostile names intact", async () => {
    const res = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'Shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-database', 'postgresql-schema', 'postgresql-table', 'postgresql-role'],
        config: { hostname: '127.0.0.1', port: cluster.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR, password: PASSWORD },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('ACTIVE');
    integrationId = res.body.id;

    const changed = await nextEvent(Contracts.discoveryResourcesChanged, 0);
    expect(changed.data).toMatchObject({ added: EXPECTED.length, updated: 0, removed: 0, total: EXPECTED.length });
    const items = await inventory();
    expect(summary(items)).toEqual([...EXPECTED].sort());

    const found = byPath(items);
    expect(found.get('table shop/sales/orders')).toMatchObject({
      integrationId,
      type: 'postgresql-table',
      parts: { database: 'shop', schema: 'sales', name: 'orders' },
      owner: cluster.superuser,
      comment: 'Every order.\nlatchkey:owner=sales-team\nlatchkey:tier=gold',
      tags: { owner: 'sales-team', tier: 'gold' },
      apiTags: {},
      permissions: ['READ_ONLY', 'READ_WRITE', 'ADMIN'],
      managed: false,
    });
    expect(found.get(`table shop/${HOSTILE_SCHEMA}/${LONG_TABLE}`)?.parts).toEqual({ database: 'shop', schema: HOSTILE_SCHEMA, name: LONG_TABLE });
    expect(found.get(`table ${HOSTILE_DB}/public/Stock Levels`)?.parts).toEqual({ database: HOSTILE_DB, schema: 'public', name: 'Stock Levels' });
    expect(found.get(`database ${HOSTILE_DB}`)?.parts).toEqual({ name: HOSTILE_DB });
    expect(found.get(`role ${HOSTILE_ROLE}`)).toMatchObject({
      parts: { name: HOSTILE_ROLE },
      tags: { team: 'analytics' },
      permissions: ['MEMBER'],
      managed: false,
    });
    // Latchkey's own roles are marked and cannot be requested.
    for (const name of ['latchkey_managed', 'lk_bob_5f4dcc3b5aa7']) expect(found.get(`role ${name}`)).toMatchObject({ managed: true, permissions: [] });
    expect(found.get('schema shop/sales')).toMatchObject({ tags: { owner: 'sales-team' }, permissions: ['READ_ONLY', 'READ_WRITE', 'ADMIN'] });
    // The refresh marks the integration ACTIVE again as it finishes; under load, a moment after its event
    // (or after a second refresh the creation also asked for). Seen REFRESHING once with the CPU busy.
    await waitUntil('the integration ACTIVE after its refresh', async () => (await integration()).status === 'ACTIVE', 60_000);
  });

  it('searches by path fragment, type and tag, and pages in path order', async () => {
    const all = await inventory();
    expect(summary(await inventory('&q=ORDERS'))).toEqual(['postgresql-table table shop/sales/orders', 'postgresql-table view shop/sales/big_orders']);
    expect(summary(await inventory(`&q=${encodeURIComponent('🛒/PUBLIC')}`))).toEqual([
      `postgresql-schema schema ${HOSTILE_DB}/public`,
      `postgresql-table table ${HOSTILE_DB}/public/Stock Levels`,
    ]);
    expect((await inventory('&type=postgresql-role')).every((r) => r.type === 'postgresql-role')).toBe(true);
    expect(summary(await inventory('&tag=tier'))).toEqual(['postgresql-table table shop/sales/orders']);
    expect(summary(await inventory('&tag=owner%3Dsales-team'))).toEqual(['postgresql-schema schema shop/sales', 'postgresql-table table shop/sales/orders']);
    expect(await inventory('&tag=owner%3Dnobody')).toEqual([]);

    const paged: Resource[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const res = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&pageSize=4${pageToken ? `&pageToken=${pageToken}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(4);
      paged.push(...res.body.items);
      pageToken = res.body.nextPageToken;
      pages += 1;
    } while (pageToken);
    expect(pages).toBe(Math.ceil(all.length / 4));
    expect(paged.map((r) => r.id)).toEqual(all.map((r) => r.id));
    const paths = paged.map((r) => Buffer.from(r.path));
    expect([...paths].sort(Buffer.compare)).toEqual(paths);

    const one = await t.api('GET', `/api/v1/resources/${all[0].id}`, { token: userToken });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(all[0]);
  });

  it('refuses bad input with a 400 naming the field, and unknown ids with 404', async () => {
    const bad = async (query: string) => (await t.api('GET', `/api/v1/resources?${query}`)).body.details?.issues?.map((i: { field: string }) => i.field);
    expect(await bad('pageSize=0&type=postgresql-view&integrationId=nope')).toEqual(expect.arrayContaining(['pageSize', 'type', 'integrationId']));
    expect(await bad('pageToken=not-a-token')).toEqual(['pageToken']);
    expect((await t.api('GET', '/api/v1/resources?colour=blue')).status).toBe(400);
    expect((await t.api('GET', '/api/v1/resources/nope')).body).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ field: 'id' }] } });
    expect((await t.api('GET', '/api/v1/resources/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await t.api('POST', '/api/v1/integrations/00000000-0000-4000-8000-000000000000/refresh')).status).toBe(404);
    expect((await t.api('GET', '/api/v1/resources', { token: null })).status).toBe(401);
  });

  it('lets API tags win over comment tags; only admins set them', async () => {
    const orders = byPath(await inventory()).get('table shop/sales/orders')!;
    const refused = await t.api('PUT', `/api/v1/resources/${orders.id}/tags`, { token: userToken, body: { tags: { owner: 'x' } } });
    expect(refused.status).toBe(403);
    const invalid = await t.api('PUT', `/api/v1/resources/${orders.id}/tags`, { body: { tags: { 'bad key': 'x', ok: 'v'.repeat(257) } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details.issues.map((i: { field: string }) => i.field).sort()).toEqual(['tags.bad key', 'tags.ok']);

    const put = await t.api('PUT', `/api/v1/resources/${orders.id}/tags`, { body: { tags: { owner: 'api-owner', team: 'core' } } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: orders.id, tags: { owner: 'api-owner', tier: 'gold', team: 'core' }, apiTags: { owner: 'api-owner', team: 'core' } });
    expect(summary(await inventory('&tag=owner%3Dapi-owner'))).toEqual(['postgresql-table table shop/sales/orders']);
  });

  it('turns changes between refreshes into a diff: stable ids for the rest, API tags kept', async () => {
    const before = byPath(await inventory());
    await shop(
      [
        'CREATE TABLE sales.refunds (id bigint)',
        'DROP TABLE sales.customers',
        'ALTER TABLE sales.legacy RENAME TO archive',
        `COMMENT ON TABLE sales.orders IS 'Every order.\nlatchkey:owner=sales-team\nlatchkey:tier=platinum'`,
      ].join(';\n'),
    );
    const seen = eventsOf(Contracts.discoveryResourcesChanged).length;
    const res = await t.api('POST', `/api/v1/integrations/${integrationId}/refresh`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ integrationId, jobId: `refresh-integration-${integrationId}`, queued: true });

    const changed = await nextEvent(Contracts.discoveryResourcesChanged, seen);
    expect(changed.data).toMatchObject({ added: 2, updated: 1, removed: 2, total: EXPECTED.length });
    expect(changed.data.ms).toEqual(expect.any(Number));

    const after = byPath(await inventory());
    expect([...after.keys()].filter((k) => !before.has(k)).sort()).toEqual(['table shop/sales/archive', 'table shop/sales/refunds']);
    expect([...before.keys()].filter((k) => !after.has(k)).sort()).toEqual(['table shop/sales/customers', 'table shop/sales/legacy']);
    for (const [key, resource] of after) {
      if (!before.has(key)) continue;
      expect({ key, id: resource.id }).toEqual({ key, id: before.get(key)!.id });
      if (key !== 'table shop/sales/orders') expect({ key, updatedAt: resource.updatedAt }).toEqual({ key, updatedAt: before.get(key)!.updatedAt });
    }
    expect(after.get('table shop/sales/orders')).toMatchObject({
      tags: { owner: 'api-owner', tier: 'platinum', team: 'core' },
      apiTags: { owner: 'api-owner', team: 'core' },
    });
    expect(after.get('table shop/sales/orders')!.updatedAt > before.get('table shop/sales/orders')!.updatedAt).toBe(true);
  });

  it('keeps the last inventory when the instance cannot be read, reports ERROR, and recovers', async () => {
    const before = summary(await inventory());
    const ids = (await inventory()).map((r) => r.id).sort();
    await cluster.query(`ALTER ROLE ${quoteIdent(CONNECTOR)} NOLOGIN`);
    const failedSeen = eventsOf(Contracts.discoveryRefreshFailed).length;
    expect((await t.api('POST', `/api/v1/integrations/${integrationId}/refresh`)).status).toBe(202);
    const failed = await nextEvent(Contracts.discoveryRefreshFailed, failedSeen);
    expect(failed.data.reason).toMatch(/not permitted to log in/);
    const broken = await until('status ERROR', async () => ((await integration()).status === 'ERROR' ? integration() : undefined));
    expect(broken.statusReason).toMatch(/^discovery: .*not permitted to log in/);
    expect(summary(await inventory())).toEqual(before);
    expect((await inventory()).map((r) => r.id).sort()).toEqual(ids);

    await cluster.query(`ALTER ROLE ${quoteIdent(CONNECTOR)} LOGIN`);
    const seen = eventsOf(Contracts.discoveryResourcesChanged).length;
    expect((await t.api('POST', `/api/v1/integrations/${integrationId}/refresh`)).status).toBe(202);
    expect((await nextEvent(Contracts.discoveryResourcesChanged, seen)).data).toMatchObject({ added: 0, updated: 0, removed: 0 });
    await until('status ACTIVE', async () => ((await integration()).status === 'ACTIVE' ? true : undefined));
    expect((await integration()).statusReason).toBeNull();
  });

  it('refreshes every DISCOVERY_REFRESH_MINUTES on its own', async () => {
    await t.stack.stopProcess('discovery');
    t.stack.startProcess('discovery-every-3s', 'discovery', { DISCOVERY_REFRESH_MINUTES: '0.05' });
    const seen = eventsOf(Contracts.discoveryRefreshStarted).length;
    // Nothing asks for these: the restarted service moves the schedule to 3 s and it fires.
    await until('two scheduled refreshes', async () => (eventsOf(Contracts.discoveryRefreshStarted).length >= seen + 2 ? true : undefined), 60_000);
  });

  it('keeps the inventory of a stopped instance and names why it cannot be read', async () => {
    const before = summary(await inventory());
    const failedSeen = eventsOf(Contracts.discoveryRefreshFailed).length;
    await cluster.stop();
    // A scheduled refresh may be cut off while the server stops; the next one finds nothing listening.
    await nextEvent(Contracts.discoveryRefreshFailed, failedSeen, (e) => /cannot reach 127\.0\.0\.1/.test(String(e.data.reason)));
    await until('status ERROR naming the unreachable server', async () => {
      const current = await integration();
      return current.status === 'ERROR' && /^discovery: Cannot connect to 127\.0\.0\.1.*cannot reach/.test(current.statusReason) ? true : undefined;
    });
    expect(summary(await inventory())).toEqual(before);
  });

  it('removes the inventory, API tags and schedule of a deleted integration', async () => {
    expect((await t.api('DELETE', `/api/v1/integrations/${integrationId}`)).status).toBe(200);
    await until('the inventory to go', async () => ((await inventory()).length === 0 ? true : undefined));
    expect(await t.control('SELECT count(*)::int AS n FROM discovery.api_tags')).toEqual([{ n: 0 }]);
    expect(await t.control('SELECT count(*)::int AS n FROM discovery.refresh_state WHERE integration_id = $1', [integrationId])).toEqual([{ n: 0 }]);
    const seen = eventsOf(Contracts.discoveryRefreshStarted).length;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(eventsOf(Contracts.discoveryRefreshStarted)).toHaveLength(seen);
  });
});
