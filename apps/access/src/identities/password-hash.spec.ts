import { hashPassword, needsRehash, SCRYPT_PARAMS, verifyPassword } from './password-hash';

// Small parameters where the cost is not what a test checks: the format and the comparison are.
const FAST = { ln: 10, r: 8, p: 1 };

describe('password hashes (scrypt)', () => {
  it('stores the parameters and a fresh salt with each hash, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery staple', FAST);
    const b = await hashPassword('correct horse battery staple', FAST);
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('hashes with the tuned parameters by default: 32 MiB, OWASP-equivalent', async () => {
    expect(SCRYPT_PARAMS).toEqual({ ln: 15, r: 8, p: 3 });
    expect(128 * 2 ** SCRYPT_PARAMS.ln * SCRYPT_PARAMS.r).toBe(32 * 1024 * 1024);
    const hash = await hashPassword('a long enough password');
    expect(hash.startsWith('$scrypt$ln=15,r=8,p=3$')).toBe(true);
    expect(await verifyPassword('a long enough password', hash)).toBe(true);
  });

  it('treats canonically equal unicode passwords alike (NFC)', async () => {
    const composed = 'caf\u00e9 au lait pour deux';
    const decomposed = 'cafe\u0301 au lait pour deux';
    expect(await verifyPassword(decomposed, await hashPassword(composed, FAST))).toBe(true);
  });

  it('verifies hashes made with older parameters, and says they need re-hashing', async () => {
    const old = await hashPassword('rotated parameters', FAST);
    expect(await verifyPassword('rotated parameters', old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash(old, FAST)).toBe(false);
  });

  it('refuses malformed hashes and parameters outside sane bounds without running them', async () => {
    for (const stored of ['', 'plain', '$scrypt$ln=15,r=8,p=3$c2FsdA$', '$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5', '$sha256$abc']) {
      expect(await verifyPassword('anything', stored)).toBe(false);
      expect(needsRehash(stored)).toBe(true);
    }
  });
});
