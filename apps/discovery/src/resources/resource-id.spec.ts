import { createHash } from 'node:crypto';
import { z } from 'zod';
import { resourceId, resourcePath } from './resource-id';

const integrationId = '3b241101-e2bb-4255-8caf-4136c566a962';

describe('resourceId', () => {
  it('is a version 5 UUID, the same for the same object every time', () => {
    const key = { integrationId, kind: 'table' as const, database: 'app', schema: 'billing', name: 'invoices' };
    const id = resourceId(key);
    expect(z.string().uuid().safeParse(id).success).toBe(true);
    expect(id[14]).toBe('5');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
    expect(resourceId({ ...key })).toBe(id);
  });

  it('follows RFC 9562: SHA-1 of namespace and name, version and variant set', () => {
    const namespace = Buffer.from('6f1c2a3e9b7d4e0a8c5f1d2e3b4a5c6d', 'hex');
    const digest = createHash('sha1')
      .update(Buffer.concat([namespace, Buffer.from(`${integrationId}\0database\0\0\0app`)]))
      .digest('hex');
    const expected = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-${((parseInt(digest.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${digest.slice(18, 20)}-${digest.slice(20, 32)}`;
    expect(resourceId({ integrationId, kind: 'database', name: 'app' })).toBe(expected);
  });

  it('differs by integration, kind and every part, including where the parts split', () => {
    const base = { integrationId, kind: 'table' as const, database: 'a', schema: 'b', name: 'c' };
    const ids = new Set([
      resourceId(base),
      resourceId({ ...base, integrationId: '00000000-0000-4000-8000-000000000000' }),
      resourceId({ ...base, kind: 'view' }),
      resourceId({ ...base, database: 'a2' }),
      resourceId({ ...base, schema: 'b2' }),
      resourceId({ ...base, name: 'C' }),
      resourceId({ ...base, database: 'a/b', schema: '', name: 'c' }),
      resourceId({ ...base, database: 'a', schema: 'b/c', name: '' }),
    ]);
    expect(ids.size).toBe(8);
  });
});

describe('resourcePath', () => {
  it('joins the parts exactly as named', () => {
    expect(resourcePath({ database: 'db "q"', schema: 'sché ma', name: 't/1' })).toBe('db "q"/sché ma/t/1');
    expect(resourcePath({ database: 'app', name: 'public' })).toBe('app/public');
    expect(resourcePath({ name: 'role "r"' })).toBe('role "r"');
  });
});
