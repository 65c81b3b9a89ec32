import type { Resource } from '@latchkey/contracts';
import { RecentResources, RESOURCE_REUSE_MS } from './recent-resources';

const resource = (id: string, integrationId: string, tags: Record<string, string> = {}): Resource => ({
  id,
  integrationId,
  type: 'postgresql-table',
  kind: 'table',
  path: `shop/sales/${id}`,
  parts: { database: 'shop', schema: 'sales', name: id },
  owner: null,
  comment: null,
  tags,
  apiTags: tags,
  permissions: ['READ_ONLY'],
  managed: false,
  unrequestableReason: null,
  discoveredAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});

/** Discovery as the cache sees it: counts its reads, answers the resource as it now is. */
function discovery() {
  const current = new Map<string, Resource>();
  let reads = 0;
  return {
    set: (r: Resource) => current.set(r.id, r),
    read: (id: string) => async () => {
      reads += 1;
      const r = current.get(id);
      if (!r) throw new Error(`no resource ${id}`);
      return r;
    },
    reads: () => reads,
  };
}

describe('RecentResources', () => {
  it('reuses a read for RESOURCE_REUSE_MS, then reads again', async () => {
    let now = 1_000;
    const cache = new RecentResources(() => now);
    const d = discovery();
    d.set(resource('orders', 'i1'));
    await cache.get('orders', d.read('orders'));
    now += RESOURCE_REUSE_MS - 1;
    await cache.get('orders', d.read('orders'));
    expect(d.reads()).toBe(1);
    now += 1;
    d.set(resource('orders', 'i1', { owner: 'finance' }));
    expect((await cache.get('orders', d.read('orders'))).tags).toEqual({ owner: 'finance' });
    expect(d.reads()).toBe(2);
  });

  it('reads a resource afresh once its tags or its integration are announced changed, and only those', async () => {
    const cache = new RecentResources(() => 0);
    const d = discovery();
    d.set(resource('orders', 'i1'));
    d.set(resource('invoices', 'i1'));
    d.set(resource('people', 'i2'));
    for (const id of ['orders', 'invoices', 'people']) await cache.get(id, d.read(id));
    expect(d.reads()).toBe(3);

    d.set(resource('orders', 'i1', { owner: 'finance' }));
    cache.forget('orders');
    expect((await cache.get('orders', d.read('orders'))).tags).toEqual({ owner: 'finance' });
    expect(d.reads()).toBe(4);

    cache.forgetIntegration('i1');
    for (const id of ['orders', 'invoices', 'people']) await cache.get(id, d.read(id));
    expect(d.reads()).toBe(6);
  });

  it('keeps no failed read, nor a read answered after its integration was announced changed', async () => {
    const cache = new RecentResources(() => 0);
    const d = discovery();
    await expect(cache.get('gone', d.read('gone'))).rejects.toThrow('no resource gone');
    d.set(resource('gone', 'i1'));
    await cache.get('gone', d.read('gone'));
    expect(d.reads()).toBe(2);

    let answer: (r: Resource) => void = () => undefined;
    const inFlight = cache.get('late', () => new Promise<Resource>((resolve) => (answer = resolve)));
    cache.forgetIntegration('i1');
    answer(resource('late', 'i1'));
    await inFlight;
    d.set(resource('late', 'i1', { owner: 'ops' }));
    expect((await cache.get('late', d.read('late'))).tags).toEqual({ owner: 'ops' });
  });
});
