import { randomBytes } from 'node:crypto';
import { EncryptedEnvelope } from '@latchkey/contracts';
import { KEY_BYTES, decodeBase64, open, seal } from './aes-gcm';
import { MasterKey } from './master-key';
import { SecretDecryptionError, SecretsErrorCode } from './secrets.exception';

export interface Credentials {
  username: string;
  password: string;
}

interface Header {
  v: EncryptedEnvelope['v'];
  alg: EncryptedEnvelope['alg'];
  kid: string;
}

// Associated data binds the header (and, for the secret, the wrapped key) to each ciphertext, so
// a field swapped between envelopes or edited in place fails authentication. JSON keeps it unambiguous.
const dataKeyAad = (h: Header): Buffer => Buffer.from(JSON.stringify(['latchkey/data-key', h.v, h.alg, h.kid]));
const secretAad = (h: Header, wrappedKey: string): Buffer => Buffer.from(JSON.stringify(['latchkey/secret', h.v, h.alg, h.kid, wrappedKey]));

/** Seals credentials under a fresh data key, itself wrapped by the master key's encrypting key. */
export function encryptSecret(plain: Credentials, key: MasterKey): EncryptedEnvelope {
  const header: Header = { v: 1, alg: 'AES-256-GCM', kid: key.kid };
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const wrappedKey = key.wrap(dataKey, dataKeyAad(header));
    const plaintext = Buffer.from(JSON.stringify({ username: plain.username, password: plain.password }), 'utf8');
    const { iv, tag, ciphertext } = seal(dataKey, plaintext, secretAad(header, wrappedKey));
    return {
      ...header,
      wrappedKey,
      iv: iv.toString('base64'),
      tag: tag.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Opens an envelope; any alteration, or a master key that does not hold its kid, throws SecretDecryptionError. */
export function decryptSecret(envelope: EncryptedEnvelope, key: MasterKey): Credentials {
  // Envelopes come back from storage as JSON, so their shape is checked, not trusted.
  const parsed = EncryptedEnvelope.safeParse(envelope);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(envelope)'))];
    throw new SecretDecryptionError(SecretsErrorCode.EnvelopeInvalid, `The secret envelope is malformed (check: ${fields.join(', ')}).`);
  }
  const { wrappedKey, ...rest } = parsed.data;
  const dataKey = key.unwrap(rest.kid, wrappedKey, dataKeyAad(rest));
  try {
    const iv = decodeBase64(rest.iv);
    const tag = decodeBase64(rest.tag);
    const ciphertext = decodeBase64(rest.ciphertext);
    const plaintext = iv && tag && ciphertext ? open(dataKey, { iv, tag, ciphertext }, secretAad(rest, wrappedKey)) : null;
    const credentials = plaintext === null ? null : parseCredentials(plaintext);
    if (credentials === null) {
      throw new SecretDecryptionError(SecretsErrorCode.DecryptionFailed, 'The secret could not be decrypted: its envelope was altered or is corrupt.');
    }
    return credentials;
  } finally {
    dataKey.fill(0);
  }
}

/**
 * For master key rotation: the same credentials sealed under the encrypting key. An envelope
 * already under it comes back unchanged, but is verified all the same.
 */
export function reencryptSecret(envelope: EncryptedEnvelope, key: MasterKey): EncryptedEnvelope {
  const plain = decryptSecret(envelope, key);
  return envelope.kid === key.kid ? envelope : encryptSecret(plain, key);
}

function parseCredentials(plaintext: Buffer): Credentials | null {
  try {
    const value: unknown = JSON.parse(plaintext.toString('utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { username, password } = value as Record<string, unknown>;
    return typeof username === 'string' && typeof password === 'string' ? { username, password } : null;
  } catch {
    return null;
  }
}
