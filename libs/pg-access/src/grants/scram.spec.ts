import { createHash, createHmac } from 'node:crypto';
import {
  GENERATED_PASSWORD_ITERATIONS,
  generatePassword,
  INLINE_DERIVATION_MAX_ITERATIONS,
  personalRoleVerifier,
  scramVerifier,
  scramVerifierAsync,
} from './scram';

// RFC 7677, section 3: user "user", password "pencil".
const RFC = {
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinalWithoutProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

describe('scramVerifier', () => {
  it('verifies the RFC 7677 exchange the way a server does', () => {
    const verifier = scramVerifier('pencil', { salt: Buffer.from(RFC.salt, 'base64'), iterations: 4096 });
    const match = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier);
    expect(match?.[1]).toBe(RFC.salt);
    const storedKey = Buffer.from(match![2]!, 'base64');
    const serverKey = Buffer.from(match![3]!, 'base64');
    const authMessage = [RFC.clientFirstBare, RFC.serverFirst, RFC.clientFinalWithoutProof].join(',');

    expect(createHmac('sha256', serverKey).update(authMessage).digest('base64')).toBe(RFC.serverSignature);
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(RFC.proof, 'base64');
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]!));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
  });

  it('salts each verifier afresh with 16 bytes', () => {
    const a = scramVerifier('same');
    expect(a).not.toBe(scramVerifier('same'));
    expect(Buffer.from(a.split(/[:$]/)[2]!, 'base64')).toHaveLength(16);
  });

  it('refuses what PostgreSQL would SASLprep, and empty passwords', () => {
    expect(() => scramVerifier('pässword')).toThrow('ASCII');
    expect(() => scramVerifier('')).toThrow('non-empty');
    expect(() => scramVerifier('a\0b')).toThrow('NUL');
  });
});

describe('scramVerifierAsync', () => {
  it('gives the verifier scramVerifier gives for the same salt', async () => {
    const salt = Buffer.from(RFC.salt, 'base64');
    await expect(scramVerifierAsync('pencil', { salt, iterations: 4096 })).resolves.toBe(scramVerifier('pencil', { salt, iterations: 4096 }));
  });

  it('salts afresh and refuses what scramVerifier refuses', async () => {
    const a = await scramVerifierAsync('same');
    expect(a).not.toBe(await scramVerifierAsync('same'));
    await expect(scramVerifierAsync('pässword')).rejects.toThrow('ASCII');
    await expect(scramVerifierAsync('')).rejects.toThrow('non-empty');
  });
});

describe('personalRoleVerifier', () => {
  /**
   * Whether the verifier was already derived when the call returned (the event loop held for it):
   * a derivation on the thread pool can only come back in a later turn of the loop, never while
   * the promise jobs queued now run.
   */
  async function derivedInline(iterations?: number): Promise<{ verifier: string; inline: boolean }> {
    let settled = false;
    const deriving = personalRoleVerifier(generatePassword(), iterations);
    void deriving.then(() => (settled = true));
    await Promise.resolve();
    const inline = settled;
    return { verifier: await deriving, inline };
  }

  it("derives a personal role's verifier with GENERATED_PASSWORD_ITERATIONS unless told otherwise", async () => {
    expect((await derivedInline()).verifier.startsWith(`SCRAM-SHA-256$${GENERATED_PASSWORD_ITERATIONS}:`)).toBe(true);
    expect((await derivedInline(1000)).verifier.startsWith('SCRAM-SHA-256$1000:')).toBe(true);
  });

  it('derives a small count at once and a large one off the event loop', async () => {
    expect((await derivedInline(INLINE_DERIVATION_MAX_ITERATIONS)).inline).toBe(true);
    const large = await derivedInline(INLINE_DERIVATION_MAX_ITERATIONS + 1);
    expect(large.inline).toBe(false);
    expect(large.verifier.startsWith(`SCRAM-SHA-256$${INLINE_DERIVATION_MAX_ITERATIONS + 1}:`)).toBe(true);
  });

  it('rejects what scramVerifier refuses, at either count', async () => {
    await expect(personalRoleVerifier('pässword')).rejects.toThrow('ASCII');
    await expect(personalRoleVerifier('', 100_000)).rejects.toThrow('non-empty');
  });
});

describe('generatePassword', () => {
  it('gives 256 random bits as base64url', () => {
    const password = generatePassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generatePassword()).not.toBe(password);
  });
});
