import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { ResourceKind } from '@latchkey/contracts';
import { createLogger, MessageBus } from '@latchkey/messaging';
import { AuditOutbox, createServiceDataSource, migrate } from '@latchkey/persistence';
import { createScratchDatabase, type ScratchDatabase } from '@latchkey/testing';
import { CreateDiscovery1764000000300 } from '../migrations/1764000000300-CreateDiscovery';
import { ResourceUnrequestableReason1764000000310 } from '../migrations/1764000000310-ResourceUnrequestableReason';
import { DiscoveryAuditOutbox1764000000620 } from '../migrations/1764000000620-DiscoveryAuditOutbox';
import { resourceId, resourcePath } from './resource-id';
import { TYPE_OF_KIND } from './resource-kinds';
import { ResourceRow, ResourcesRepository, STATISTICS_AFTER_CHANGES } from './resources.repository';

let scratch: ScratchDatabase;
let dataSource: DataSource;
let repo: ResourcesRepository;

const row = (
  integrationId: string,
  kind: ResourceKind,
  parts: { database?: string; schema?: string; name: string },
  comment: string | null = null,
): ResourceRow => ({
  id: resourceId({ integrationId, kind, ...parts }),
  kind,
  type: TYPE_OF_KIND[kind],
  database: parts.database ?? null,
  schema: parts.schema ?? null,
  name: parts.name,
  path: resourcePath(parts),
  owner: 'app',
  comment,
  commentTags: {},
  managed: false,
  unrequestableReason: null,
});

async function refresh(integrationId: string, rows: ResourceRow[], skippedDatabases: string[] = []) {
  const writer = await repo.beginRefresh(integrationId);
  // Pages of two, as the catalog reader sends them.
  for (let i = 0; i < rows.length; i += 2) await writer.write(rows.slice(i, i + 2));
  return writer.commit({ connectorId: 'local', skippedDatabases, ms: 1 });
}

const actor = { type: 'user' as const, id: 'u-1', email: 'admin@example.com' };
/** The entry the service writes: the tags before (read in the transaction) and after. */
const audit =
  (after: Record<string, string>) =>
  ({ resource, before }: { resource: { id: string }; before: Record<string, string> }) => ({
    action: 'resource.tags-updated',
    actor,
    targetType: 'resource',
    targetId: resource.id,
    details: { before, after },
  });
const paths = async (integrationId: string) => (await repo.page({ integrationId, limit: 500 })).map((r) => r.path);

beforeAll(async () => {
  scratch = await createScratchDatabase('latchkey_discovery_int');
  dataSource = createServiceDataSource({
    url: scratch.url,
    schema: 'discovery',
    entities: [],
    migrations: [CreateDiscovery1764000000300, ResourceUnrequestableReason1764000000310, DiscoveryAuditOutbox1764000000620],
  });
  await migrate(dataSource, 'discovery');
  // Never bootstrapped: entries stay in the outbox, where the tests read them.
  const outbox = new AuditOutbox(dataSource, new MessageBus('nats://127.0.0.1:1', 'int-spec', 1000), createLogger('discovery-int', 'silent'), 'discovery');
  repo = new ResourcesRepository(dataSource, outbox);
});

afterAll(async () => {
  await dataSource?.destroy();
  await scratch?.drop();
});

describe('ResourcesRepository', () => {
  it('applies each refresh as a diff, counting what it added, changed and removed', async () => {
    const integrationId = randomUUID();
    const app = row(integrationId, 'database', { name: 'app' });
    const orders = row(integrationId, 'table', { database: 'app', schema: 's', name: 'orders' });
    const old = row(integrationId, 'table', { database: 'app', schema: 's', name: 'old' });
    const analyst = row(integrationId, 'role', { name: 'analyst' });
    expect(await refresh(integrationId, [app, orders, old, analyst])).toEqual({ added: 4, updated: 0, removed: 0, total: 4 });
    const before = await repo.findById(orders.id);

    const fresh = row(integrationId, 'view', { database: 'app', schema: 's', name: 'fresh' });
    expect(await refresh(integrationId, [app, { ...orders, comment: 'now commented' }, analyst, fresh])).toEqual({
      added: 1,
      updated: 1,
      removed: 1,
      total: 4,
    });
    expect((await paths(integrationId)).sort()).toEqual(['analyst', 'app', 'app/s/fresh', 'app/s/orders']);
    const after = await repo.findById(orders.id);
    expect(after).toMatchObject({ comment: 'now commented', discoveredAt: before!.discoveredAt });
    expect(after!.updatedAt.getTime()).toBeGreaterThan(before!.updatedAt.getTime());

    // Unchanged: nothing written, updated_at kept.
    expect(await refresh(integrationId, [app, { ...orders, comment: 'now commented' }, analyst, fresh])).toEqual({
      added: 0,
      updated: 0,
      removed: 0,
      total: 4,
    });
    expect((await repo.findById(orders.id))!.updatedAt).toEqual(after!.updatedAt);
  });

  it('rewrites a role whose reason not to be handed out appeared or went away', async () => {
    const integrationId = randomUUID();
    const ops = row(integrationId, 'role', { name: 'ops' });
    await refresh(integrationId, [ops]);
    const reason = '"ops" is a member of "postgres" (directly), which is a superuser';
    expect(await refresh(integrationId, [{ ...ops, unrequestableReason: reason }])).toEqual({ added: 0, updated: 1, removed: 0, total: 1 });
    expect(await repo.findById(ops.id)).toMatchObject({ unrequestableReason: reason });
    expect(await refresh(integrationId, [ops])).toEqual({ added: 0, updated: 1, removed: 0, total: 1 });
    expect(await repo.findById(ops.id)).toMatchObject({ unrequestableReason: null });
  });

  it('keeps what it could not read in a skipped database, and removes a database that is gone', async () => {
    const integrationId = randomUUID();
    const a = row(integrationId, 'database', { name: 'a' });
    const b = row(integrationId, 'database', { name: 'b' });
    const inA = row(integrationId, 'table', { database: 'a', schema: 'public', name: 't' });
    const inB = row(integrationId, 'schema', { database: 'b', name: 'public' });
    await refresh(integrationId, [a, b, inA, inB]);

    expect(await refresh(integrationId, [a, b], ['a'])).toEqual({ added: 0, updated: 0, removed: 1, total: 3 });
    expect((await paths(integrationId)).sort()).toEqual(['a', 'a/public/t', 'b']);
    // Database a is gone altogether: it and what it held go.
    expect(await refresh(integrationId, [b])).toEqual({ added: 0, updated: 0, removed: 2, total: 1 });
    expect(await paths(integrationId)).toEqual(['b']);
  });

  it('leaves the inventory exactly as it was when a refresh is aborted', async () => {
    const integrationId = randomUUID();
    const kept = row(integrationId, 'table', { database: 'app', schema: 's', name: 'kept' });
    await refresh(integrationId, [kept]);
    const writer = await repo.beginRefresh(integrationId);
    await writer.write([row(integrationId, 'table', { database: 'app', schema: 's', name: 'half-way' })]);
    await writer.abort();
    expect(await paths(integrationId)).toEqual(['app/s/kept']);
  });

  it('runs one refresh of an integration at a time; another integration does not wait', async () => {
    const integrationId = randomUUID();
    const first = await repo.beginRefresh(integrationId);
    let secondStarted = false;
    const second = repo.beginRefresh(integrationId).then((w) => {
      secondStarted = true;
      return w;
    });
    const other = await repo.beginRefresh(randomUUID());
    await other.abort();
    await new Promise((r) => setTimeout(r, 200));
    expect(secondStarted).toBe(false);
    await first.commit({ connectorId: 'local', skippedDatabases: [], ms: 1 });
    await (await second).abort();
    expect(secondStarted).toBe(true);
  });

  it("removes an integration's whole inventory with its API tags, after a running refresh ends", async () => {
    const integrationId = randomUUID();
    const t = row(integrationId, 'table', { database: 'app', schema: 's', name: 't' });
    await refresh(integrationId, [t]);
    expect(await repo.putApiTags(t.id, { owner: 'x' }, audit({ owner: 'x' }))).toBe(true);
    const running = await repo.beginRefresh(integrationId);
    await running.write([t, row(integrationId, 'table', { database: 'app', schema: 's', name: 'written by the running refresh' })]);
    const removal = repo.removeInventory(integrationId);
    await new Promise((r) => setTimeout(r, 100));
    await running.commit({ connectorId: 'local', skippedDatabases: [], ms: 1 });
    expect(await removal).toBe(2);
    expect(await paths(integrationId)).toEqual([]);
    expect(await dataSource.query('SELECT count(*)::int AS n FROM discovery.api_tags WHERE resource_id = $1', [t.id])).toEqual([{ n: 0 }]);
    expect(await repo.inventoried()).not.toContain(integrationId);
  });

  it('tags only an existing resource; an empty set removes the API tags; each change is audited with what it replaced', async () => {
    const integrationId = randomUUID();
    const t = row(integrationId, 'table', { database: 'app', schema: 's', name: 't' });
    await refresh(integrationId, [t]);
    const outbox = async () =>
      (await dataSource.query("SELECT entry FROM discovery.audit_outbox WHERE entry->>'targetId' = $1 ORDER BY created_at", [t.id])).map(
        (r: { entry: unknown }) => r.entry,
      );
    expect(await repo.putApiTags(randomUUID(), { a: 'b' }, audit({ a: 'b' }))).toBe(false);
    expect(await repo.putApiTags(t.id, { a: 'b' }, audit({ a: 'b' }))).toBe(true);
    expect((await repo.findById(t.id))!.apiTags).toEqual({ a: 'b' });
    expect(await repo.putApiTags(t.id, {}, audit({}))).toBe(true);
    expect((await repo.findById(t.id))!.apiTags).toEqual({});
    expect(await outbox()).toEqual([
      { action: 'resource.tags-updated', actor, targetType: 'resource', targetId: t.id, details: { before: {}, after: { a: 'b' } } },
      { action: 'resource.tags-updated', actor, targetType: 'resource', targetId: t.id, details: { before: { a: 'b' }, after: {} } },
    ]);
  });
});

describe('ResourcesRepository: selection by flow targets', () => {
  const integrationId = randomUUID();
  const other = randomUUID();
  const table = (name: string, comment: string | null = null, integration = integrationId) =>
    row(integration, 'table', { database: 'app', schema: 's', name }, comment);
  // In the inventory's order: bytewise.
  const names = ['50%_off', '50x_off', 'back\\slash', 'orders', 'ordersX2024', 'orders_2024', 'tagged', 'untagged', 'état'];
  const selectNames = async (targets: Parameters<ResourcesRepository['page']>[0]['targets']) => (await repo.page({ limit: 500, targets })).map((r) => r.name);

  beforeAll(async () => {
    await refresh(integrationId, [
      ...names.map((n) => table(n)),
      { ...table('managed_role'), managed: true },
      { ...table('escalating_role'), unrequestableReason: 'reaches a superuser' },
    ]);
    await repo.putApiTags(
      resourceId({ integrationId, kind: 'table', database: 'app', schema: 's', name: 'tagged' }),
      { owner: 'data_team' },
      audit({ owner: 'data_team' }),
    );
    await refresh(other, [table('orders', null, other)]);
  });

  it('refreshes the statistics after a refresh that changed many rows: a page of a large new inventory walks the path index', async () => {
    const integrationId = randomUUID();
    const rows = Array.from({ length: 3000 }, (_, i) => row(integrationId, 'table', { database: 'app', schema: `s${i % 30}`, name: `t${i}` }));
    const writer = await repo.beginRefresh(integrationId);
    for (let i = 0; i < rows.length; i += 500) await writer.write(rows.slice(i, i + 500));
    const counts = await writer.commit({ connectorId: 'local', skippedDatabases: [], ms: 1 });
    expect(await repo.refreshStatistics({ added: STATISTICS_AFTER_CHANGES - 1, removed: 0 })).toBe(false);
    expect(await repo.refreshStatistics(counts)).toBe(true);
    const [{ reltuples }] = (await dataSource.query("SELECT reltuples FROM pg_class WHERE oid = 'discovery.resources'::regclass")) as Array<{
      reltuples: number;
    }>;
    expect(reltuples).toBeGreaterThanOrEqual(3000);
    // The portal's page: the integration's rows in path order, the first 50 of them.
    const [{ 'QUERY PLAN': plan }] = (await dataSource.query(
      `EXPLAIN (FORMAT JSON) SELECT r.id FROM discovery.resources r LEFT JOIN discovery.api_tags a ON a.resource_id = r.id
        WHERE r.integration_id = $1 AND r.type = 'postgresql-table' AND NOT r.managed AND r.path LIKE ANY($2::text[]) ORDER BY r.path, r.id LIMIT 50`,
      [integrationId, Array.from({ length: 30 }, (_, i) => `app/s${i}/%`)],
    )) as Array<{ 'QUERY PLAN': unknown }>;
    const text = JSON.stringify(plan);
    expect(text).toContain('resources_integration_path_idx');
    expect(text).not.toContain('"Node Type":"Sort"');
  });

  it('keeps globs literal but for * and ?, case-sensitive like PostgreSQL names', async () => {
    const byName = (...values: string[]) =>
      selectNames([{ integrationId, resourceType: 'postgresql-table', resources: { mode: 'include', by: 'name', values } }]);
    expect(await byName('app/s/50%_off')).toEqual(['50%_off']);
    expect(await byName('app/s/50?_off')).toEqual(['50%_off', '50x_off']);
    expect(await byName('app/s/orders_*')).toEqual(['orders_2024']);
    expect(await byName('app/s/back\\slash')).toEqual(['back\\slash']);
    expect(await byName('app/s/?tat')).toEqual(['état']);
    expect(await byName('app/s/ORDERS')).toEqual([]);
    expect(await byName('*')).toEqual(names);
  });

  it('selects by id and tag, includes and excludes, and never Latchkey-managed or unrequestable rows or other integrations', async () => {
    const tagged = resourceId({ integrationId, kind: 'table', database: 'app', schema: 's', name: 'tagged' });
    const target = (resources?: object) => [{ integrationId, resourceType: 'postgresql-table' as const, ...(resources ? { resources } : {}) }] as never;
    expect(await selectNames(target())).toEqual(names);
    expect(await selectNames(target({ mode: 'include', by: 'id', values: [tagged.toUpperCase()] }))).toEqual(['tagged']);
    expect(await selectNames(target({ mode: 'exclude', by: 'id', values: [tagged] }))).toEqual(names.filter((n) => n !== 'tagged'));
    expect(await selectNames(target({ mode: 'include', by: 'tag', key: 'owner', values: ['data?team'] }))).toEqual(['tagged']);
    expect(await selectNames(target({ mode: 'include', by: 'tag', key: 'owner', values: ['data%'] }))).toEqual([]);
    expect(await selectNames(target({ mode: 'exclude', by: 'tag', key: 'owner', values: ['*'] }))).toEqual(names.filter((n) => n !== 'tagged'));
    expect(await selectNames([{ integrationId, resourceType: 'postgresql-schema' }])).toEqual([]);
    expect(await selectNames([])).toEqual([]);
  });

  it('selects with many flows exactly the union of what each target selects alone (targets of one integration and type share their arrays)', async () => {
    const tagged = resourceId({ integrationId, kind: 'table', database: 'app', schema: 's', name: 'tagged' });
    const on = (resources?: object, integration = integrationId, resourceType = 'postgresql-table') =>
      ({ integrationId: integration, resourceType, ...(resources ? { resources } : {}) }) as never;
    const selectors = [
      on({ mode: 'include', by: 'name', values: ['app/s/50%_off', "app/s/x'; DROP TABLE discovery.resources; --"] }),
      on({ mode: 'include', by: 'name', values: ['app/s/back\\slash', 'app/s/?tat'] }),
      on({ mode: 'include', by: 'name', values: ['app/s/orders_*'] }),
      on({ mode: 'include', by: 'id', values: [tagged.toUpperCase()] }),
      on({ mode: 'include', by: 'tag', key: 'owner', values: ['data?team'] }),
      on({ mode: 'include', by: 'tag', key: "it's", values: ['*'] }),
      on({ mode: 'exclude', by: 'name', values: ['app/s/*'] }),
      on({ mode: 'exclude', by: 'tag', key: 'owner', values: ['data_*'] }),
      on({ mode: 'exclude', by: 'id', values: [tagged] }),
      on(undefined, other),
      on({ mode: 'include', by: 'name', values: ['*'] }, integrationId, 'postgresql-schema'),
    ];
    const ours = async (targets: never[]) => (await repo.page({ limit: 500, targets })).filter((r) => r.integrationId === integrationId).map((r) => r.name);
    const alone = await Promise.all(selectors.map((selector) => ours([selector])));
    const union = (picked: number[]) => names.filter((n) => picked.some((i) => alone[i].includes(n)));
    // Includes only; then with each kind of exclude (an exclude matching everything selects nothing more).
    for (const picked of [
      [0, 1, 2],
      [0, 3, 4, 5],
      [2, 6],
      [1, 7],
      [0, 8],
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [9, 10],
    ]) {
      const rows = await repo.page({ limit: 500, targets: picked.map((i) => selectors[i]) });
      expect({ picked, names: rows.filter((r) => r.integrationId === integrationId).map((r) => r.name) }).toEqual({ picked, names: union(picked) });
      expect(rows.filter((r) => r.integrationId === other).map((r) => r.name)).toEqual(picked.includes(9) ? ['orders'] : []);
    }
    // The same target twice, and a flow that offers everything beside others, change nothing.
    expect(await selectNames([selectors[2], selectors[2]])).toEqual(['orders_2024']);
    expect(await selectNames([selectors[2], on(), selectors[7]])).toEqual(names);
  });
});
