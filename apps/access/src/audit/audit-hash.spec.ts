import { canonicalEntry, canonicalJson, entryHash, GENESIS_HASH, toJsonValue } from './audit-hash';
import type { HashedEntry } from './audit-hash';

const entry: HashedEntry = {
  seq: 7,
  at: new Date('2025-03-04T05:06:07.089Z'),
  action: 'integration.updated',
  actor: { type: 'user', id: 'u1', email: 'a@example.com' },
  targetType: 'integration',
  targetId: 'i1',
  targetName: 'orders',
  diff: { port: { before: 5432, after: 6432 } },
  details: { b: 1, a: [1, { d: 2, c: 3 }] },
  sourceId: null,
  prevHash: GENESIS_HASH,
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { z: [3, 1], y: null } })).toBe('{"a":{"y":null,"z":[3,1]},"b":1}');
  });

  it('gives the same text whatever order the keys come in', () => {
    expect(canonicalJson({ x: 1, y: { q: 'a', p: 'b' } })).toBe(canonicalJson({ y: { p: 'b', q: 'a' }, x: 1 }));
  });

  it('leaves out undefined members as JSON does, and writes undefined array items as null', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1] })).toBe('{"b":[null,1]}');
  });

  it('escapes strings as JSON', () => {
    expect(canonicalJson({ 'k"': 'line\nbreak "quoted" é' })).toBe('{"k\\"":"line\\nbreak \\"quoted\\" é"}');
  });
});

describe('canonicalEntry and entryHash', () => {
  it('serializes every hashed field in a fixed shape, the time as UTC ISO 8601 with milliseconds', () => {
    expect(canonicalEntry(entry)).toBe(
      '{"action":"integration.updated","actor":{"email":"a@example.com","id":"u1","type":"user"},"at":"2025-03-04T05:06:07.089Z",' +
        '"details":{"a":[1,{"c":3,"d":2}],"b":1},"diff":{"port":{"after":6432,"before":5432}},"prevHash":"' +
        GENESIS_HASH +
        '","seq":7,"sourceId":null,"target":{"id":"i1","name":"orders","type":"integration"},"v":1}',
    );
  });

  it('is a SHA-256 hex digest that changes with any field, including the previous hash', () => {
    const hash = entryHash(entry);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(entryHash({ ...entry, details: { a: [1, { c: 3, d: 2 }], b: 1 } })).toBe(hash);
    for (const changed of [
      { seq: 8 },
      { at: new Date(entry.at.getTime() + 1) },
      { action: 'integration.deleted' },
      { targetName: null },
      { diff: null },
      { sourceId: 's' },
      { prevHash: 'f'.repeat(64) },
      { actor: { type: 'user' as const, id: 'u1' } },
    ]) {
      expect(entryHash({ ...entry, ...changed })).not.toBe(hash);
    }
  });

  it('does not confuse a missing email with an empty one', () => {
    expect(entryHash({ ...entry, actor: { type: 'user', id: 'u1' } })).not.toBe(entryHash({ ...entry, actor: { type: 'user', id: 'u1', email: '' } }));
  });
});

describe('toJsonValue', () => {
  it('turns a value into what a jsonb column gives back', () => {
    expect(toJsonValue({ at: new Date('2025-01-01T00:00:00Z'), gone: undefined, list: [undefined], n: 1 })).toEqual({
      at: '2025-01-01T00:00:00.000Z',
      list: [null],
      n: 1,
    });
  });

  it('replaces NUL and lone surrogates, which PostgreSQL cannot store, and keeps valid pairs', () => {
    expect(toJsonValue({ 'a\u0000': 'x\uD800y\uDC00z😀' })).toEqual({ 'a\uFFFD': 'x\uFFFDy\uFFFDz😀' });
  });
});

describe('an impersonated actor', () => {
  it('is covered by the hash, and entries without one hash as before', () => {
    const impersonated = { ...entry, actor: { ...entry.actor, impersonatedBy: { id: 'admin-1', email: 'root@example.com' } } };
    expect(canonicalEntry(impersonated)).toContain(
      '"actor":{"email":"a@example.com","id":"u1","impersonatedBy":{"email":"root@example.com","id":"admin-1"},"type":"user"}',
    );
    expect(entryHash(impersonated)).not.toBe(entryHash(entry));
    expect(canonicalEntry(entry)).toContain('"actor":{"email":"a@example.com","id":"u1","type":"user"}');
  });
});

describe("an actor's source", () => {
  it('is covered by the hash, and entries without one hash as before', () => {
    const fromCli = { ...entry, actor: { ...entry.actor, source: 'cli' as const } };
    expect(canonicalEntry(fromCli)).toContain('"actor":{"email":"a@example.com","id":"u1","source":"cli","type":"user"}');
    expect(entryHash(fromCli)).not.toBe(entryHash(entry));
  });
});
