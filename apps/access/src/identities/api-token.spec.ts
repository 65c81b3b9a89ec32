import { generateToken, hashToken } from './api-token';

describe('API tokens', () => {
  it('are lk_ and 32 random bytes in base64url, never twice the same', () => {
    const a = generateToken();
    expect(a).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice(3), 'base64url')).toHaveLength(32);
    expect(generateToken()).not.toBe(a);
  });

  it('are kept as their SHA-256 in hex', () => {
    expect(hashToken('lk_example')).toBe('2e5d2ec566c26a71970dea1985e0f5bbd98747206389b088c2ed47dacc855b5c');
    expect(hashToken('lk_example')).not.toBe(hashToken('lk_examplf'));
  });
});
