import fsPromises from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretView } from '@latchkey/contracts';
import { MasterKey } from './master-key';
import { resolveSecret, toSecretRef, toSecretView } from './secret-resolver';
import { SecretDecryptionError, SecretResolutionError, SecretsErrorCode } from './secrets.exception';

const key = new MasterKey([randomBytes(32)]);
const credentials = { username: 'connector', password: 'S3cr3t-p4ssw0rd' };

async function resolutionError(promise: Promise<unknown>): Promise<SecretResolutionError> {
  const error = await promise.then(
    () => {
      throw new Error('resolveSecret resolved');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SecretResolutionError);
  return error as SecretResolutionError;
}

describe('toSecretRef', () => {
  it('encrypts builtin credentials and keeps nothing of them in clear', () => {
    const ref = toSecretRef({ store: 'builtin', ...credentials }, key);
    expect(ref.store).toBe('builtin');
    expect(Object.keys(ref)).toEqual(['store', 'envelope']);
    expect(JSON.stringify(ref)).not.toContain(credentials.password);
    expect(JSON.stringify(ref)).not.toContain(credentials.username);
  });

  it('keeps env and file references as they are', () => {
    expect(toSecretRef({ store: 'env', usernameVar: 'PG_USER', passwordVar: 'PG_PASSWORD' }, key)).toEqual({
      store: 'env',
      usernameVar: 'PG_USER',
      passwordVar: 'PG_PASSWORD',
    });
    expect(toSecretRef({ store: 'file', path: '/run/secrets/pg.json' }, key)).toEqual({ store: 'file', path: '/run/secrets/pg.json' });
  });
});

describe('toSecretView', () => {
  it('shows where a secret lives, never its content', () => {
    const builtin = toSecretView(toSecretRef({ store: 'builtin', ...credentials }, key));
    expect(builtin).toEqual({ store: 'builtin' });
    expect(SecretView.parse(builtin)).toEqual(builtin);
    const env = { store: 'env', usernameVar: 'PG_USER', passwordVar: 'PG_PASSWORD' } as const;
    expect(toSecretView(env)).toEqual(env);
    expect(toSecretView({ store: 'file', path: '/run/secrets/pg.json' })).toEqual({ store: 'file', path: '/run/secrets/pg.json' });
  });
});

describe('resolveSecret', () => {
  describe('builtin', () => {
    const ref = toSecretRef({ store: 'builtin', ...credentials }, key);

    it('decrypts with the master key', async () => {
      await expect(resolveSecret(ref, { masterKey: key })).resolves.toEqual(credentials);
    });

    it('needs a master key', async () => {
      const error = await resolutionError(resolveSecret(ref, {}));
      expect(error.code).toBe(SecretsErrorCode.MasterKeyRequired);
      expect(error.message).toContain('LATCHKEY_MASTER_KEY');
    });

    it('fails with the wrong master key', async () => {
      await expect(resolveSecret(ref, { masterKey: new MasterKey([randomBytes(32)]) })).rejects.toBeInstanceOf(SecretDecryptionError);
    });
  });

  describe('env', () => {
    const ref = { store: 'env', usernameVar: 'PG_USER', passwordVar: 'PG_PASSWORD' } as const;

    it('reads both variables', async () => {
      await expect(resolveSecret(ref, { env: { PG_USER: 'u', PG_PASSWORD: 'p w ' } })).resolves.toEqual({ username: 'u', password: 'p w ' });
    });

    it('reads process.env by default', async () => {
      const names = { usernameVar: `LK_TEST_USER_${process.pid}`, passwordVar: `LK_TEST_PASSWORD_${process.pid}` };
      process.env[names.usernameVar] = 'from-process';
      process.env[names.passwordVar] = 'process-password';
      try {
        await expect(resolveSecret({ store: 'env', ...names }, {})).resolves.toEqual({ username: 'from-process', password: 'process-password' });
      } finally {
        delete process.env[names.usernameVar];
        delete process.env[names.passwordVar];
      }
    });

    it.each([
      ['unset', { PG_USER: 'u' }, 'PG_PASSWORD', 'not set'],
      ['empty', { PG_USER: 'u', PG_PASSWORD: '' }, 'PG_PASSWORD', 'empty'],
      ['unset username', { PG_PASSWORD: credentials.password }, 'PG_USER', 'not set'],
    ])('names a variable that is %s, never a value', async (_, env, name, problem) => {
      const error = await resolutionError(resolveSecret(ref, { env }));
      expect(error.code).toBe(SecretsErrorCode.EnvVarMissing);
      expect(error.message).toContain(name);
      expect(error.message).toContain(problem);
      expect(error.message).not.toContain(credentials.password);
    });

    it.each([['LATCHKEY_ADMIN_TOKEN'], ['LATCHKEY_MASTER_KEY'], ['REDIS_URL'], ['OIDC_CLIENT_SECRET'], ['latchkey_database_url']])(
      'refuses to read %s, a variable of Latchkey itself, and never shows its value',
      async (name) => {
        const env = { PG_USER: 'u', [name]: 'the-value-of-a-latchkey-variable' };
        const error = await resolutionError(resolveSecret({ ...ref, passwordVar: name }, { env }));
        expect(error.code).toBe(SecretsErrorCode.SourceForbidden);
        expect(error.message).toContain(name);
        expect(error.message).not.toContain('the-value-of-a-latchkey-variable');
      },
    );
  });

  describe('file', () => {
    let dir: string;
    let path: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'latchkey-secret-'));
      path = join(dir, 'credentials.json');
    });
    afterEach(() => {
      jest.restoreAllMocks();
      rmSync(dir, { recursive: true, force: true });
    });

    const write = (content: string): void => writeFileSync(path, content);

    it('reads {"username","password"}, ignoring other fields and a byte order mark', async () => {
      write(`\uFEFF${JSON.stringify({ ...credentials, host: 'db' })}`);
      await expect(resolveSecret({ store: 'file', path }, {})).resolves.toEqual(credentials);
    });

    it('re-reads the file on every call, so a rotated mount takes effect at once', async () => {
      write(JSON.stringify(credentials));
      await expect(resolveSecret({ store: 'file', path }, {})).resolves.toEqual(credentials);
      write(JSON.stringify({ username: 'connector', password: 'rotated' }));
      await expect(resolveSecret({ store: 'file', path }, {})).resolves.toEqual({ username: 'connector', password: 'rotated' });
    });

    it("refuses Latchkey's own key files: the master key file (even through a symlink) and .latchkey/", async () => {
      const keyFile = join(dir, 'master.key');
      writeFileSync(keyFile, JSON.stringify(credentials));
      symlinkSync(keyFile, path);
      const env = { LATCHKEY_MASTER_KEY_FILE: keyFile };
      for (const target of [keyFile, path]) {
        const error = await resolutionError(resolveSecret({ store: 'file', path: target }, { env }));
        expect(error.code).toBe(SecretsErrorCode.SourceForbidden);
        expect(error.message).not.toContain(credentials.password);
      }
      const state = join(dir, '.latchkey');
      mkdirSync(state);
      writeFileSync(join(state, 'admin-token'), JSON.stringify(credentials));
      const error = await resolutionError(resolveSecret({ store: 'file', path: join(state, 'admin-token') }, {}));
      expect(error.code).toBe(SecretsErrorCode.SourceForbidden);
    });

    it('names a missing file', async () => {
      const error = await resolutionError(resolveSecret({ store: 'file', path }, {}));
      expect(error.code).toBe(SecretsErrorCode.FileNotFound);
      expect(error.message).toBe(`Secret file ${path}: not found.`);
    });

    it('says when the path is a directory', async () => {
      mkdirSync(path);
      const error = await resolutionError(resolveSecret({ store: 'file', path }, {}));
      expect(error.code).toBe(SecretsErrorCode.FileUnreadable);
      expect(error.message).toContain('is a directory');
    });

    it('says when permission is denied', async () => {
      write(JSON.stringify(credentials));
      chmodSync(path, 0o000);
      // root reads any file, so there the refusal is simulated.
      if (process.getuid?.() === 0) {
        jest.spyOn(fsPromises, 'readFile').mockRejectedValueOnce(Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' }));
      }
      const error = await resolutionError(resolveSecret({ store: 'file', path }, {}));
      expect(error.code).toBe(SecretsErrorCode.FilePermissionDenied);
      expect(error.message).toBe(`Secret file ${path}: permission denied.`);
    });

    it.each([
      ['not JSON', `username=connector\npassword=${credentials.password}`, SecretsErrorCode.FileNotJson, 'is not valid JSON'],
      ['truncated JSON', `{"username":"connector","password":"${credentials.password}`, SecretsErrorCode.FileNotJson, 'is not valid JSON'],
      ['a JSON array', JSON.stringify([credentials.username, credentials.password]), SecretsErrorCode.FileInvalid, 'must hold a JSON object'],
      ['a JSON string', JSON.stringify(credentials.password), SecretsErrorCode.FileInvalid, 'must hold a JSON object'],
      ['no password', JSON.stringify({ username: 'connector', pasword: credentials.password }), SecretsErrorCode.FileInvalid, 'field "password" is missing'],
      ['no username', JSON.stringify({ password: credentials.password }), SecretsErrorCode.FileInvalid, 'field "username" is missing'],
      [
        'a number as password',
        JSON.stringify({ username: 'connector', password: 12345678 }),
        SecretsErrorCode.FileInvalid,
        'field "password" must be a string',
      ],
      ['an empty username', JSON.stringify({ username: '', password: credentials.password }), SecretsErrorCode.FileInvalid, 'field "username" is empty'],
    ])('rejects a file holding %s, naming the path and the problem but not the content', async (_, content, code, problem) => {
      write(content);
      const error = await resolutionError(resolveSecret({ store: 'file', path }, {}));
      expect(error.code).toBe(code);
      expect(error.message).toContain(path);
      expect(error.message).toContain(problem);
      expect(error.message).not.toContain(credentials.password);
      expect(error.message).not.toContain('12345678');
    });
  });
});
