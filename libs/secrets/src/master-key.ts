import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KEY_BYTES, decodeBase64, open, seal } from './aes-gcm';
import { MasterKeyError, SecretDecryptionError, SecretsErrorCode } from './secrets.exception';

export const MASTER_KEY_ENV = 'LATCHKEY_MASTER_KEY';
export const MASTER_KEY_FILE_ENV = 'LATCHKEY_MASTER_KEY_FILE';

const HOW_TO =
  `Set ${MASTER_KEY_ENV} to 32 random bytes as base64 (44 characters) or hex (64 characters), ` +
  `or ${MASTER_KEY_FILE_ENV} to the path of a file holding one. Create one with: openssl rand -base64 32. ` +
  `To rotate, put the new key first and keep the old ones after it, comma-separated. ` +
  `Keep the key safe and stable: secrets stored under it cannot be read without it.`;

/**
 * The master keyring. The first key wraps new data keys; every key unwraps, chosen by the kid an
 * envelope names, so old envelopes stay readable while a rotation is rolled out.
 */
export class MasterKey {
  /** Fingerprint of the key that encrypts. */
  readonly kid: string;
  /** Fingerprints of every key that decrypts, the encrypting one first. */
  readonly kids: readonly string[];
  // A private field keeps key bytes out of JSON.stringify, util.inspect and object spreads.
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) {
      throw new MasterKeyError(SecretsErrorCode.MasterKeyMissing, `A master keyring needs at least one key. ${HOW_TO}`);
    }
    const ring = new Map<string, Buffer>();
    for (const key of keys) {
      if (key.length !== KEY_BYTES) {
        throw new MasterKeyError(SecretsErrorCode.MasterKeyInvalid, `A master key must be ${KEY_BYTES} bytes, got ${key.length}. ${HOW_TO}`);
      }
      const copy = Buffer.from(key);
      const kid = fingerprint(copy);
      if (!ring.has(kid)) ring.set(kid, copy);
    }
    this.#keys = ring;
    this.kids = [...ring.keys()];
    this.kid = this.kids[0];
  }

  has(kid: string): boolean {
    return this.#keys.has(kid);
  }

  /** Seals a data key under the encrypting key; `aad` must name this.kid. Returns `iv.tag.ciphertext`. */
  wrap(dataKey: Buffer, aad: Buffer): string {
    const { iv, tag, ciphertext } = seal(this.#keys.get(this.kid)!, dataKey, aad);
    return [iv, tag, ciphertext].map((part) => part.toString('base64')).join('.');
  }

  /** Opens a data key sealed by `wrap` under the key `kid`. */
  unwrap(kid: string, wrappedKey: string, aad: Buffer): Buffer {
    const key = this.#keys.get(kid);
    if (key === undefined) {
      throw new SecretDecryptionError(
        SecretsErrorCode.EnvelopeKeyUnknown,
        `The secret was encrypted with master key ${JSON.stringify(kid)}, which is not loaded (loaded: ${this.kids.join(', ')}). ` +
          `Add that key after the current one in ${MASTER_KEY_ENV}.`,
      );
    }
    const parts = wrappedKey.split('.').map(decodeBase64);
    const [iv, tag, ciphertext] = parts;
    const dataKey = parts.length === 3 && iv && tag && ciphertext ? open(key, { iv, tag, ciphertext }, aad) : null;
    if (dataKey === null || dataKey.length !== KEY_BYTES) {
      throw new SecretDecryptionError(SecretsErrorCode.DecryptionFailed, 'The secret could not be decrypted: its envelope was altered or is corrupt.');
    }
    return dataKey;
  }

  toJSON(): { kid: string; kids: readonly string[] } {
    return { kid: this.kid, kids: this.kids };
  }
}

/** A fresh key for `npm start` to create a local development key: base64 of 32 random bytes. */
export function generateMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/**
 * Reads the keyring from LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE (both may be set only
 * if they agree). Throws MasterKeyError with what to set; messages never contain key material.
 */
/**
 * The master key when one is configured, else undefined: connectors need it only to open builtin
 * secrets and protect generated passwords. A key that is set but wrong still fails start-up.
 */
export function loadOptionalMasterKey(env: MasterKeySettings): MasterKey | undefined {
  return nonEmpty(env[MASTER_KEY_ENV]) === undefined && nonEmpty(env[MASTER_KEY_FILE_ENV]) === undefined ? undefined : loadMasterKey(env);
}

/** The two settings a master key is read from (any environment object that has them). */
export interface MasterKeySettings {
  LATCHKEY_MASTER_KEY?: string;
  LATCHKEY_MASTER_KEY_FILE?: string;
}

export function loadMasterKey(env: MasterKeySettings): MasterKey {
  const inline = nonEmpty(env[MASTER_KEY_ENV]);
  const path = nonEmpty(env[MASTER_KEY_FILE_ENV]);
  if (inline === undefined && path === undefined) {
    throw new MasterKeyError(SecretsErrorCode.MasterKeyMissing, `No master key: neither ${MASTER_KEY_ENV} nor ${MASTER_KEY_FILE_ENV} is set. ${HOW_TO}`);
  }
  const fromEnv = inline === undefined ? undefined : parseKeyring(inline, MASTER_KEY_ENV);
  const fromFile = path === undefined ? undefined : parseKeyring(readKeyFile(path), `${MASTER_KEY_FILE_ENV} (${path})`);
  if (fromEnv && fromFile && !sameKeys(fromEnv, fromFile)) {
    throw new MasterKeyError(
      SecretsErrorCode.MasterKeyConflict,
      `${MASTER_KEY_ENV} and ${MASTER_KEY_FILE_ENV} are both set but hold different keys. Set only one of them.`,
    );
  }
  return new MasterKey((fromEnv ?? fromFile)!);
}

function fingerprint(key: Buffer): string {
  // Domain-separated so the kid is not a bare hash of the key usable elsewhere.
  return createHash('sha256').update('latchkey/master-key-id/v1\0').update(key).digest('hex').slice(0, 16);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseKeyring(value: string, source: string): Buffer[] {
  const entries = value.split(/[\s,]+/).filter((entry) => entry !== '');
  if (entries.length === 0) {
    throw new MasterKeyError(SecretsErrorCode.MasterKeyInvalid, `${source} holds no key. ${HOW_TO}`);
  }
  return entries.map((entry, index) => parseKey(entry, entries.length === 1 ? source : `${source}, key ${index + 1} of ${entries.length},`));
}

function parseKey(entry: string, label: string): Buffer {
  let problem: string;
  if (/^[0-9a-fA-F]+$/.test(entry)) {
    if (entry.length === 2 * KEY_BYTES) return Buffer.from(entry, 'hex');
    problem = `looks like hex but has ${entry.length} characters instead of ${2 * KEY_BYTES}`;
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(entry)) {
    const bytes = Buffer.from(entry, 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
    problem = `decodes from base64 to ${bytes.length} bytes instead of ${KEY_BYTES}`;
  } else {
    problem = 'is neither base64 nor hex';
  }
  throw new MasterKeyError(SecretsErrorCode.MasterKeyInvalid, `${label} is not a valid master key: it ${problem}. ${HOW_TO}`);
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'it does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : `read failed (${code ?? 'unknown error'})`;
    throw new MasterKeyError(SecretsErrorCode.MasterKeyFileUnreadable, `${MASTER_KEY_FILE_ENV} (${path}) cannot be read: ${reason}. ${HOW_TO}`);
  }
}

function sameKeys(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a.length === b.length && a.every((key, index) => key.equals(b[index]));
}
