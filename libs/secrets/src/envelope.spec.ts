import { randomBytes } from 'node:crypto';
import type { EncryptedEnvelope } from '@latchkey/contracts';
import { decryptSecret, encryptSecret, reencryptSecret } from './envelope';
import { MasterKey } from './master-key';
import { SecretDecryptionError, SecretsErrorCode } from './secrets.exception';

const plain = { username: 'latchkey_connector', password: 'Tr0ub4dor&3-correct-horse-battery-staple' };
const key = new MasterKey([randomBytes(32)]);

function decryptError(envelope: EncryptedEnvelope, masterKey = key): SecretDecryptionError {
  try {
    decryptSecret(envelope, masterKey);
  } catch (error) {
    expect(error).toBeInstanceOf(SecretDecryptionError);
    const { message } = error as SecretDecryptionError;
    expect(message).not.toContain(plain.password);
    expect(message).not.toContain(plain.username);
    return error as SecretDecryptionError;
  }
  throw new Error('decryptSecret accepted the envelope');
}

/** Flips one bit of a base64 value's decoded bytes. */
function flip(value: string, byte = 0): string {
  const bytes = Buffer.from(value, 'base64');
  bytes[byte] ^= 0x01;
  return bytes.toString('base64');
}

describe('encryptSecret / decryptSecret', () => {
  it('round-trips credentials, unicode included', () => {
    expect(decryptSecret(encryptSecret(plain, key), key)).toEqual(plain);
    const unicode = { username: 'ünïcødé', password: 'пароль 🔑 "quoted" \\ ' };
    expect(decryptSecret(encryptSecret(unicode, key), key)).toEqual(unicode);
  });

  it('produces the documented envelope shape under the encrypting kid', () => {
    const envelope = encryptSecret(plain, key);
    expect(envelope).toEqual({
      v: 1,
      alg: 'AES-256-GCM',
      kid: key.kid,
      wrappedKey: expect.stringMatching(/^[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/),
      iv: expect.any(String),
      tag: expect.any(String),
      ciphertext: expect.any(String),
    });
    expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(envelope.tag, 'base64')).toHaveLength(16);
  });

  it('never encrypts the same secret twice the same way', () => {
    const a = encryptSecret(plain, key);
    const b = encryptSecret(plain, key);
    for (const field of ['wrappedKey', 'iv', 'tag', 'ciphertext'] as const) expect(a[field]).not.toBe(b[field]);
  });

  it('leaves no trace of the credentials in the envelope, in any encoding', () => {
    const envelope = encryptSecret(plain, key);
    const json = JSON.stringify(envelope);
    const password = Buffer.from(plain.password);
    // base64 of the password at each of the three possible alignments within the plaintext
    for (let pad = 0; pad < 3; pad += 1) {
      const encoded = Buffer.concat([Buffer.alloc(pad), password])
        .toString('base64')
        .slice(4, -4);
      expect(json).not.toContain(encoded);
    }
    for (const text of [plain.password, plain.username, password.toString('hex')]) expect(json).not.toContain(text);
    const raw = [envelope.iv, envelope.tag, envelope.ciphertext, ...envelope.wrappedKey.split('.')].map((part) => Buffer.from(part, 'base64'));
    for (const bytes of raw) expect(bytes.includes(password)).toBe(false);
  });

  describe('rejects an envelope altered in any field', () => {
    const envelope = encryptSecret(plain, key);
    const [wrapIv, wrapTag, wrapCiphertext] = envelope.wrappedKey.split('.');
    const other = encryptSecret(plain, key);

    it.each<[string, Record<string, unknown>, string]>([
      ['v', { v: 2 }, SecretsErrorCode.EnvelopeInvalid],
      ['alg', { alg: 'AES-128-GCM' }, SecretsErrorCode.EnvelopeInvalid],
      ['kid', { kid: `${envelope.kid.slice(0, -1)}${envelope.kid.endsWith('0') ? '1' : '0'}` }, SecretsErrorCode.EnvelopeKeyUnknown],
      ['wrappedKey iv', { wrappedKey: [flip(wrapIv), wrapTag, wrapCiphertext].join('.') }, SecretsErrorCode.DecryptionFailed],
      ['wrappedKey tag', { wrappedKey: [wrapIv, flip(wrapTag, 15), wrapCiphertext].join('.') }, SecretsErrorCode.DecryptionFailed],
      ['wrappedKey ciphertext', { wrappedKey: [wrapIv, wrapTag, flip(wrapCiphertext, 31)].join('.') }, SecretsErrorCode.DecryptionFailed],
      ['wrappedKey shape', { wrappedKey: [wrapIv, wrapTag].join('.') }, SecretsErrorCode.DecryptionFailed],
      ['iv', { iv: flip(envelope.iv, 11) }, SecretsErrorCode.DecryptionFailed],
      ['tag', { tag: flip(envelope.tag, 7) }, SecretsErrorCode.DecryptionFailed],
      ['ciphertext', { ciphertext: flip(envelope.ciphertext, 20) }, SecretsErrorCode.DecryptionFailed],
      ['ciphertext, truncated', { ciphertext: Buffer.from(envelope.ciphertext, 'base64').subarray(1).toString('base64') }, SecretsErrorCode.DecryptionFailed],
      ['tag, truncated to 12 bytes', { tag: Buffer.from(envelope.tag, 'base64').subarray(0, 12).toString('base64') }, SecretsErrorCode.DecryptionFailed],
      ['wrappedKey, swapped with another envelope', { wrappedKey: other.wrappedKey }, SecretsErrorCode.DecryptionFailed],
      ['iv, swapped with another envelope', { iv: other.iv }, SecretsErrorCode.DecryptionFailed],
      ['ciphertext and tag, swapped with another envelope', { ciphertext: other.ciphertext, tag: other.tag }, SecretsErrorCode.DecryptionFailed],
      ['field missing', { ciphertext: undefined }, SecretsErrorCode.EnvelopeInvalid],
    ])('%s', (_, change, code) => {
      const altered = { ...envelope, ...change } as EncryptedEnvelope;
      expect(decryptError(altered).code).toBe(code);
    });

    it('even in bits base64 decoding would ignore', () => {
      // a 16-byte tag ends in "X==": X carries 4 bits that Buffer.from() would silently drop
      const lastChar = envelope.tag.at(-3)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const sibling = alphabet[alphabet.indexOf(lastChar) ^ 0x01];
      const tag = `${envelope.tag.slice(0, -3)}${sibling}==`;
      expect(Buffer.from(tag, 'base64').equals(Buffer.from(envelope.tag, 'base64'))).toBe(true);
      expect(decryptError({ ...envelope, tag }).code).toBe(SecretsErrorCode.DecryptionFailed);
      expect(decryptError({ ...envelope, iv: `${envelope.iv}!` }).code).toBe(SecretsErrorCode.DecryptionFailed);
    });

    it('and the untouched envelope still opens', () => {
      expect(decryptSecret(envelope, key)).toEqual(plain);
    });
  });

  it('refuses a master key that did not seal the envelope, naming the kid it needs', () => {
    const envelope = encryptSecret(plain, key);
    const stranger = new MasterKey([randomBytes(32)]);
    const error = decryptError(envelope, stranger);
    expect(error.code).toBe(SecretsErrorCode.EnvelopeKeyUnknown);
    expect(error.message).toContain(key.kid);
    // relabelled to the stranger's kid, it reaches the key and fails authentication
    expect(decryptError({ ...envelope, kid: stranger.kid }, stranger).code).toBe(SecretsErrorCode.DecryptionFailed);
  });
});

describe('master key rotation', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const before = new MasterKey([oldKey]);
  const during = new MasterKey([newKey, oldKey]);
  const after = new MasterKey([newKey]);

  it('a keyring opens envelopes of an older kid and seals new ones under the first key', () => {
    const old = encryptSecret(plain, before);
    expect(decryptSecret(old, during)).toEqual(plain);
    expect(encryptSecret(plain, during).kid).toBe(after.kid);
    expect(decryptSecret(encryptSecret(plain, during), after)).toEqual(plain);
  });

  it('reencryptSecret moves an envelope to the encrypting key', () => {
    const old = encryptSecret(plain, before);
    const moved = reencryptSecret(old, during);
    expect(moved.kid).toBe(after.kid);
    expect(decryptSecret(moved, after)).toEqual(plain);
    expect(reencryptSecret(moved, during)).toBe(moved);
    expect(() => reencryptSecret({ ...moved, tag: flip(moved.tag) }, during)).toThrow(SecretDecryptionError);
  });
});
