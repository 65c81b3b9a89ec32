import type { StoredResource, ResourceFilter } from './resources.repository';
import { ResourcesService, type ResourceRows } from './resources.service';

const stored = (overrides: Partial<StoredResource> = {}): StoredResource => ({
  id: '6f1c2a3e-9b7d-5e0a-8c5f-1d2e3b4a5c6d',
  integrationId: '3b241101-e2bb-4255-8caf-4136c566a962',
  kind: 'table',
  type: 'postgresql-table',
  database: 'app',
  schema: 'billing',
  name: 'invoices',
  path: 'app/billing/invoices',
  owner: 'app',
  comment: 'latchkey:owner=payments\nlatchkey:pii=true',
  commentTags: { owner: 'payments', pii: 'true' },
  apiTags: { owner: 'payments-oncall' },
  managed: false,
  unrequestableReason: null,
  discoveredAt: new Date('2025-01-01T00:00:00Z'),
  updatedAt: new Date('2025-01-02T00:00:00Z'),
  ...overrides,
});

function setup(rows: StoredResource[]) {
  const repo = {
    page: jest.fn(async (filter: ResourceFilter) => rows.slice(0, filter.limit)),
    findById: jest.fn(async (id: string) => rows.find((r) => r.id === id) ?? null),
    putApiTags: jest.fn(async (id: string) => rows.some((r) => r.id === id)),
  } satisfies ResourceRows;
  return { service: new ResourcesService(repo), repo };
}

const query = { pageSize: 2 };

describe('ResourcesService', () => {
  it('shows effective tags (API over comment), permissions from the type, parts as stored', async () => {
    const { service } = setup([stored()]);
    const { items } = await service.list(query);
    expect(items).toEqual([
      expect.objectContaining({
        parts: { database: 'app', schema: 'billing', name: 'invoices' },
        tags: { owner: 'payments-oncall', pii: 'true' },
        apiTags: { owner: 'payments-oncall' },
        permissions: ['READ_ONLY', 'READ_WRITE', 'ADMIN'],
        discoveredAt: '2025-01-01T00:00:00.000Z',
      }),
    ]);
  });

  it("hands out no permission on Latchkey's own roles or on roles with a reason not to, MEMBER on others", async () => {
    const role = { kind: 'role' as const, type: 'postgresql-role' as const, database: null, schema: null };
    const reason = '"ops" is a member of "postgres" (directly), which is a superuser';
    const { service } = setup([
      stored({
        ...role,
        id: '00000000-0000-5000-8000-000000000001',
        name: 'lk_alice',
        path: 'lk_alice',
        managed: true,
        unrequestableReason: '"lk_alice" is one of Latchkey\'s own roles',
      }),
      stored({ ...role, id: '00000000-0000-5000-8000-000000000002', name: 'analyst', path: 'analyst' }),
      stored({ ...role, id: '00000000-0000-5000-8000-000000000003', name: 'ops', path: 'ops', unrequestableReason: reason }),
    ]);
    const { items } = await service.list({ pageSize: 3 });
    expect(items.map((r) => [r.parts, r.permissions, r.unrequestableReason])).toEqual([
      [{ name: 'lk_alice' }, [], '"lk_alice" is one of Latchkey\'s own roles'],
      [{ name: 'analyst' }, ['MEMBER'], null],
      [{ name: 'ops' }, [], reason],
    ]);
  });

  it('pages with a token holding the last path and id, and splits a tag filter at the first =', async () => {
    const rows = [
      stored({ id: '00000000-0000-5000-8000-000000000001', path: 'a' }),
      stored({ id: '00000000-0000-5000-8000-000000000002', path: 'b' }),
      stored({ id: '00000000-0000-5000-8000-000000000003', path: 'c' }),
    ];
    const { service, repo } = setup(rows);
    const first = await service.list({ pageSize: 2, tag: 'query=a=b', q: '' });
    expect(first.items.map((r) => r.path)).toEqual(['a', 'b']);
    expect(repo.page).toHaveBeenCalledWith(expect.objectContaining({ tagKey: 'query', tagValue: 'a=b', q: undefined, limit: 3, after: undefined }));
    await service.list({ pageSize: 2, pageToken: first.nextPageToken, tag: 'owner' });
    expect(repo.page).toHaveBeenLastCalledWith(
      expect.objectContaining({ after: { path: 'b', id: '00000000-0000-5000-8000-000000000002' }, tagKey: 'owner', tagValue: undefined }),
    );
    expect((await service.list({ pageSize: 3 })).nextPageToken).toBeUndefined();
  });

  it('refuses a page token it did not give out, naming the field', async () => {
    const { service } = setup([]);
    for (const pageToken of ['not-a-token', Buffer.from(JSON.stringify({ path: 'a', id: 'x' })).toString('base64url')]) {
      await expect(service.list({ pageSize: 2, pageToken })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [{ field: 'pageToken' }] },
      });
    }
  });

  it('answers NOT_FOUND for an unknown resource, on read and on tagging', async () => {
    const { service } = setup([]);
    await expect(service.get('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.putTags('00000000-0000-4000-8000-000000000000', { a: 'b' }, { type: 'user', id: 'u-1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
