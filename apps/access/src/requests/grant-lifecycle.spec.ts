import { idempotencyKeyOf, requestIdOf } from './grant-lifecycle.service';

describe('requestIdOf', () => {
  it('reads back the request of a grant made for one, and nothing from other keys', () => {
    const id = '0b7c9a52-3f1e-4d7a-9c1e-2a6f0e8d4b11';
    expect(requestIdOf(idempotencyKeyOf(id))).toBe(id);
    expect(requestIdOf('key-1234')).toBeUndefined();
    expect(requestIdOf(`access-request-${id}-x`)).toBeUndefined();
    expect(requestIdOf(`x-access-request-${id}`)).toBeUndefined();
  });
});
