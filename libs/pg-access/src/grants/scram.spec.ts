import { createHash, createHmac } from 'node:crypto';
import { generatePassword, scramVerifier, scramVerifierAsync } from './scram';

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

describe('generatePassword', () => {
  it('gives 256 random bits as base64url', () => {
    const password = generatePassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generatePassword()).not.toBe(password);
  });
});
