// The default import is the module object itself, so a spy on it reaches the code under test.
import fs, { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { MasterKey, generateMasterKey, loadMasterKey } from './master-key';
import { MasterKeyError, SecretsErrorCode } from './secrets.exception';

/** Fails if any 8-character run of the key, as base64 or hex, shows up in the text. */
function expectNoKeyMaterial(text: string, ...keys: Buffer[]): void {
  for (const key of keys) {
    for (const encoded of [key.toString('base64'), key.toString('hex')]) {
      for (let i = 0; i + 8 <= encoded.length; i += 1) expect(text).not.toContain(encoded.slice(i, i + 8));
    }
  }
}

function loadError(env: Record<string, string | undefined>): MasterKeyError {
  try {
    loadMasterKey(env);
  } catch (error) {
    expect(error).toBeInstanceOf(MasterKeyError);
    return error as MasterKeyError;
  }
  throw new Error('loadMasterKey did not throw');
}

describe('generateMasterKey', () => {
  it('returns base64 of 32 fresh random bytes, loadable as is', () => {
    const a = generateMasterKey();
    const b = generateMasterKey();
    expect(Buffer.from(a, 'base64')).toHaveLength(32);
    expect(a).toHaveLength(44);
    expect(a).not.toBe(b);
    expect(loadMasterKey({ LATCHKEY_MASTER_KEY: a }).kid).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('loadMasterKey', () => {
  const bytes = randomBytes(32);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-master-key-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts base64 and hex of the same key, with the same kid', () => {
    const fromBase64 = loadMasterKey({ LATCHKEY_MASTER_KEY: bytes.toString('base64') });
    const fromHex = loadMasterKey({ LATCHKEY_MASTER_KEY: bytes.toString('hex').toUpperCase() });
    expect(fromBase64.kid).toBe(fromHex.kid);
    expect(fromBase64.kids).toEqual([fromBase64.kid]);
  });

  it('accepts url-safe and unpadded base64', () => {
    const urlSafe = bytes.toString('base64url');
    expect(loadMasterKey({ LATCHKEY_MASTER_KEY: urlSafe }).kid).toBe(new MasterKey([bytes]).kid);
  });

  it('derives the kid from a domain-separated hash, not a bare hash of the key', () => {
    const { kid } = new MasterKey([bytes]);
    expect(kid).toMatch(/^[0-9a-f]{16}$/);
    expect(createHash('sha256').update(bytes).digest('hex')).not.toContain(kid);
    expectNoKeyMaterial(kid, bytes);
  });

  it('reads a key file, trimming whitespace', () => {
    const path = join(dir, 'master.key');
    writeFileSync(path, `  ${bytes.toString('base64')}\n`);
    expect(loadMasterKey({ LATCHKEY_MASTER_KEY_FILE: path }).kid).toBe(new MasterKey([bytes]).kid);
  });

  it('accepts both variables when they hold the same key', () => {
    const path = join(dir, 'master.key');
    writeFileSync(path, bytes.toString('hex'));
    expect(loadMasterKey({ LATCHKEY_MASTER_KEY: bytes.toString('base64'), LATCHKEY_MASTER_KEY_FILE: path }).kid).toBe(new MasterKey([bytes]).kid);
  });

  it('loads a keyring: the first key encrypts, all are known, separated by commas or whitespace', () => {
    const older = randomBytes(32);
    const ring = loadMasterKey({ LATCHKEY_MASTER_KEY: `${bytes.toString('base64')}, ${older.toString('hex')},` });
    expect(ring.kid).toBe(new MasterKey([bytes]).kid);
    expect(ring.kids).toEqual([ring.kid, new MasterKey([older]).kid]);
    expect(ring.has(new MasterKey([older]).kid)).toBe(true);

    const path = join(dir, 'keyring');
    writeFileSync(path, `${bytes.toString('base64')}\n${older.toString('base64')}\n`);
    expect(loadMasterKey({ LATCHKEY_MASTER_KEY_FILE: path }).kids).toEqual(ring.kids);
  });

  it('keeps key bytes out of JSON and inspection', () => {
    const key = new MasterKey([bytes]);
    expectNoKeyMaterial(JSON.stringify(key), bytes);
    expectNoKeyMaterial(inspect(key, { showHidden: true, depth: 5 }), bytes);
    expectNoKeyMaterial(JSON.stringify({ ...key }), bytes);
  });

  it('copies the key bytes it is given', () => {
    const mutable = Buffer.from(bytes);
    const key = new MasterKey([mutable]);
    mutable.fill(0);
    expect(key.kid).toBe(new MasterKey([bytes]).kid);
  });

  describe('refuses to start, saying what to set and never echoing key material', () => {
    it('when neither variable is set (empty counts as unset)', () => {
      for (const env of [{}, { LATCHKEY_MASTER_KEY: '', LATCHKEY_MASTER_KEY_FILE: '  ' }]) {
        const error = loadError(env);
        expect(error.code).toBe(SecretsErrorCode.MasterKeyMissing);
        expect(error.message).toContain('LATCHKEY_MASTER_KEY ');
        expect(error.message).toContain('LATCHKEY_MASTER_KEY_FILE');
        expect(error.message).toContain('openssl rand -base64 32');
      }
    });

    it.each([
      ['16 bytes of base64', randomBytes(16).toString('base64'), /decodes from base64 to 16 bytes/],
      ['33 bytes of base64', randomBytes(33).toString('base64'), /decodes from base64 to 33 bytes/],
      ['62 hex characters', randomBytes(31).toString('hex'), /hex but has 62 characters/],
      ['not base64 nor hex', `${bytes.toString('base64').slice(0, 40)}!@#$`, /neither base64 nor hex/],
    ])('when the key is %s', (_, value, problem) => {
      const error = loadError({ LATCHKEY_MASTER_KEY: value });
      expect(error.code).toBe(SecretsErrorCode.MasterKeyInvalid);
      expect(error.message).toMatch(problem);
      expect(error.message).toContain('openssl rand -base64 32');
      expect(error.message).not.toContain(value);
      expectNoKeyMaterial(error.message, Buffer.from(value, 'base64'), bytes);
    });

    it('when one key of a keyring is bad, saying which', () => {
      const bad = randomBytes(20);
      const error = loadError({ LATCHKEY_MASTER_KEY: `${bytes.toString('base64')},${bad.toString('base64')}` });
      expect(error.code).toBe(SecretsErrorCode.MasterKeyInvalid);
      expect(error.message).toContain('key 2 of 2');
      expectNoKeyMaterial(error.message, bytes, bad);
    });

    it('when the key file does not exist', () => {
      const path = join(dir, 'missing.key');
      const error = loadError({ LATCHKEY_MASTER_KEY_FILE: path });
      expect(error.code).toBe(SecretsErrorCode.MasterKeyFileUnreadable);
      expect(error.message).toContain(path);
      expect(error.message).toContain('does not exist');
    });

    it('when the key file is a directory', () => {
      const error = loadError({ LATCHKEY_MASTER_KEY_FILE: dir });
      expect(error.code).toBe(SecretsErrorCode.MasterKeyFileUnreadable);
      expect(error.message).toContain('is a directory');
    });

    it('when the key file is not readable', () => {
      const path = join(dir, 'master.key');
      writeFileSync(path, bytes.toString('base64'));
      chmodSync(path, 0o000);
      // root reads any file, so there the refusal is simulated.
      if (process.getuid?.() === 0) {
        jest.spyOn(fs, 'readFileSync').mockImplementationOnce(() => {
          throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
        });
      }
      const error = loadError({ LATCHKEY_MASTER_KEY_FILE: path });
      expect(error.code).toBe(SecretsErrorCode.MasterKeyFileUnreadable);
      expect(error.message).toContain('permission denied');
      expectNoKeyMaterial(error.message, bytes);
    });

    it('when the key file holds something else than a key', () => {
      const path = join(dir, 'master.key');
      const content = randomBytes(24).toString('base64');
      writeFileSync(path, content);
      const error = loadError({ LATCHKEY_MASTER_KEY_FILE: path });
      expect(error.code).toBe(SecretsErrorCode.MasterKeyInvalid);
      expect(error.message).toContain(path);
      expect(error.message).not.toContain(content);
    });

    it('when the key file is empty', () => {
      const path = join(dir, 'master.key');
      writeFileSync(path, '\n');
      expect(loadError({ LATCHKEY_MASTER_KEY_FILE: path }).message).toContain('holds no key');
    });

    it('when both variables are set to different keys', () => {
      const other = randomBytes(32);
      const path = join(dir, 'master.key');
      writeFileSync(path, other.toString('base64'));
      const error = loadError({ LATCHKEY_MASTER_KEY: bytes.toString('base64'), LATCHKEY_MASTER_KEY_FILE: path });
      expect(error.code).toBe(SecretsErrorCode.MasterKeyConflict);
      expect(error.message).toContain('Set only one');
      expectNoKeyMaterial(error.message, bytes, other);
    });

    it('when a keyring is built from a key of the wrong size', () => {
      expect(() => new MasterKey([randomBytes(16)])).toThrow(MasterKeyError);
      expect(() => new MasterKey([])).toThrow(MasterKeyError);
    });
  });
});
